/// PLAIN decoding. Each function checks that `data` holds `count` values before allocating.
enum PlainDecoder {
    /// Bit-packed, LSB first.
    static func booleans(_ data: UnsafeRawBufferPointer, count: Int) throws -> [Bool] {
        guard count >= 0 else { throw negativeCount(count) }
        let needed = count / 8 + (count % 8 == 0 ? 0 : 1)
        guard data.count >= needed else {
            throw ParquetError.truncated("\(count) PLAIN booleans need \(needed) bytes, \(data.count) present")
        }
        return [Bool](unsafeUninitializedCapacity: count) { out, initialized in
            for i in 0..<count {
                out.initializeElement(at: i, to: (data[i >> 3] >> UInt8(i & 7)) & 1 == 1)
            }
            initialized = count
        }
    }

    /// Little-endian fixed-width values (INT32, INT64; FLOAT/DOUBLE as UInt32/UInt64 bit patterns).
    static func fixedWidth<T: FixedWidthInteger>(_ data: UnsafeRawBufferPointer, count: Int) throws -> [T] {
        guard count >= 0 else { throw negativeCount(count) }
        let size = MemoryLayout<T>.size
        guard count <= data.count / size else {
            throw ParquetError.truncated("\(count) PLAIN \(T.self) values need \(count) × \(size) bytes, \(data.count) present")
        }
        return [T](unsafeUninitializedCapacity: count) { out, initialized in
            copyLittleEndian(data, count: count, into: out)
            initialized = count
        }
    }

    /// Each value: a 4-byte little-endian length, then that many bytes.
    static func byteArrays(_ data: UnsafeRawBufferPointer, count: Int) throws -> BinaryValues {
        guard count >= 0 else { throw negativeCount(count) }
        guard count <= data.count / 4 else {
            throw ParquetError.truncated("\(count) PLAIN byte arrays need at least \(count) × 4 bytes, \(data.count) present")
        }
        var offsets = [Int]()
        offsets.reserveCapacity(count + 1)
        offsets.append(0)
        var cursor = ByteCursor(data)
        // Lengths first, so the byte buffer is allocated once at its exact size.
        var total = 0
        for i in 0..<count {
            let length = Int(try cursor.readLittleEndian(byteCount: 4))
            guard length <= cursor.remaining else {
                throw ParquetError.truncated("PLAIN byte array \(i) of \(length) bytes, \(cursor.remaining) left")
            }
            try cursor.skip(length)
            total += length
            offsets.append(total)
        }
        let bytes = [UInt8](unsafeUninitializedCapacity: total) { out, initialized in
            var src = 4
            for i in 0..<count {
                let start = offsets[i]
                let length = offsets[i + 1] - start
                copyRange(data, from: src, count: length, into: out, at: start)
                src += length + 4
            }
            initialized = total
        }
        return BinaryValues(offsets: offsets, bytes: bytes)
    }

    /// `width` bytes per value (FIXED_LEN_BYTE_ARRAY; INT96 with width 12).
    static func fixedLenByteArrays(_ data: UnsafeRawBufferPointer, width: Int, count: Int) throws -> BinaryValues {
        guard count >= 0 else { throw negativeCount(count) }
        guard width > 0 else {
            throw ParquetError(.invalidArgument, "FIXED_LEN_BYTE_ARRAY width \(width) must be positive")
        }
        guard count <= data.count / width else {
            throw ParquetError.truncated("\(count) PLAIN values of \(width) bytes, \(data.count) bytes present")
        }
        let total = count * width
        let offsets = [Int](unsafeUninitializedCapacity: count + 1) { out, initialized in
            for i in 0...count { out.initializeElement(at: i, to: i * width) }
            initialized = count + 1
        }
        let bytes = [UInt8](unsafeUninitializedCapacity: total) { out, initialized in
            copyRange(data, from: 0, count: total, into: out, at: 0)
            initialized = total
        }
        return BinaryValues(offsets: offsets, bytes: bytes)
    }

    private static func negativeCount(_ count: Int) -> ParquetError {
        ParquetError(.invalidArgument, "negative value count \(count)")
    }
}

/// Copies `count` little-endian `T`s from the start of `data` (which holds at least that many bytes) into `out`.
@inline(__always)
func copyLittleEndian<T: FixedWidthInteger>(_ data: UnsafeRawBufferPointer, count: Int,
                                            into out: UnsafeMutableBufferPointer<T>) {
    guard count > 0, let src = data.baseAddress, let dst = out.baseAddress else { return }
    UnsafeMutableRawPointer(dst).copyMemory(from: src, byteCount: count * MemoryLayout<T>.size)
    #if _endian(big)
    for i in 0..<count { dst[i] = T(littleEndian: dst[i]) }
    #endif
}

/// Copies `data[from..<from+count]` to `out[at..<at+count]` (both ranges checked by the caller).
@inline(__always)
func copyRange(_ data: UnsafeRawBufferPointer, from: Int, count: Int,
               into out: UnsafeMutableBufferPointer<UInt8>, at: Int) {
    guard count > 0, let src = data.baseAddress, let dst = out.baseAddress else { return }
    UnsafeMutableRawPointer(dst + at).copyMemory(from: src + from, byteCount: count)
}
