/// Decoding a page's values straight onto the end of a chunk's typed buffers: PLAIN values are copied and
/// dictionary indices gathered into the destination, with no per-page intermediate arrays. Other encodings
/// (and big-endian hosts) decode through `ValueDecoding` and are appended.
extension ColumnValues {
    mutating func appendDecoded(_ data: UnsafeRawBufferPointer, encoding: Encoding, column: ColumnDescriptor, count: Int,
                                dictionary: ColumnValues?, maxBytes: Int, indices: inout [UInt32]) throws {
        #if _endian(little)
        switch encoding {
        case .plain:
            if try appendPlain(data, count: count) { return }
        case .plainDictionary, .rleDictionary:
            guard let dictionary else {
                throw ParquetError.corruptPage("dictionary-encoded page but the column chunk has no dictionary page")
            }
            try Self.decodeIndices(data, count: count, into: &indices)
            if try appendGathered(from: dictionary, indices: indices, count: count, maxBytes: maxBytes) { return }
        default:
            break
        }
        #endif
        let decoded = try ValueDecoding.decode(data, encoding: encoding, column: column, count: count,
                                               dictionary: dictionary, maxBytes: maxBytes)
        try append(contentsOf: decoded)
    }

    /// PLAIN fixed-width numbers and byte arrays; false for the types it leaves to `ValueDecoding`.
    private mutating func appendPlain(_ data: UnsafeRawBufferPointer, count: Int) throws -> Bool {
        switch kind {
        case .int32: try updateInt32 { try Self.appendCopy(data, count: count, to: &$0, zero: 0) }
        case .int64: try updateInt64 { try Self.appendCopy(data, count: count, to: &$0, zero: 0) }
        case .float: try updateFloat { try Self.appendCopy(data, count: count, to: &$0, zero: 0) }
        case .double: try updateDouble { try Self.appendCopy(data, count: count, to: &$0, zero: 0) }
        case .byteArray: try updateBinary { try $0.appendPlain(data, count: count) }
        default: return false
        }
        return true
    }

    private mutating func appendGathered(from dictionary: ColumnValues, indices all: [UInt32], count: Int, maxBytes: Int) throws -> Bool {
        guard dictionary.kind == kind else { return false }
        try all.withUnsafeBufferPointer { all in
            let indices = UnsafeBufferPointer(rebasing: all[0..<count])
            switch dictionary {
            case let .int32(d): try updateInt32 { try Self.appendGather(d, indices, to: &$0, zero: 0) }
            case let .int64(d): try updateInt64 { try Self.appendGather(d, indices, to: &$0, zero: 0) }
            case let .float(d): try updateFloat { try Self.appendGather(d, indices, to: &$0, zero: 0) }
            case let .double(d): try updateDouble { try Self.appendGather(d, indices, to: &$0, zero: 0) }
            case let .byteArray(d), let .fixedLenByteArray(d): try updateBinary { try $0.appendGathered(from: d, indices, maxBytes: maxBytes) }
            case .boolean, .int96: break
            }
        }
        return kind != .boolean && kind != .int96
    }

    /// Dictionary indices (a bit-width byte, then RLE/bit-packed runs) into `indices[0..<count]`, reused across pages.
    private static func decodeIndices(_ data: UnsafeRawBufferPointer, count: Int, into indices: inout [UInt32]) throws {
        guard count > 0 else { return }
        guard let width = data.first else { throw ParquetError.truncated("dictionary indices: page has no bit width byte") }
        guard width <= 32 else { throw ParquetError.corruptPage("dictionary index bit width \(width) exceeds 32") }
        if indices.count < count { indices = [UInt32](repeating: 0, count: count) }
        var decoder = try RLEHybridDecoder(UnsafeRawBufferPointer(rebasing: data[1...]), bitWidth: Int(width))
        try indices.withUnsafeMutableBufferPointer { try decoder.decode(into: UnsafeMutableBufferPointer(rebasing: $0[0..<count])) }
    }

    /// `count` little-endian values from the start of `data` onto the end of `array`.
    private static func appendCopy<T: BitwiseCopyable>(_ data: UnsafeRawBufferPointer, count: Int, to array: inout [T], zero: T) throws {
        let size = MemoryLayout<T>.size
        guard count >= 0, count <= data.count / size else {
            throw ParquetError.truncated("\(count) PLAIN \(T.self) values need \(count) × \(size) bytes, \(data.count) present")
        }
        guard count > 0, let source = data.baseAddress else { return }
        let start = array.count
        array.append(contentsOf: repeatElement(zero, count: count))
        array.withUnsafeMutableBufferPointer { out in
            guard let base = out.baseAddress else { return }
            UnsafeMutableRawPointer(base + start).copyMemory(from: source, byteCount: count * size)
        }
    }

