/// The CRC-32 and type name `sluice head` shows for a long list: the checksum covers the values as a
/// NumPy array of the element type would hold them (little-endian, at the logical width: a uint8 list
/// stored as INT32 counts one byte per value), so `zlib.crc32(array.tobytes())` reproduces it.
enum LeafChecksum {
    static func crc32(_ values: ColumnValues, _ range: Range<Int>, column: ColumnDescriptor) -> UInt32 {
        let width = integerWidth(column)
        switch values {
        case let .boolean(v): return narrowed(v[range], width: 1) { $0 ? 1 : 0 }
        case let .int32(v): return narrowed(v[range], width: width ?? 4) { UInt64(UInt32(bitPattern: $0)) }
        case let .int64(v): return narrowed(v[range], width: width ?? 8) { UInt64(bitPattern: $0) }
        case let .float(v): return narrowed(v[range], width: 4) { UInt64($0.bitPattern) }
        case let .double(v): return narrowed(v[range], width: 8) { $0.bitPattern }
        case let .int96(v), let .byteArray(v), let .fixedLenByteArray(v):
            guard !range.isEmpty else { return 0 }
            return v.bytes.withUnsafeBytes { Parquet.crc32(UnsafeRawBufferPointer(rebasing: $0[v.offsets[range.lowerBound]..<v.offsets[range.upperBound]])) }
        }
    }

    /// The element type's name: the logical integer width and sign when annotated, else the physical type.
    static func typeName(_ column: ColumnDescriptor, _ interpretation: LeafInterpretation) -> String {
        if let width = integerWidth(column) {
            return "\(isUnsigned(column) ? "uint" : "int")\(width * 8)"
        }
        switch interpretation {
        case .string: return "string"
        case .bytes: return column.physicalType == .fixedLenByteArray ? "fixed_size_binary[\(column.typeLength)]" : "binary"
        case .bool: return "bool"
        case .float: return "float"
        case .double: return "double"
        case .float16: return "float16"
        case .decimal: return "decimal"
        case .date: return "date32"
        case .time: return "time"
        case .timestamp: return "timestamp"
        case .int96: return "int96"
        case .null: return "null"
        case .signed, .unsigned32, .unsigned64:
            return column.physicalType == .int32 ? "int32" : "int64"
        }
    }

    /// Bytes per value of an integer annotation (logical INTEGER or the legacy INT_n/UINT_n), or nil.
    private static func integerWidth(_ column: ColumnDescriptor) -> Int? {
        if case let .integer(bitWidth, _)? = column.element.logicalType, [8, 16, 32, 64].contains(bitWidth) {
            return Int(bitWidth) / 8
        }
        switch column.element.convertedType {
        case .int8?, .uint8?: return 1
        case .int16?, .uint16?: return 2
        case .int32?, .uint32?: return 4
        case .int64?, .uint64?: return 8
        default: return nil
        }
    }

    private static func isUnsigned(_ column: ColumnDescriptor) -> Bool {
        if case let .integer(_, signed)? = column.element.logicalType { return !signed }
        switch column.element.convertedType {
        case .uint8?, .uint16?, .uint32?, .uint64?: return true
        default: return false
        }
    }

    /// CRC-32 of each value's low `width` bytes, little-endian, fed to zlib in blocks.
    private static func narrowed<C: Collection>(_ values: C, width: Int, _ bits: (C.Element) -> UInt64) -> UInt32 {
        let blockValues = 8192
        var block = [UInt8](repeating: 0, count: blockValues * width)
        var checksum: UInt32 = 0
        var filled = 0
        for value in values {
            let pattern = bits(value)
            for b in 0..<width { block[filled + b] = UInt8(truncatingIfNeeded: pattern >> (8 * b)) }
            filled += width
            if filled == block.count {
                checksum = block.withUnsafeBytes { Parquet.crc32($0, initial: checksum) }
                filled = 0
            }
        }
        return block.withUnsafeBytes { Parquet.crc32(UnsafeRawBufferPointer(rebasing: $0[0..<filled]), initial: checksum) }
    }
}
