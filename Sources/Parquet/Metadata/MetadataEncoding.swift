// Encoding of the footer and page headers in the Thrift compact protocol (field ids from parquet.thrift).

extension FileMetaData {
    func encode(_ w: inout ThriftCompactWriter) {
        w.writeI32(1, version)
        w.writeStructList(2, schema) { w, element in element.encode(&w) }
        w.writeI64(3, numRows)
        w.writeStructList(4, rowGroups) { w, group in group.encode(&w) }
        if !keyValueMetadata.isEmpty {
            w.writeStructList(5, keyValueMetadata) { w, kv in kv.encode(&w) }
        }
        if let createdBy { w.writeString(6, createdBy) }
    }

    func thriftBytes() -> [UInt8] {
        var w = ThriftCompactWriter()
        w.writeStruct { encode(&$0) }
        return w.bytes
    }
}

extension KeyValue {
    func encode(_ w: inout ThriftCompactWriter) {
        w.writeString(1, key)
        if let value { w.writeString(2, value) }
    }
}

extension SchemaElement {
    func encode(_ w: inout ThriftCompactWriter) {
        if let type { w.writeI32(1, type.rawValue) }
        if let typeLength { w.writeI32(2, typeLength) }
        if let repetition { w.writeI32(3, repetition.rawValue) }
        w.writeString(4, name)
        if let numChildren { w.writeI32(5, numChildren) }
        if let convertedType { w.writeI32(6, convertedType.rawValue) }
        if let scale { w.writeI32(7, scale) }
        if let precision { w.writeI32(8, precision) }
        if let fieldID { w.writeI32(9, fieldID) }
        if let logicalType { w.writeStructField(10) { logicalType.encode(&$0) } }
    }
}

extension LogicalType {
    func encode(_ w: inout ThriftCompactWriter) {
        let empty: (inout ThriftCompactWriter) -> Void = { _ in }
        switch self {
        case .string: w.writeStructField(1, empty)
        case .map: w.writeStructField(2, empty)
        case .list: w.writeStructField(3, empty)
        case .enumeration: w.writeStructField(4, empty)
        case let .decimal(precision, scale):
            w.writeStructField(5) { w in
                w.writeI32(1, scale)
                w.writeI32(2, precision)
            }
        case .date: w.writeStructField(6, empty)
        case let .time(utc, unit):
            w.writeStructField(7) { w in
                w.writeBool(1, utc)
                w.writeStructField(2) { unit.encode(&$0) }
            }
        case let .timestamp(utc, unit):
            w.writeStructField(8) { w in
                w.writeBool(1, utc)
                w.writeStructField(2) { unit.encode(&$0) }
            }
        case let .integer(bits, signed):
            w.writeStructField(10) { w in
                w.writeI8(1, bits)
                w.writeBool(2, signed)
            }
        case .unknown: w.writeStructField(11, empty)
        case .json: w.writeStructField(12, empty)
        case .bson: w.writeStructField(13, empty)
        case .uuid: w.writeStructField(14, empty)
        case .float16: w.writeStructField(15, empty)
        case .variant: w.writeStructField(16, empty)
        case .geometry: w.writeStructField(17, empty)
        case .geography: w.writeStructField(18, empty)
        case .unrecognized: break
        }
    }
}

extension TimeUnit {
    func encode(_ w: inout ThriftCompactWriter) {
        let id: Int16 = switch self {
        case .millis: 1
        case .micros: 2
        case .nanos: 3
        }
        w.writeStructField(id) { _ in }
    }
}

extension RowGroup {
    func encode(_ w: inout ThriftCompactWriter) {
        w.writeStructList(1, columns) { w, column in column.encode(&w) }
        w.writeI64(2, totalByteSize)
        w.writeI64(3, numRows)
        if let fileOffset { w.writeI64(5, fileOffset) }
        if let totalCompressedSize { w.writeI64(6, totalCompressedSize) }
        if let ordinal {
            w.field(7, .i16)
            w.writeZigZag(Int64(ordinal))
        }
    }
}

extension ColumnChunk {
    func encode(_ w: inout ThriftCompactWriter) {
        if let filePath { w.writeString(1, filePath) }
        w.writeI64(2, fileOffset)
        if let metaData { w.writeStructField(3) { metaData.encode(&$0) } }
    }
}

extension ColumnMetaData {
    func encode(_ w: inout ThriftCompactWriter) {
        w.writeI32(1, type.rawValue)
        w.writeI32List(2, encodings.map(\.rawValue))
        w.writeStringList(3, pathInSchema)
        w.writeI32(4, codecID)
        w.writeI64(5, numValues)
        w.writeI64(6, totalUncompressedSize)
        w.writeI64(7, totalCompressedSize)
        if !keyValueMetadata.isEmpty {
            w.writeStructList(8, keyValueMetadata) { w, kv in kv.encode(&w) }
        }
        w.writeI64(9, dataPageOffset)
        if let indexPageOffset { w.writeI64(10, indexPageOffset) }
        if let dictionaryPageOffset { w.writeI64(11, dictionaryPageOffset) }
        if let statistics { w.writeStructField(12) { statistics.encode(&$0) } }
    }
}

extension Statistics {
    func encode(_ w: inout ThriftCompactWriter) {
        if let nullCount { w.writeI64(3, nullCount) }
        if let distinctCount { w.writeI64(4, distinctCount) }
        if let maxValue { w.writeBinary(5, maxValue) }
        if let minValue { w.writeBinary(6, minValue) }
    }
}

extension PageHeader {
    func encode(_ w: inout ThriftCompactWriter) {
        w.writeI32(1, type.rawValue)
        w.writeI32(2, uncompressedPageSize)
        w.writeI32(3, compressedPageSize)
        if let crc { w.writeI32(4, crc) }
        if let dataPageHeader { w.writeStructField(5) { dataPageHeader.encode(&$0) } }
        if let dictionaryPageHeader { w.writeStructField(7) { dictionaryPageHeader.encode(&$0) } }
        if let dataPageHeaderV2 { w.writeStructField(8) { dataPageHeaderV2.encode(&$0) } }
    }

    func thriftBytes() -> [UInt8] {
        var w = ThriftCompactWriter()
        w.writeStruct { encode(&$0) }
        return w.bytes
    }
}

extension DataPageHeader {
    func encode(_ w: inout ThriftCompactWriter) {
        w.writeI32(1, numValues)
        w.writeI32(2, encoding.rawValue)
        w.writeI32(3, definitionLevelEncoding.rawValue)
        w.writeI32(4, repetitionLevelEncoding.rawValue)
        if let statistics { w.writeStructField(5) { statistics.encode(&$0) } }
    }
}

extension DictionaryPageHeader {
    func encode(_ w: inout ThriftCompactWriter) {
        w.writeI32(1, numValues)
        w.writeI32(2, encoding.rawValue)
        if let isSorted { w.writeBool(3, isSorted) }
    }
}

extension DataPageHeaderV2 {
    func encode(_ w: inout ThriftCompactWriter) {
        w.writeI32(1, numValues)
        w.writeI32(2, numNulls)
        w.writeI32(3, numRows)
        w.writeI32(4, encoding.rawValue)
        w.writeI32(5, definitionLevelsByteLength)
        w.writeI32(6, repetitionLevelsByteLength)
        w.writeBool(7, isCompressed)
        if let statistics { w.writeStructField(8) { statistics.encode(&$0) } }
    }
}
