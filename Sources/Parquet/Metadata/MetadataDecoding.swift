// Decoding of the footer and page headers from the Thrift compact protocol (field ids from parquet.thrift).

extension FileMetaData {
    init(thrift r: inout ThriftCompactReader) throws {
        self.init()
        var sawSchema = false, sawNumRows = false, sawRowGroups = false
        try r.readStruct { r, f in
            switch f.id {
            case 1: version = try r.readI32(f)
            case 2: schema = try r.readStructList(f) { try SchemaElement(thrift: &$0) }; sawSchema = true
            case 3: numRows = try r.readI64(f); sawNumRows = true
            case 4: rowGroups = try r.readStructList(f) { try RowGroup(thrift: &$0) }; sawRowGroups = true
            case 5: keyValueMetadata = try r.readStructList(f) { try KeyValue(thrift: &$0) }
            case 6: createdBy = try r.readString(f)
            case 8: isEncrypted = true; try r.skip(f)
            default: try r.skip(f)
            }
        }
        guard sawSchema, sawNumRows, sawRowGroups else {
            throw ParquetError.corruptMetadata("footer lacks a required field (schema, num_rows or row_groups)")
        }
    }
}

extension KeyValue {
    init(thrift r: inout ThriftCompactReader) throws {
        var key: String?
        var value: String?
        try r.readStruct { r, f in
            switch f.id {
            case 1: key = try r.readString(f)
            case 2: value = try r.readString(f)
            default: try r.skip(f)
            }
        }
        guard let key else { throw ParquetError.corruptMetadata("key-value metadata entry without a key") }
        self.init(key: key, value: value)
    }
}

extension SchemaElement {
    init(thrift r: inout ThriftCompactReader) throws {
        self.init(name: "")
        var sawName = false
        try r.readStruct { r, f in
            switch f.id {
            case 1:
                let raw = try r.readI32(f)
                guard let physical = PhysicalType(rawValue: raw) else {
                    throw ParquetError.corruptMetadata("unknown physical type \(raw)")
                }
                type = physical
            case 2: typeLength = try r.readI32(f)
            case 3:
                let raw = try r.readI32(f)
                guard let rep = Repetition(rawValue: raw) else {
                    throw ParquetError.corruptMetadata("unknown repetition type \(raw)")
                }
                repetition = rep
            case 4: name = try r.readString(f); sawName = true
            case 5: numChildren = try r.readI32(f)
            case 6: convertedType = ConvertedType(rawValue: try r.readI32(f))
            case 7: scale = try r.readI32(f)
            case 8: precision = try r.readI32(f)
            case 9: fieldID = try r.readI32(f)
            case 10: logicalType = try LogicalType(thrift: &r, f)
            default: try r.skip(f)
            }
        }
        guard sawName else { throw ParquetError.corruptMetadata("schema element without a name") }
    }
}

extension LogicalType {
    init?(thrift r: inout ThriftCompactReader, _ field: ThriftField) throws {
        guard field.type == .structure else {
            try r.skip(field)
            return nil
        }
        var result: LogicalType?
        try r.readStruct { r, f in
            guard f.type == .structure else {
                result = .unrecognized(fieldID: f.id)
                return try r.skip(f)
            }
            switch f.id {
            case 1: result = .string; try r.skip(f)
            case 2: result = .map; try r.skip(f)
            case 3: result = .list; try r.skip(f)
            case 4: result = .enumeration; try r.skip(f)
            case 5:
                var scale: Int32 = 0, precision: Int32 = 0
                try r.readStruct { r, f in
                    switch f.id {
                    case 1: scale = try r.readI32(f)
                    case 2: precision = try r.readI32(f)
                    default: try r.skip(f)
                    }
                }
                result = .decimal(precision: precision, scale: scale)
            case 6: result = .date; try r.skip(f)
            case 7, 8:
                var utc = false
                var unit = TimeUnit.millis
                try r.readStruct { r, g in
                    switch g.id {
                    case 1: utc = try r.readBool(g)
                    case 2: unit = try TimeUnit(thrift: &r, g)
                    default: try r.skip(g)
                    }
                }
                result = f.id == 7 ? .time(isAdjustedToUTC: utc, unit: unit) : .timestamp(isAdjustedToUTC: utc, unit: unit)
            case 10:
                var bits: Int8 = 0
                var signed = true
                try r.readStruct { r, g in
                    switch g.id {
                    case 1: bits = try r.readI8(g)
                    case 2: signed = try r.readBool(g)
                    default: try r.skip(g)
                    }
                }
                result = .integer(bitWidth: bits, isSigned: signed)
            case 11: result = .unknown; try r.skip(f)
            case 12: result = .json; try r.skip(f)
            case 13: result = .bson; try r.skip(f)
            case 14: result = .uuid; try r.skip(f)
            case 15: result = .float16; try r.skip(f)
            case 16: result = .variant; try r.skip(f)
            case 17: result = .geometry; try r.skip(f)
            case 18: result = .geography; try r.skip(f)
            default: result = .unrecognized(fieldID: f.id); try r.skip(f)
            }
        }
        guard let result else { return nil }
        self = result
    }
}