    private static func appendGather<T: BitwiseCopyable>(_ dictionary: [T], _ indices: UnsafeBufferPointer<UInt32>,
                                                         to array: inout [T], zero: T) throws {
        try checkIndices(indices, dictionarySize: dictionary.count)
        let start = array.count
        array.append(contentsOf: repeatElement(zero, count: indices.count))
        array.withUnsafeMutableBufferPointer { out in
            dictionary.withUnsafeBufferPointer { table in
                for k in 0..<indices.count { out[start + k] = table[Int(indices[k])] }
            }
        }
    }
}

/// Throws unless every index is below `dictionarySize` (the largest is found without a branch per index;
/// the first bad one is looked for only to report it).
func checkIndices(_ indices: UnsafeBufferPointer<UInt32>, dictionarySize: Int) throws {
    var largest: UInt32 = 0
    for index in indices { largest = max(largest, index) }
    guard !indices.isEmpty, Int(largest) >= dictionarySize else { return }
    let bad = indices.first { Int($0) >= dictionarySize } ?? largest
    throw ParquetError.corruptPage("dictionary index \(bad) is out of range for a dictionary of \(dictionarySize) values")
}

extension BinaryValues {
    /// PLAIN byte arrays (a 4-byte little-endian length, then the bytes) onto the end: lengths are walked and
    /// checked first, so the bytes are appended in one allocation.
    mutating func appendPlain(_ data: UnsafeRawBufferPointer, count: Int) throws {
        guard count >= 0, count <= data.count / 4 else {
            throw ParquetError.truncated("\(count) PLAIN byte arrays need at least \(count) × 4 bytes, \(data.count) present")
        }
        guard count > 0, let source = data.baseAddress else { return }
        let firstOffset = offsets.count - 1
        let base = offsets[firstOffset]
        var position = 0
        var total = 0
        do {
            for i in 0..<count {
                guard data.count - position >= 4 else {
                    throw ParquetError.truncated("PLAIN byte array \(i): the page ends before its length")
                }
                let length = Int(UInt32(littleEndian: data.loadUnaligned(fromByteOffset: position, as: UInt32.self)))
                position += 4
                guard length <= data.count - position else {
                    throw ParquetError.truncated("PLAIN byte array \(i) of \(length) bytes, \(data.count - position) left")
                }
                position += length
                total += length
                offsets.append(base + total)
            }
        } catch {
            offsets.removeSubrange((firstOffset + 1)...)
            throw error
        }
        let start = bytes.count
        bytes.append(contentsOf: repeatElement(0, count: total))
        offsets.withUnsafeBufferPointer { offsets in
            bytes.withUnsafeMutableBytes { out in
                guard let destination = out.baseAddress else { return }
                var from = 0
                for i in 0..<count {
                    let length = offsets[firstOffset + i + 1] - offsets[firstOffset + i]
                    from += 4
                    (destination + start + offsets[firstOffset + i] - base).copyMemory(from: source + from, byteCount: length)
                    from += length
                }
            }
        }
    }

    /// The dictionary's values at `indices`, appended; the bytes they add are checked against `maxBytes` first
    /// (a long dictionary value repeated can make a small page huge).
    mutating func appendGathered(from dictionary: BinaryValues, _ indices: UnsafeBufferPointer<UInt32>, maxBytes: Int) throws {
        try checkIndices(indices, dictionarySize: dictionary.count)
        var total = 0
        let firstOffset = offsets.count - 1
        let base = offsets[firstOffset]
        dictionary.offsets.withUnsafeBufferPointer { table in
            for index in indices {
                total += table[Int(index) + 1] - table[Int(index)]
                offsets.append(base + total)
            }
        }
        guard total <= maxBytes else {
            offsets.removeLast(indices.count)
            throw ParquetError(.limitExceeded, "\(indices.count) dictionary values gather more than \(maxBytes) bytes (ReadLimits.maxDecodedPageBytes)")
        }
        let start = bytes.count
        bytes.append(contentsOf: repeatElement(0, count: total))
        dictionary.offsets.withUnsafeBufferPointer { table in
            dictionary.bytes.withUnsafeBytes { source in
                bytes.withUnsafeMutableBytes { out in
                    guard let destination = out.baseAddress, let from = source.baseAddress else { return }
                    var at = start
                    for index in indices {
                        let first = table[Int(index)]
                        let length = table[Int(index) + 1] - first
                        (destination + at).copyMemory(from: from + first, byteCount: length)
                        at += length
                    }
                }
            }
        }
    }
}
