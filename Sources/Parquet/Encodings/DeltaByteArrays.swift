/// DELTA_LENGTH_BYTE_ARRAY: the lengths (DELTA_BINARY_PACKED), then all the bytes back to back.
enum DeltaLengthByteArrayDecoder {
    static func decode(_ data: UnsafeRawBufferPointer, count: Int) throws -> BinaryValues {
        var consumed = 0
        return try decode(data, count: count, consumed: &consumed)
    }

    /// Also reports where the encoded values end (DELTA_BYTE_ARRAY needs nothing after them, but a
    /// caller checking for trailing bytes may).
    static func decode(_ data: UnsafeRawBufferPointer, count: Int, consumed: inout Int) throws -> BinaryValues {
        guard count >= 0 else { throw ParquetError(.invalidArgument, "negative value count \(count)") }
        var lengthsDecoder = try DeltaBinaryPackedDecoder(data)
        // Exactly: every length is decoded to find the bytes, so a header declaring more values than the
        // page has would make a tiny page allocate gigabytes.
        guard lengthsDecoder.totalValueCount == count else {
            throw ParquetError.corruptPage(
                "DELTA_LENGTH_BYTE_ARRAY holds \(lengthsDecoder.totalValueCount) lengths, \(count) values expected")
        }
        // All lengths must be read to find where the bytes start.
        let lengths = try lengthsDecoder.decode(count: lengthsDecoder.totalValueCount)
        var position = lengthsDecoder.bytesConsumed
        let available = data.count - position
        var offsets = [Int]()
        offsets.reserveCapacity(count + 1)
        offsets.append(0)
        var total = 0
        for i in 0..<count {
            let length = lengths[i]
            guard length >= 0, length <= Int64(available - total) else {
                throw ParquetError.corruptPage(
                    "DELTA_LENGTH_BYTE_ARRAY value \(i) has length \(length), \(available - total) bytes left")
            }
            total += Int(length)
            offsets.append(total)
        }
        let bytes = [UInt8](unsafeUninitializedCapacity: total) { out, initialized in
            copyRange(data, from: position, count: total, into: out, at: 0)
            initialized = total
        }
        position += total
        consumed = position
        return BinaryValues(offsets: offsets, bytes: bytes)
    }
}

/// DELTA_BYTE_ARRAY (incremental / front coding): prefix lengths (DELTA_BINARY_PACKED), then the
/// suffixes (DELTA_LENGTH_BYTE_ARRAY). Value i is the first prefix[i] bytes of value i-1 + suffix i.
enum DeltaByteArrayDecoder {
    /// Largest total decoded size accepted; prefixes can expand a small page enormously.
    static let maxDecodedBytes = Int(Int32.max)

    static func decode(_ data: UnsafeRawBufferPointer, count: Int) throws -> BinaryValues {
        guard count >= 0 else { throw ParquetError(.invalidArgument, "negative value count \(count)") }
        var prefixDecoder = try DeltaBinaryPackedDecoder(data)
        guard prefixDecoder.totalValueCount == count else {
            throw ParquetError.corruptPage(
                "DELTA_BYTE_ARRAY holds \(prefixDecoder.totalValueCount) prefix lengths, \(count) values expected")
        }
        let prefixes = try prefixDecoder.decode(count: prefixDecoder.totalValueCount)
        let suffixStart = prefixDecoder.bytesConsumed
        let suffixes = try DeltaLengthByteArrayDecoder.decode(
            UnsafeRawBufferPointer(rebasing: data[suffixStart...]), count: count)

        // Sizes first: validates every prefix and bounds the allocation.
        var offsets = [Int]()
        offsets.reserveCapacity(count + 1)
        offsets.append(0)
        var total = 0
        var previousLength = 0
        for i in 0..<count {
            let prefix = prefixes[i]
            guard prefix >= 0, prefix <= Int64(previousLength) else {
                throw ParquetError.corruptPage(
                    "DELTA_BYTE_ARRAY value \(i) reuses \(prefix) bytes of a \(previousLength)-byte predecessor")
            }
            let length = Int(prefix) + (suffixes.offsets[i + 1] - suffixes.offsets[i])
            guard length <= maxDecodedBytes - total else {
                throw ParquetError.unsupported("DELTA_BYTE_ARRAY decodes to more than \(maxDecodedBytes) bytes")
            }
            total += length
            offsets.append(total)
            previousLength = length
        }
        let bytes = [UInt8](unsafeUninitializedCapacity: total) { out, initialized in
            suffixes.bytes.withUnsafeBytes { suffixBytes in
                for i in 0..<count {
                    let start = offsets[i]
                    let prefix = Int(prefixes[i])
                    if prefix > 0 {
                        // The predecessor starts at offsets[i-1] and is at least `prefix` long.
                        copyWithin(out, from: offsets[i - 1], to: start, count: prefix)
                    }
                    let suffixOffset = suffixes.offsets[i]
                    copyRange(suffixBytes, from: suffixOffset, count: suffixes.offsets[i + 1] - suffixOffset,
                              into: out, at: start + prefix)
                }
            }
            initialized = total
        }
        return BinaryValues(offsets: offsets, bytes: bytes)
    }

    /// Copies `out[from..<from+count]` to `out[to..<to+count]` (from + count <= to, checked by the caller).
    @inline(__always)
    private static func copyWithin(_ out: UnsafeMutableBufferPointer<UInt8>, from: Int, to: Int, count: Int) {
        guard let base = out.baseAddress else { return }
        (base + to).update(from: base + from, count: count)
    }
}