extension TimeUnit {
    init(thrift r: inout ThriftCompactReader, _ field: ThriftField) throws {
        var unit: TimeUnit?
        guard field.type == .structure else { throw ParquetError.corruptMetadata("time unit is not a struct") }
        try r.readStruct { r, f in
            switch f.id {
            case 1: unit = .millis
            case 2: unit = .micros
            case 3: unit = .nanos
            default: break
            }
            try r.skip(f)
        }
        guard let unit else { throw ParquetError.corruptMetadata("time unit without a known member") }
        self = unit
    }
}

extension RowGroup {
    init(thrift r: inout ThriftCompactReader) throws {
        self.init()
        try r.readStruct { r, f in
            switch f.id {
            case 1: columns = try r.readStructList(f) { try ColumnChunk(thrift: &$0) }
            case 2: totalByteSize = try r.readI64(f)
            case 3: numRows = try r.readI64(f)
            case 5: fileOffset = try r.readI64(f)
            case 6: totalCompressedSize = try r.readI64(f)
            case 7: ordinal = try r.readI16(f)
            default: try r.skip(f)
            }
        }
    }
}

extension ColumnChunk {
    init(thrift r: inout ThriftCompactReader) throws {
        self.init()
        try r.readStruct { r, f in
            switch f.id {
            case 1: filePath = try r.readString(f)
            case 2: fileOffset = try r.readI64(f)
            case 3: metaData = try r.readStructField(f) { try ColumnMetaData(thrift: &$0) }
            case 4: offsetIndexOffset = try r.readI64(f)
            case 6: columnIndexOffset = try r.readI64(f)
            case 8, 9: isEncrypted = true; try r.skip(f)
            default: try r.skip(f)
            }
        }
    }
}

extension ColumnMetaData {
    init(thrift r: inout ThriftCompactReader) throws {
        self.init()
        try r.readStruct { r, f in
            switch f.id {
            case 1:
                let raw = try r.readI32(f)
                guard let physical = PhysicalType(rawValue: raw) else {
                    throw ParquetError.corruptMetadata("unknown physical type \(raw) in column metadata")
                }
                type = physical
            case 2: encodings = try r.readI32List(f).compactMap(Encoding.init(rawValue:))
            case 3: pathInSchema = try r.readStringList(f)
            case 4: codecID = try r.readI32(f)
            case 5: numValues = try r.readI64(f)
            case 6: totalUncompressedSize = try r.readI64(f)
            case 7: totalCompressedSize = try r.readI64(f)
            case 8: keyValueMetadata = try r.readStructList(f) { try KeyValue(thrift: &$0) }
            case 9: dataPageOffset = try r.readI64(f)
            case 10: indexPageOffset = try r.readI64(f)
            case 11: dictionaryPageOffset = try r.readI64(f)
            case 12: statistics = try r.readStructField(f) { try Statistics(thrift: &$0) }
            case 14: bloomFilterOffset = try r.readI64(f)
            default: try r.skip(f)
            }
        }
    }
}

