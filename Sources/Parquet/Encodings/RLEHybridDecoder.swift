/// One run of the RLE / bit-packing hybrid, as handed out by `RLEHybridDecoder.nextRun`.
enum RLERun {
    /// `value` repeated `count` times.
    case repeated(value: UInt32, count: Int)
    /// Values `firstValue..<firstValue+count` of the LSB-first bit-packed run `bytes` (packed at the
    /// decoder's bit width). For bit width 8 those are `bytes[firstValue..<firstValue+count]`.
    case bitPacked(bytes: UnsafeRawBufferPointer, firstValue: Int, count: Int)

    var count: Int {
        switch self {
        case .repeated(_, let count): count
        case .bitPacked(_, _, let count): count
        }
    }
}

/// Decoder of the RLE / bit-packing hybrid (levels, dictionary indices, RLE booleans).
/// `data` is the encoded runs without any 4-byte length prefix.
///
/// A final bit-packed run whose last group is cut short (a writer that trimmed the zero padding)
/// yields the values whose bits are all present, as parquet-cpp does; a run missing more than its
/// last group's bytes is `.truncated`.
struct RLEHybridDecoder {
    let data: UnsafeRawBufferPointer
    let bitWidth: Int
    /// Offset of the next run header.
    private var position = 0
    private var repeatedValue: UInt32 = 0
    private var repeatedLeft = 0
    private var packedBytes = UnsafeRawBufferPointer(start: nil, count: 0)
    private var packedNext = 0
    private var packedCount = 0

    init(_ data: UnsafeRawBufferPointer, bitWidth: Int) throws {
        guard (0...32).contains(bitWidth) else {
            throw ParquetError.corruptPage("RLE bit width \(bitWidth) is outside 0...32")
        }
        self.data = data
        self.bitWidth = bitWidth
    }

    /// The next run, at most `maxValues` long (the rest of a longer run comes next time); nil at the end.
    mutating func nextRun(maxValues: Int) throws -> RLERun? {
        guard maxValues > 0 else {
            throw ParquetError(.invalidArgument, "nextRun(maxValues: \(maxValues)) needs a positive count")
        }
        if repeatedLeft == 0 && packedNext == packedCount {
            guard try readRunHeader() else { return nil }
        }
        if repeatedLeft > 0 {
            let n = min(maxValues, repeatedLeft)
            repeatedLeft -= n
            return .repeated(value: repeatedValue, count: n)
        }
        let n = min(maxValues, packedCount - packedNext)
        let first = packedNext
        packedNext += n
        return .bitPacked(bytes: packedBytes, firstValue: first, count: n)
    }

    /// Decodes exactly `out.count` values; throws `.truncated` if the data holds fewer.
    /// `T` must be at least `bitWidth` bits wide (a 32-bit width into Int32 keeps the bit pattern).
    mutating func decode<T: FixedWidthInteger>(into out: UnsafeMutableBufferPointer<T>) throws {
        guard bitWidth <= T.bitWidth else {
            throw ParquetError(.invalidArgument, "\(bitWidth)-bit values do not fit in \(T.self)")
        }
        guard let base = out.baseAddress else { return }
        var filled = 0
        while filled < out.count {
            guard let run = try nextRun(maxValues: out.count - filled) else {
                throw ParquetError.truncated("RLE data holds \(filled) values, \(out.count) expected")
            }
            switch run {
            case .repeated(let value, let n):
                (base + filled).update(repeating: T(truncatingIfNeeded: value), count: n)
                filled += n
            case .bitPacked(let bytes, let first, let n):
                try Self.unpack(bytes, bitWidth: bitWidth, firstValue: first, count: n, into: base + filled)
                filled += n
            }
        }
    }

