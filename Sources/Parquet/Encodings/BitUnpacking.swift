/// LSB-first bit unpacking (the order of the RLE/bit-packing hybrid and of DELTA_BINARY_PACKED
/// miniblocks): value i occupies bits [i*w, (i+1)*w) of the little-endian bit stream.

/// Bytes needed to hold `count` values of `bitWidth` bits, or nil if that overflows.
@inline(__always)
func packedByteCount(count: Int, bitWidth: Int) -> Int? {
    let (bits, overflow) = count.multipliedReportingOverflow(by: bitWidth)
    guard !overflow, count >= 0, bitWidth >= 0, bits <= Int.max - 7 else { return nil }
    return (bits + 7) >> 3
}

/// Unpack `count` values of `bitWidth` (0...32) bits from `src` into `out` (room for `count`).
func unpackBits(_ src: UnsafeRawBufferPointer, bitWidth: Int, count: Int,
                into out: UnsafeMutablePointer<UInt32>) throws {
    guard (0...32).contains(bitWidth) else {
        throw ParquetError(.invalidArgument, "bit width \(bitWidth) is outside 0...32")
    }
    guard let needed = packedByteCount(count: count, bitWidth: bitWidth) else {
        throw ParquetError(.invalidArgument, "cannot unpack \(count) values of \(bitWidth) bits")
    }
    guard src.count >= needed else {
        throw ParquetError.truncated("\(count) values of \(bitWidth) bits need \(needed) bytes, \(src.count) present")
    }
    guard count > 0 else { return }
    guard bitWidth > 0, let base = src.baseAddress else {
        out.initialize(repeating: 0, count: count)
        return
    }
    unpack32Unchecked(base, byteCount: src.count, bitWidth: bitWidth, count: count, into: out)
}

/// Unpack `count` values of `bitWidth` (0...64) bits from `src` into `out` (room for `count`).
func unpackBits64(_ src: UnsafeRawBufferPointer, bitWidth: Int, count: Int,
                  into out: UnsafeMutablePointer<UInt64>) throws {
    guard (0...64).contains(bitWidth) else {
        throw ParquetError(.invalidArgument, "bit width \(bitWidth) is outside 0...64")
    }
    guard let needed = packedByteCount(count: count, bitWidth: bitWidth) else {
        throw ParquetError(.invalidArgument, "cannot unpack \(count) values of \(bitWidth) bits")
    }
    guard src.count >= needed else {
        throw ParquetError.truncated("\(count) values of \(bitWidth) bits need \(needed) bytes, \(src.count) present")
    }
    guard count > 0 else { return }
    guard bitWidth > 0, let base = src.baseAddress else {
        out.initialize(repeating: 0, count: count)
        return
    }
    unpack64Unchecked(base, byteCount: src.count, bitWidth: bitWidth, count: count, into: out)
}

// MARK: - Kernels (callers have checked: 1 <= bitWidth, byteCount >= ceil(count * bitWidth / 8), out has room for count)

/// Dispatches to a kernel specialised for the width, so shifts and offsets are constants.
func unpack32Unchecked(_ src: UnsafeRawPointer, byteCount: Int, bitWidth: Int, count: Int,
                       into out: UnsafeMutablePointer<UInt32>) {
    switch bitWidth {
    case 8: widenBytes(src, count: count, into: out)
    case 16: widenLittleEndian16(src, count: count, into: out)
    case 32: copyLittleEndian32(src, count: count, into: out)
    case 1: unpackGroups(src, byteCount, 1, count, out)
    case 2: unpackGroups(src, byteCount, 2, count, out)
    case 3: unpackGroups(src, byteCount, 3, count, out)
    case 4: unpackGroups(src, byteCount, 4, count, out)
    case 5: unpackGroups(src, byteCount, 5, count, out)
    case 6: unpackGroups(src, byteCount, 6, count, out)
    case 7: unpackGroups(src, byteCount, 7, count, out)
    case 9: unpackGroups(src, byteCount, 9, count, out)
    case 10: unpackGroups(src, byteCount, 10, count, out)
    case 11: unpackGroups(src, byteCount, 11, count, out)
    case 12: unpackGroups(src, byteCount, 12, count, out)
    case 13: unpackGroups(src, byteCount, 13, count, out)
    case 14: unpackGroups(src, byteCount, 14, count, out)
    case 15: unpackGroups(src, byteCount, 15, count, out)
    case 17: unpackGroups(src, byteCount, 17, count, out)
    case 18: unpackGroups(src, byteCount, 18, count, out)
    case 19: unpackGroups(src, byteCount, 19, count, out)
    case 20: unpackGroups(src, byteCount, 20, count, out)
    case 21: unpackGroups(src, byteCount, 21, count, out)
    case 22: unpackGroups(src, byteCount, 22, count, out)
    case 23: unpackGroups(src, byteCount, 23, count, out)
    case 24: unpackGroups(src, byteCount, 24, count, out)
    case 25: unpackGroups(src, byteCount, 25, count, out)
    case 26: unpackGroups(src, byteCount, 26, count, out)
    case 27: unpackGroups(src, byteCount, 27, count, out)
    case 28: unpackGroups(src, byteCount, 28, count, out)
    case 29: unpackGroups(src, byteCount, 29, count, out)
    case 30: unpackGroups(src, byteCount, 30, count, out)
    default: unpackGroups(src, byteCount, 31, count, out)
    }
}

