/// Parquet's physical storage types.
public enum PhysicalType: Int32, Sendable, CaseIterable, CustomStringConvertible {
    case boolean = 0, int32 = 1, int64 = 2, int96 = 3, float = 4, double = 5, byteArray = 6, fixedLenByteArray = 7

    public var description: String {
        switch self {
        case .boolean: "BOOLEAN"
        case .int32: "INT32"
        case .int64: "INT64"
        case .int96: "INT96"
        case .float: "FLOAT"
        case .double: "DOUBLE"
        case .byteArray: "BYTE_ARRAY"
        case .fixedLenByteArray: "FIXED_LEN_BYTE_ARRAY"
        }
    }
}

public enum Repetition: Int32, Sendable, CustomStringConvertible {
    case required = 0, optional = 1, repeated = 2

    public var description: String {
        switch self {
        case .required: "REQUIRED"
        case .optional: "OPTIONAL"
        case .repeated: "REPEATED"
        }
    }
}

/// The legacy type annotation (still written by every writer next to the logical type).
public enum ConvertedType: Int32, Sendable, CustomStringConvertible {
    case utf8 = 0, map = 1, mapKeyValue = 2, list = 3, enumeration = 4, decimal = 5, date = 6
    case timeMillis = 7, timeMicros = 8, timestampMillis = 9, timestampMicros = 10
    case uint8 = 11, uint16 = 12, uint32 = 13, uint64 = 14, int8 = 15, int16 = 16, int32 = 17, int64 = 18
    case json = 19, bson = 20, interval = 21

    public var description: String {
        switch self {
        case .utf8: "UTF8"
        case .map: "MAP"
        case .mapKeyValue: "MAP_KEY_VALUE"
        case .list: "LIST"
        case .enumeration: "ENUM"
        case .decimal: "DECIMAL"
        case .date: "DATE"
        case .timeMillis: "TIME_MILLIS"
        case .timeMicros: "TIME_MICROS"
        case .timestampMillis: "TIMESTAMP_MILLIS"
        case .timestampMicros: "TIMESTAMP_MICROS"
        case .uint8: "UINT_8"
        case .uint16: "UINT_16"
        case .uint32: "UINT_32"
        case .uint64: "UINT_64"
        case .int8: "INT_8"
        case .int16: "INT_16"
        case .int32: "INT_32"
        case .int64: "INT_64"
        case .json: "JSON"
        case .bson: "BSON"
        case .interval: "INTERVAL"
        }
    }
}

public enum TimeUnit: Sendable, Equatable, CustomStringConvertible {
    case millis, micros, nanos

    public var description: String {
        switch self {
        case .millis: "MILLIS"
        case .micros: "MICROS"
        case .nanos: "NANOS"
        }
    }
}

/// The modern type annotation (a Thrift union).
public enum LogicalType: Sendable, Equatable, CustomStringConvertible {
    case string, map, list, enumeration
    case decimal(precision: Int32, scale: Int32)
    case date
    case time(isAdjustedToUTC: Bool, unit: TimeUnit)
    case timestamp(isAdjustedToUTC: Bool, unit: TimeUnit)
    case integer(bitWidth: Int8, isSigned: Bool)
    case unknown
    case json, bson, uuid, float16, variant, geometry, geography
    /// A union member this reader does not know; the column is read by its physical type.
    case unrecognized(fieldID: Int16)

    public var description: String {
        switch self {
        case .string: "STRING"
        case .map: "MAP"
        case .list: "LIST"
        case .enumeration: "ENUM"
        case let .decimal(precision, scale): "DECIMAL(\(precision),\(scale))"
        case .date: "DATE"
        case let .time(utc, unit): "TIME(\(unit),\(utc ? "utc" : "local"))"
        case let .timestamp(utc, unit): "TIMESTAMP(\(unit),\(utc ? "utc" : "local"))"
        case let .integer(bits, signed): "INTEGER(\(bits),\(signed ? "signed" : "unsigned"))"
        case .unknown: "UNKNOWN"
        case .json: "JSON"
        case .bson: "BSON"
        case .uuid: "UUID"
        case .float16: "FLOAT16"
        case .variant: "VARIANT"
        case .geometry: "GEOMETRY"
        case .geography: "GEOGRAPHY"
        case let .unrecognized(id): "UNRECOGNIZED(\(id))"
        }
    }
}

public enum Encoding: Int32, Sendable, CustomStringConvertible {
    case plain = 0, plainDictionary = 2, rle = 3, bitPacked = 4, deltaBinaryPacked = 5
    case deltaLengthByteArray = 6, deltaByteArray = 7, rleDictionary = 8, byteStreamSplit = 9

    public var description: String {
        switch self {
        case .plain: "PLAIN"
        case .plainDictionary: "PLAIN_DICTIONARY"
        case .rle: "RLE"
        case .bitPacked: "BIT_PACKED"
        case .deltaBinaryPacked: "DELTA_BINARY_PACKED"
        case .deltaLengthByteArray: "DELTA_LENGTH_BYTE_ARRAY"
        case .deltaByteArray: "DELTA_BYTE_ARRAY"
        case .rleDictionary: "RLE_DICTIONARY"
        case .byteStreamSplit: "BYTE_STREAM_SPLIT"
        }
    }
}

public enum PageType: Int32, Sendable, CustomStringConvertible {
    case dataPage = 0, indexPage = 1, dictionaryPage = 2, dataPageV2 = 3

    public var description: String {
        switch self {
        case .dataPage: "DATA_PAGE"
        case .indexPage: "INDEX_PAGE"
        case .dictionaryPage: "DICTIONARY_PAGE"
        case .dataPageV2: "DATA_PAGE_V2"
        }
    }
}
