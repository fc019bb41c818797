/// The footer's metadata, as parquet.thrift defines it (only the fields a reader or writer needs;
/// the others are skipped when reading and not written).
public struct FileMetaData: Sendable {
    public var version: Int32 = 1
    public var schema: [SchemaElement] = []
    public var numRows: Int64 = 0
    public var rowGroups: [RowGroup] = []
    public var keyValueMetadata: [KeyValue] = []
    public var createdBy: String?
    /// Set when the footer declares an encryption algorithm (a plaintext-footer encrypted file).
    public var isEncrypted = false

    public init() {}

    public func metadataValue(_ key: String) -> String? {
        keyValueMetadata.first { $0.key == key }?.value
    }
}

public struct KeyValue: Sendable, Equatable {
    public var key: String
    public var value: String?

    public init(key: String, value: String?) {
        self.key = key
        self.value = value
    }
}

public struct SchemaElement: Sendable {
    public var name: String = ""
    public var type: PhysicalType?
    public var typeLength: Int32?
    public var repetition: Repetition?
    public var numChildren: Int32?
    public var convertedType: ConvertedType?
    public var scale: Int32?
    public var precision: Int32?
    public var fieldID: Int32?
    public var logicalType: LogicalType?

    public init(name: String) { self.name = name }
}

public struct RowGroup: Sendable {
    public var columns: [ColumnChunk] = []
    public var totalByteSize: Int64 = 0
    public var numRows: Int64 = 0
    public var fileOffset: Int64?
    public var totalCompressedSize: Int64?
    public var ordinal: Int16?

    public init() {}
}

public struct ColumnChunk: Sendable {
    public var filePath: String?
    public var fileOffset: Int64 = 0
    public var metaData: ColumnMetaData?
    public var offsetIndexOffset: Int64?
    public var columnIndexOffset: Int64?
    public var isEncrypted = false

    public init() {}
}

public struct ColumnMetaData: Sendable {
    public var type: PhysicalType = .boolean
    public var encodings: [Encoding] = []
    public var pathInSchema: [String] = []
    /// The raw codec id; `codec` is nil for ids this reader does not know.
    public var codecID: Int32 = 0
    public var numValues: Int64 = 0
    public var totalUncompressedSize: Int64 = 0
    public var totalCompressedSize: Int64 = 0
    public var keyValueMetadata: [KeyValue] = []
    public var dataPageOffset: Int64 = 0
    public var indexPageOffset: Int64?
    public var dictionaryPageOffset: Int64?
    public var statistics: Statistics?
    public var bloomFilterOffset: Int64?

    public var codec: CompressionCodec? { CompressionCodec(rawValue: codecID) }

    public init() {}
}

public struct Statistics: Sendable {
    public var nullCount: Int64?
    public var distinctCount: Int64?
    public var minValue: [UInt8]?
    public var maxValue: [UInt8]?

    public init() {}
}

public struct PageHeader: Sendable {
    public var type: PageType = .dataPage
    public var uncompressedPageSize: Int32 = 0
    public var compressedPageSize: Int32 = 0
    public var crc: Int32?
    public var dataPageHeader: DataPageHeader?
    public var dictionaryPageHeader: DictionaryPageHeader?
    public var dataPageHeaderV2: DataPageHeaderV2?

    public init() {}
}

public struct DataPageHeader: Sendable {
    public var numValues: Int32 = 0
    public var encoding: Encoding = .plain
    public var definitionLevelEncoding: Encoding = .rle
    public var repetitionLevelEncoding: Encoding = .rle
    public var statistics: Statistics?

    public init() {}
}

public struct DictionaryPageHeader: Sendable {
    public var numValues: Int32 = 0
    public var encoding: Encoding = .plain
    public var isSorted: Bool?

    public init() {}
}

public struct DataPageHeaderV2: Sendable {
    public var numValues: Int32 = 0
    public var numNulls: Int32 = 0
    public var numRows: Int32 = 0
    public var encoding: Encoding = .plain
    public var definitionLevelsByteLength: Int32 = 0
    public var repetitionLevelsByteLength: Int32 = 0
    public var isCompressed: Bool = true
    public var statistics: Statistics?

    public init() {}
}