/// Width-generic 64-bit kernel (used by DELTA_BINARY_PACKED, where widths change per miniblock).
func unpack64Unchecked(_ src: UnsafeRawPointer, byteCount: Int, bitWidth w: Int, count: Int,
                       into out: UnsafeMutablePointer<UInt64>) {
    let mask: UInt64 = w == 64 ? ~0 : (1 &<< UInt64(w)) &- 1
    // Group g's loads end before byte g*w + w + 9, so groups below `safeGroups` stay in bounds.
    let fullGroups = count >> 3
    let safeGroups = byteCount >= w + 9 ? min(fullGroups, (byteCount - w - 9) / w + 1) : 0
    var g = 0
    while g < safeGroups {
        let p = src + g &* w
        let o = out + g &* 8
        for i in 0..<8 {
            let bit = i &* w
            let shift = UInt64(bit & 7)
            var v = UInt64(littleEndian: p.loadUnaligned(fromByteOffset: bit >> 3, as: UInt64.self)) &>> shift
            if w > 56 && shift > 0 {
                v |= UInt64(p.load(fromByteOffset: (bit >> 3) &+ 8, as: UInt8.self)) &<< (64 &- shift)
            }
            o[i] = v & mask
        }
        g &+= 1
    }
    for i in (g &* 8)..<count {
        out[i] = readBitsScalar(src, bitOffset: i &* w, bitWidth: w)
    }
}

/// 8 values per group, one unaligned 64-bit load per value; the tail that a full 8-byte load
/// could overrun goes through the byte-at-a-time reader.
@inline(__always)
private func unpackGroups(_ src: UnsafeRawPointer, _ byteCount: Int, _ w: Int, _ count: Int,
                          _ out: UnsafeMutablePointer<UInt32>) {
    let mask: UInt64 = (1 &<< UInt64(w)) &- 1
    // Group g's loads end before byte g*w + w + 8, so groups below `safeGroups` stay in bounds.
    let fullGroups = count >> 3
    let safeGroups = byteCount >= w + 8 ? min(fullGroups, (byteCount - w - 8) / w + 1) : 0
    var g = 0
    while g < safeGroups {
        let p = src + g &* w
        let o = out + g &* 8
        for i in 0..<8 {
            let bit = i &* w
            let word = UInt64(littleEndian: p.loadUnaligned(fromByteOffset: bit >> 3, as: UInt64.self))
            o[i] = UInt32(truncatingIfNeeded: (word &>> UInt64(bit & 7)) & mask)
        }
        g &+= 1
    }
    for i in (g &* 8)..<count {
        out[i] = UInt32(truncatingIfNeeded: readBitsScalar(src, bitOffset: i &* w, bitWidth: w))
    }
}

/// Reads one value touching only the bytes that hold its bits (bitWidth 1...64).
@inline(__always)
private func readBitsScalar(_ src: UnsafeRawPointer, bitOffset: Int, bitWidth: Int) -> UInt64 {
    var byteIndex = bitOffset >> 3
    let shift = bitOffset & 7
    var value = UInt64(src.load(fromByteOffset: byteIndex, as: UInt8.self)) &>> UInt64(shift)
    var have = 8 - shift
    while have < bitWidth {
        byteIndex &+= 1
        value |= UInt64(src.load(fromByteOffset: byteIndex, as: UInt8.self)) &<< UInt64(have)
        have &+= 8
    }
    return bitWidth == 64 ? value : value & ((1 &<< UInt64(bitWidth)) &- 1)
}

/// Width 8: every byte is a value.
@inline(__always)
private func widenBytes(_ src: UnsafeRawPointer, count: Int, into out: UnsafeMutablePointer<UInt32>) {
    for i in 0..<count { out[i] = UInt32(src.load(fromByteOffset: i, as: UInt8.self)) }
}

/// Width 16: little-endian 16-bit values.
@inline(__always)
private func widenLittleEndian16(_ src: UnsafeRawPointer, count: Int, into out: UnsafeMutablePointer<UInt32>) {
    for i in 0..<count {
        out[i] = UInt32(UInt16(littleEndian: src.loadUnaligned(fromByteOffset: i &* 2, as: UInt16.self)))
    }
}

/// Width 32: little-endian 32-bit values.
@inline(__always)
private func copyLittleEndian32(_ src: UnsafeRawPointer, count: Int, into out: UnsafeMutablePointer<UInt32>) {
    for i in 0..<count {
        out[i] = UInt32(littleEndian: src.loadUnaligned(fromByteOffset: i &* 4, as: UInt32.self))
    }
}

// MARK: - Packing (writers)

/// Appends `values` packed LSB-first at `bitWidth` (0...64) bits, padding the last byte with zeros.
/// Bits of a value above `bitWidth` are dropped.
func packBits<C: Collection>(_ values: C, bitWidth: Int, into out: inout [UInt8]) where C.Element == UInt64 {
    guard bitWidth > 0 else { return }
    var acc: UInt64 = 0     // pending bits, LSB first
    var accBits = 0
    let mask: UInt64 = bitWidth == 64 ? ~0 : (1 &<< UInt64(bitWidth)) &- 1
    for raw in values {
        let v = raw & mask
        acc |= v &<< UInt64(accBits)
        let room = 64 - accBits
        if bitWidth >= room {
            // acc is full: emit 8 bytes, keep the bits of v that did not fit.
            for b in 0..<8 { out.append(UInt8(truncatingIfNeeded: acc &>> UInt64(8 * b))) }
            acc = room == 64 ? 0 : v &>> UInt64(room)
            accBits = bitWidth - room
        } else {
            accBits += bitWidth
        }
    }
    var b = 0
    while b < accBits {
        out.append(UInt8(truncatingIfNeeded: acc &>> UInt64(b)))
        b += 8
    }
}
