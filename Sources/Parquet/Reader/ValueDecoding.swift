/// Decodes the values section of a page (or a dictionary page) into typed values.
enum ValueDecoding {
    static func decode(_ data: UnsafeRawBufferPointer, encoding: Encoding, column: ColumnDescriptor,
                       count: Int, dictionary: ColumnValues?, maxBytes: Int = ReadLimits.default.maxDecodedPageBytes) throws -> ColumnValues {
        let type = column.physicalType
        switch encoding {
        case .plain:
            return try plain(data, type: type, width: column.typeLength, count: count)
        case .plainDictionary, .rleDictionary:
            guard let dictionary else {
                throw ParquetError.corruptPage("dictionary-encoded page but the column chunk has no dictionary page")
            }
            return try dictionaryIndices(data, count: count) { try dictionary.gather($0, maxBytes: maxBytes) }
        case .rle:
            guard type == .boolean else { throw ParquetError.unsupported("RLE value encoding for \(type)") }
            // RLE booleans carry a 4-byte length prefix.
            guard data.count >= 4 else { throw ParquetError.truncated("RLE boolean values: no length prefix") }
            let length = Int(data.loadUnaligned(as: UInt32.self).littleEndian)
            guard length <= data.count - 4 else { throw ParquetError.truncated("RLE boolean values claim \(length) bytes") }
            var decoder = try RLEHybridDecoder(UnsafeRawBufferPointer(rebasing: data[4..<4 + length]), bitWidth: 1)
            var bits = [UInt8](repeating: 0, count: count)
            try bits.withUnsafeMutableBufferPointer { try decoder.decode(into: $0) }
            return .boolean(bits.map { $0 != 0 })
        case .deltaBinaryPacked:
            guard type == .int32 || type == .int64 else {
                throw ParquetError.unsupported("DELTA_BINARY_PACKED for \(type)")
            }
            var decoder = try DeltaBinaryPackedDecoder(data)
            let values = try decoder.decode(count: count)
            return type == .int32 ? .int32(values.map { Int32(truncatingIfNeeded: $0) }) : .int64(values)
        case .deltaLengthByteArray:
            guard type == .byteArray else { throw ParquetError.unsupported("DELTA_LENGTH_BYTE_ARRAY for \(type)") }
            return .byteArray(try DeltaLengthByteArrayDecoder.decode(data, count: count))
        case .deltaByteArray:
            let values = try DeltaByteArrayDecoder.decode(data, count: count)
            switch type {
            case .byteArray: return .byteArray(values)
            case .fixedLenByteArray:
                for i in 0..<values.count where values.offsets[i + 1] - values.offsets[i] != column.typeLength {
                    throw ParquetError.corruptPage("DELTA_BYTE_ARRAY value \(i) is not \(column.typeLength) bytes long")
                }
                return .fixedLenByteArray(values)
            default: throw ParquetError.unsupported("DELTA_BYTE_ARRAY for \(type)")
            }
        case .byteStreamSplit:
            let width: Int
            switch type {
            case .int32, .float: width = 4
            case .int64, .double: width = 8
            case .fixedLenByteArray: width = column.typeLength
            default: throw ParquetError.unsupported("BYTE_STREAM_SPLIT for \(type)")
            }
            let joined = try ByteStreamSplit.decode(data, width: width, count: count)
            return try joined.withUnsafeBytes { try plain($0, type: type, width: width, count: count) }
        case .bitPacked:
            throw ParquetError.unsupported("BIT_PACKED is a level encoding, not a value encoding")
        }
    }

    static func plain(_ data: UnsafeRawBufferPointer, type: PhysicalType, width: Int, count: Int) throws -> ColumnValues {
        switch type {
        case .boolean: return .boolean(try PlainDecoder.booleans(data, count: count))
        case .int32: return .int32(try PlainDecoder.fixedWidth(data, count: count))
        case .int64: return .int64(try PlainDecoder.fixedWidth(data, count: count))
        case .int96: return .int96(try PlainDecoder.fixedLenByteArrays(data, width: 12, count: count))
        case .float:
            let bits: [UInt32] = try PlainDecoder.fixedWidth(data, count: count)
            return .float(bits.map(Float.init(bitPattern:)))
        case .double:
            let bits: [UInt64] = try PlainDecoder.fixedWidth(data, count: count)
            return .double(bits.map(Double.init(bitPattern:)))
        case .byteArray: return .byteArray(try PlainDecoder.byteArrays(data, count: count))
        case .fixedLenByteArray:
            return .fixedLenByteArray(try PlainDecoder.fixedLenByteArrays(data, width: width, count: count))
        }
    }

    /// Dictionary indices: a one-byte bit width, then RLE/bit-packed hybrid indices.
    static func dictionaryIndices<T>(_ data: UnsafeRawBufferPointer, count: Int,
                                     _ body: (UnsafeBufferPointer<UInt32>) throws -> T) throws -> T {
        guard count > 0 else { return try body(UnsafeBufferPointer(start: nil, count: 0)) }
        guard let width = data.first else { throw ParquetError.truncated("dictionary indices: page has no bit width byte") }
        guard width <= 32 else { throw ParquetError.corruptPage("dictionary index bit width \(width) exceeds 32") }
        var decoder = try RLEHybridDecoder(UnsafeRawBufferPointer(rebasing: data[1...]), bitWidth: Int(width))
        var indices = [UInt32](repeating: 0, count: count)
        try indices.withUnsafeMutableBufferPointer { try decoder.decode(into: $0) }
        return try indices.withUnsafeBufferPointer { try body($0) }
    }
}
