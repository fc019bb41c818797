// Slot numbers and enum values of Arrow's format/Message.fbs and format/Schema.fbs.
// A table's slot is the field's position in its declaration; a union field takes two slots
// (`<name>_type`, a ubyte, then the offset to the member table).

enum ArrowFlatbuf {
    /// `union MessageHeader` member ids (0 is NONE).
    enum MessageHeader {
        static let schema: UInt8 = 1
        static let names = ["NONE", "Schema", "DictionaryBatch", "RecordBatch", "Tensor", "SparseTensor"]
    }

    /// `enum MetadataVersion`: V1 = 0 ... V5 = 4.
    enum MetadataVersion {
        static let v4: Int16 = 3
        static let v5: Int16 = 4
    }

    enum MessageSlot {
        static let version = 0, headerType = 1, header = 2, bodyLength = 3, customMetadata = 4
    }

    enum SchemaSlot {
        static let endianness = 0, fields = 1, customMetadata = 2, features = 3
    }

    enum FieldSlot {
        static let name = 0, nullable = 1, typeType = 2, type = 3, dictionary = 4, children = 5, customMetadata = 6
    }

    enum KeyValueSlot {
        static let key = 0, value = 1
    }

    enum DictionaryEncodingSlot {
        static let id = 0, indexType = 1, isOrdered = 2, dictionaryKind = 3
    }

    /// `union Type` member ids (0 is NONE).
    enum TypeID {
        static let null: UInt8 = 1
        static let int: UInt8 = 2
        static let floatingPoint: UInt8 = 3
        static let binary: UInt8 = 4
        static let utf8: UInt8 = 5
        static let bool: UInt8 = 6
        static let decimal: UInt8 = 7
        static let date: UInt8 = 8
        static let time: UInt8 = 9
        static let timestamp: UInt8 = 10
        static let interval: UInt8 = 11
        static let list: UInt8 = 12
        static let structType: UInt8 = 13
        static let union: UInt8 = 14
        static let fixedSizeBinary: UInt8 = 15
        static let fixedSizeList: UInt8 = 16
        static let map: UInt8 = 17
        static let duration: UInt8 = 18
        static let largeBinary: UInt8 = 19
        static let largeUtf8: UInt8 = 20
        static let largeList: UInt8 = 21
        static let runEndEncoded: UInt8 = 22
        static let binaryView: UInt8 = 23
        static let utf8View: UInt8 = 24
        static let listView: UInt8 = 25
        static let largeListView: UInt8 = 26
    }

    /// Per-type table slots (types without parameters have empty tables).
    enum IntSlot { static let bitWidth = 0, isSigned = 1 }
    enum FloatingPointSlot { static let precision = 0 }
    enum DecimalSlot { static let precision = 0, scale = 1, bitWidth = 2 }
    enum DateSlot { static let unit = 0 }
    enum TimeSlot { static let unit = 0, bitWidth = 1 }
    enum TimestampSlot { static let unit = 0, timezone = 1 }
    enum IntervalSlot { static let unit = 0 }
    enum DurationSlot { static let unit = 0 }
    enum FixedSizeBinarySlot { static let byteWidth = 0 }
    enum FixedSizeListSlot { static let listSize = 0 }
    enum MapSlot { static let keysSorted = 0 }
    enum UnionSlot { static let mode = 0, typeIds = 1 }
}

extension ArrowType.TimeUnit {
    init?(flatbufferValue: Int16) {
        switch flatbufferValue {
        case 0: self = .second
        case 1: self = .millisecond
        case 2: self = .microsecond
        case 3: self = .nanosecond
        default: return nil
        }
    }

    var flatbufferValue: Int16 {
        switch self {
        case .second: return 0
        case .millisecond: return 1
        case .microsecond: return 2
        case .nanosecond: return 3
        }
    }
}

extension ArrowType.DateUnit {
    init?(flatbufferValue: Int16) {
        switch flatbufferValue {
        case 0: self = .day
        case 1: self = .millisecond
        default: return nil
        }
    }

    var flatbufferValue: Int16 { self == .day ? 0 : 1 }
}

extension ArrowType.FloatPrecision {
    init?(flatbufferValue: Int16) {
        switch flatbufferValue {
        case 0: self = .half
        case 1: self = .single
        case 2: self = .double
        default: return nil
        }
    }

    var flatbufferValue: Int16 {
        switch self {
        case .half: return 0
        case .single: return 1
        case .double: return 2
        }
    }
}

extension ArrowType.IntervalUnit {
    init?(flatbufferValue: Int16) {
        switch flatbufferValue {
        case 0: self = .yearMonth
        case 1: self = .dayTime
        case 2: self = .monthDayNano
        default: return nil
        }
    }

    var flatbufferValue: Int16 {
        switch self {
        case .yearMonth: return 0
        case .dayTime: return 1
        case .monthDayNano: return 2
        }
    }
}

extension ArrowType.UnionMode {
    init?(flatbufferValue: Int16) {
        switch flatbufferValue {
        case 0: self = .sparse
        case 1: self = .dense
        default: return nil
        }
    }

    var flatbufferValue: Int16 { self == .sparse ? 0 : 1 }
}