    /// Reads the header (and repeated value) of the next run. False at the end of the data.
    private mutating func readRunHeader() throws -> Bool {
        guard position < data.count else { return false }
        var cursor = ByteCursor(data, position: position)
        let header = try cursor.readULEB128UInt32("RLE run header")
        let runLength = Int(header >> 1)
        guard runLength > 0 else {
            throw ParquetError.corruptPage("RLE run of zero values at byte \(position)")
        }
        if header & 1 == 0 {
            let value = try cursor.readLittleEndian(byteCount: (bitWidth + 7) / 8)
            guard value >> UInt64(bitWidth) == 0 else {
                throw ParquetError.corruptPage("RLE repeated value \(value) does not fit in \(bitWidth) bits")
            }
            repeatedValue = UInt32(truncatingIfNeeded: value)
            repeatedLeft = runLength
        } else {
            let declaredValues = runLength * 8
            let declaredBytes = runLength * bitWidth
            if declaredBytes <= cursor.remaining {
                packedBytes = try cursor.readBytes(declaredBytes)
                packedCount = declaredValues
            } else {
                // Only the last group may be short: keep the values whose bits are all present.
                let available = cursor.remaining
                let whole = available * 8 / bitWidth
                guard whole > declaredValues - 8 else {
                    throw ParquetError.truncated(
                        "bit-packed run of \(declaredValues) values needs \(declaredBytes) bytes, \(available) present")
                }
                packedBytes = try cursor.readBytes(available)
                packedCount = whole
            }
            packedNext = 0
        }
        position = cursor.position
        return true
    }

    /// Unpacks values `firstValue..<firstValue+count` of a bit-packed run into `out`.
    static func unpack<T: FixedWidthInteger>(_ bytes: UnsafeRawBufferPointer, bitWidth: Int, firstValue: Int,
                                             count: Int, into out: UnsafeMutablePointer<T>) throws {
        if T.self == UInt8.self && bitWidth == 8 {
            guard firstValue >= 0, count >= 0, firstValue <= bytes.count - count else {
                throw ParquetError.truncated("bit-packed values \(firstValue)..<\(firstValue + count) past \(bytes.count) bytes")
            }
            copyBytes(bytes, from: firstValue, count: count, into: UnsafeMutableRawPointer(out))
            return
        }
        var done = 0
        let misalignment = firstValue & 7
        if misalignment != 0 {
            // Values before the next group boundary: unpack their whole group prefix into scratch.
            let head = min(count, 8 - misalignment)
            let groupStart = firstValue - misalignment
            var scratch: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32) = (0, 0, 0, 0, 0, 0, 0, 0)
            try withUnsafeMutableBytes(of: &scratch) { raw in
                let values = raw.bindMemory(to: UInt32.self)
                guard let base = values.baseAddress else { return }
                try unpackBits(slice(bytes, fromBit: groupStart * bitWidth), bitWidth: bitWidth,
                               count: misalignment + head, into: base)
                for i in 0..<head { out[i] = T(truncatingIfNeeded: base[misalignment + i]) }
            }
            done = head
        }
        guard done < count else { return }
        let alignedBytes = try slice(bytes, fromBit: (firstValue + done) * bitWidth)
        if T.self == UInt32.self {
            try unpackBits(alignedBytes, bitWidth: bitWidth, count: count - done,
                           into: UnsafeMutableRawPointer(out + done).assumingMemoryBound(to: UInt32.self))
            return
        }
        // Other integer types: through a small stack buffer, one chunk of whole groups at a time.
        let chunk = 256
        try withUnsafeTemporaryAllocation(of: UInt32.self, capacity: chunk) { buffer in
            guard let scratch = buffer.baseAddress else { return }
            var chunkStart = 0
            let total = count - done
            while chunkStart < total {
                let n = min(chunk, total - chunkStart)
                try unpackBits(slice(alignedBytes, fromBit: chunkStart * bitWidth), bitWidth: bitWidth,
                               count: n, into: scratch)
                let dst = out + done + chunkStart
                for i in 0..<n { dst[i] = T(truncatingIfNeeded: scratch[i]) }
                chunkStart += n
            }
        }
    }

    /// `bytes` from the byte holding bit `bit` (a multiple of 8 here) to the end.
    @inline(__always)
    private static func slice(_ bytes: UnsafeRawBufferPointer, fromBit bit: Int) throws -> UnsafeRawBufferPointer {
        let start = bit >> 3
        guard start <= bytes.count else {
            throw ParquetError.truncated("bit-packed data ends at byte \(bytes.count), value starts at byte \(start)")
        }
        return UnsafeRawBufferPointer(rebasing: bytes[start...])
    }

    /// Copies `count` bytes from `bytes[start...]` (range checked by the caller) to `dst`.
    @inline(__always)
    private static func copyBytes(_ bytes: UnsafeRawBufferPointer, from start: Int, count: Int,
                                  into dst: UnsafeMutableRawPointer) {
        guard count > 0, let base = bytes.baseAddress else { return }
        dst.copyMemory(from: base + start, byteCount: count)
    }
}
