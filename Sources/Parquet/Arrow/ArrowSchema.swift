/// The Arrow schema that pyarrow (and Ray Data) store in a Parquet footer under `ARROW:schema`,
/// as described by Arrow's format/Schema.fbs.
public struct ArrowSchema: Sendable, Equatable {
    public var fields: [ArrowField]
    public var metadata: [ArrowKeyValue]
    /// Byte order of the data the schema describes (not of the flatbuffer, which is always
    /// little-endian). Parquet data does not depend on it; it is kept for a faithful round trip.
    public var endianness: ArrowEndianness

    public init(fields: [ArrowField], metadata: [ArrowKeyValue] = [], endianness: ArrowEndianness = .little) {
        self.fields = fields
        self.metadata = metadata
        self.endianness = endianness
    }

    /// The value of the first schema-level metadata entry named `key`.
    public func metadataValue(_ key: String) -> String? {
        metadata.first { $0.key == key }?.value
    }

    /// The top-level field named `name`.
    public func field(named name: String) -> ArrowField? {
        fields.first { $0.name == name }
    }
}

public enum ArrowEndianness: Sendable, Equatable {
    case little, big
}

/// One entry of Arrow custom metadata. Flatbuffer strings are not required to be UTF-8 and some
/// writers store binary values (Ray 2.49–2.54 stored pickles), so the value keeps its raw bytes.
public struct ArrowKeyValue: Sendable, Equatable {
    public var key: String
    public var valueBytes: [UInt8]

    /// The value as text (invalid UTF-8 sequences become U+FFFD).
    public var value: String {
        get { String(decoding: valueBytes, as: UTF8.self) }
        set { valueBytes = Array(newValue.utf8) }
    }

    public init(key: String, value: String) {
        self.key = key
        self.valueBytes = Array(value.utf8)
    }

    public init(key: String, valueBytes: [UInt8]) {
        self.key = key
        self.valueBytes = valueBytes
    }
}

/// A column (or the child of a nested column). The children of nested types (list item, struct
/// members, map entries, union members, run-end-encoded run ends and values) are in `children`.
public struct ArrowField: Sendable, Equatable {
    public var name: String
    public var nullable: Bool
    public var type: ArrowType
    public var children: [ArrowField]
    public var metadata: [ArrowKeyValue]

    public init(name: String, nullable: Bool = true, type: ArrowType,
                children: [ArrowField] = [], metadata: [ArrowKeyValue] = []) {
        self.name = name
        self.nullable = nullable
        self.type = type
        self.children = children
        self.metadata = metadata
    }

    /// The value of the first metadata entry named `key`.
    public func metadataValue(_ key: String) -> String? {
        metadata.first { $0.key == key }?.value
    }

    /// The raw bytes of the first metadata entry named `key`.
    public func metadataBytes(_ key: String) -> [UInt8]? {
        metadata.first { $0.key == key }?.valueBytes
    }

    /// `ARROW:extension:name`, the extension type this field's storage carries, if any.
    public var extensionName: String? {
        metadataValue(ArrowField.extensionNameKey)
    }

    public static let extensionNameKey = "ARROW:extension:name"
    public static let extensionMetadataKey = "ARROW:extension:metadata"
}

/// A logical Arrow type: one member of Schema.fbs's `Type` union, plus dictionary encoding
/// (which Arrow stores beside the type, on the field).
public indirect enum ArrowType: Sendable, Equatable {
    case null
    case bool
    case int(bitWidth: Int, signed: Bool)
    case floatingPoint(FloatPrecision)
    case binary
    case largeBinary
    case utf8
    case largeUtf8
    case fixedSizeBinary(byteWidth: Int)
    /// `bitWidth` is 32, 64, 128 or 256.
    case decimal(precision: Int, scale: Int, bitWidth: Int)
    case date(DateUnit)
    /// `bitWidth` is 32 for seconds and milliseconds, 64 for micro- and nanoseconds.
    case time(TimeUnit, bitWidth: Int)
    /// A nil or empty `timezone` is a naive (zone-less) timestamp.
    case timestamp(TimeUnit, timezone: String?)
    case duration(TimeUnit)
    case interval(IntervalUnit)
    case list
    case largeList
    case fixedSizeList(listSize: Int)
    case structType
    /// Children: one non-nullable struct `entries` with children `key` and `value`.
    case map(keysSorted: Bool)
    /// `typeIds[i]` is the type code of child `i`; nil means the codes are 0, 1, 2, ...
    case union(mode: UnionMode, typeIds: [Int]?)
    case binaryView
    case utf8View
    case listView
    case largeListView
    /// Children: `run_ends` (a signed integer) and `values`.
    case runEndEncoded
    /// A dictionary-encoded field: the data are `index`-typed keys into dictionary `id` whose
    /// values have `valueType` (the field's children, if any, belong to `valueType`).
    case dictionary(id: Int64, indexBitWidth: Int, indexSigned: Bool, ordered: Bool, valueType: ArrowType)
    /// A `Type` union member this reader does not know (written by a newer Arrow).
    case unknown(typeID: Int)

    public enum FloatPrecision: Sendable, Equatable {
        case half, single, double
    }

    public enum DateUnit: Sendable, Equatable {
        case day, millisecond
    }

    public enum TimeUnit: Sendable, Equatable {
        case second, millisecond, microsecond, nanosecond
    }

    public enum IntervalUnit: Sendable, Equatable {
        case yearMonth, dayTime, monthDayNano
    }

    public enum UnionMode: Sendable, Equatable {
        case sparse, dense
    }
}