extension Statistics {
    init(thrift r: inout ThriftCompactReader) throws {
        self.init()
        var legacyMin: [UInt8]?, legacyMax: [UInt8]?
        try r.readStruct { r, f in
            switch f.id {
            case 1: legacyMax = try r.readBinary(f)
            case 2: legacyMin = try r.readBinary(f)
            case 3: nullCount = try r.readI64(f)
            case 4: distinctCount = try r.readI64(f)
            case 5: maxValue = try r.readBinary(f)
            case 6: minValue = try r.readBinary(f)
            default: try r.skip(f)
            }
        }
        minValue = minValue ?? legacyMin
        maxValue = maxValue ?? legacyMax
    }
}

extension PageHeader {
    init(thrift r: inout ThriftCompactReader) throws {
        self.init()
        var sawType = false
        try r.readStruct { r, f in
            switch f.id {
            case 1:
                let raw = try r.readI32(f)
                guard let pageType = PageType(rawValue: raw) else {
                    throw ParquetError.corruptMetadata("unknown page type \(raw)")
                }
                type = pageType
                sawType = true
            case 2: uncompressedPageSize = try r.readI32(f)
            case 3: compressedPageSize = try r.readI32(f)
            case 4: crc = try r.readI32(f)
            case 5: dataPageHeader = try r.readStructField(f) { try DataPageHeader(thrift: &$0) }
            case 7: dictionaryPageHeader = try r.readStructField(f) { try DictionaryPageHeader(thrift: &$0) }
            case 8: dataPageHeaderV2 = try r.readStructField(f) { try DataPageHeaderV2(thrift: &$0) }
            default: try r.skip(f)
            }
        }
        guard sawType else { throw ParquetError.corruptMetadata("page header without a page type") }
        guard uncompressedPageSize >= 0, compressedPageSize >= 0 else {
            throw ParquetError.corruptMetadata("negative page size (\(compressedPageSize) compressed, \(uncompressedPageSize) uncompressed)")
        }
    }
}

private func encoding(_ raw: Int32, _ what: String) throws -> Encoding {
    guard let encoding = Encoding(rawValue: raw) else {
        throw ParquetError.unsupported("unknown \(what) encoding \(raw)")
    }
    return encoding
}

extension DataPageHeader {
    init(thrift r: inout ThriftCompactReader) throws {
        self.init()
        try r.readStruct { r, f in
            switch f.id {
            case 1: numValues = try r.readI32(f)
            case 2: encoding = try Parquet.encoding(try r.readI32(f), "value")
            case 3: definitionLevelEncoding = try Parquet.encoding(try r.readI32(f), "definition level")
            case 4: repetitionLevelEncoding = try Parquet.encoding(try r.readI32(f), "repetition level")
            case 5: statistics = try r.readStructField(f) { try Statistics(thrift: &$0) }
            default: try r.skip(f)
            }
        }
        guard numValues >= 0 else { throw ParquetError.corruptMetadata("negative value count \(numValues) in page header") }
    }
}

extension DictionaryPageHeader {
    init(thrift r: inout ThriftCompactReader) throws {
        self.init()
        try r.readStruct { r, f in
            switch f.id {
            case 1: numValues = try r.readI32(f)
            case 2: encoding = try Parquet.encoding(try r.readI32(f), "dictionary")
            case 3: isSorted = try r.readBool(f)
            default: try r.skip(f)
            }
        }
        guard numValues >= 0 else { throw ParquetError.corruptMetadata("negative value count \(numValues) in dictionary page header") }
    }
}

extension DataPageHeaderV2 {
    init(thrift r: inout ThriftCompactReader) throws {
        self.init()
        try r.readStruct { r, f in
            switch f.id {
            case 1: numValues = try r.readI32(f)
            case 2: numNulls = try r.readI32(f)
            case 3: numRows = try r.readI32(f)
            case 4: encoding = try Parquet.encoding(try r.readI32(f), "value")
            case 5: definitionLevelsByteLength = try r.readI32(f)
            case 6: repetitionLevelsByteLength = try r.readI32(f)
            case 7: isCompressed = try r.readBool(f)
            case 8: statistics = try r.readStructField(f) { try Statistics(thrift: &$0) }
            default: try r.skip(f)
            }
        }
        guard numValues >= 0, numNulls >= 0, numRows >= 0, definitionLevelsByteLength >= 0, repetitionLevelsByteLength >= 0 else {
            throw ParquetError.corruptMetadata("negative count or length in v2 page header")
        }
    }
}
