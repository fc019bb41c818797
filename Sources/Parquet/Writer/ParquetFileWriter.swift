/// Options for writing.
public struct WriterOptions: Sendable {
    public var codec: CompressionCodec = .snappy
    public var zstdLevel: Int32 = 1
    /// Target size of a data page's values before compression (pages break at row boundaries).
    public var dataPageSize = 1 << 20
    public var dictionary = true
    /// Above this many bytes of dictionary a column chunk falls back to PLAIN.
    public var dictionaryPageSizeLimit = 1 << 20
    public var createdBy = "sluice"
    /// Extra footer key-value metadata.
    public var metadata: [KeyValue] = []

    public init() {}
}

/// One leaf column of one row group, shredded into levels and non-null values.
public struct ColumnWriteData: Sendable {
    public var values: ColumnValues
    /// One per entry; nil when the column's max definition level is 0.
    public var definitionLevels: [Int16]?
    /// One per entry; nil when the column is not repeated.
    public var repetitionLevels: [Int16]?

    public init(values: ColumnValues, definitionLevels: [Int16]? = nil, repetitionLevels: [Int16]? = nil) {
        self.values = values
        self.definitionLevels = definitionLevels
        self.repetitionLevels = repetitionLevels
    }
}

/// Writes a Parquet file: row groups of shredded columns (or tensors, straight from their bytes), then the
/// footer with the Arrow schema. Single-threaded; one writer per output file.
public final class ParquetFileWriter {
    public let schema: Schema
    public let fields: [FieldSpec]
    private let sink: any ByteSink
    private let options: WriterOptions
    private let compressor: Compressor
    private var offset: Int64 = 0
    private var rowGroups: [RowGroup] = []
    private var closed = false

    public init(sink: any ByteSink, fields: [FieldSpec], options: WriterOptions = WriterOptions()) throws {
        self.sink = sink
        self.fields = fields
        self.options = options
        var root = SchemaElement(name: "schema")
        root.numChildren = Int32(fields.count)
        schema = try Schema(elements: [root] + fields.flatMap { $0.schemaElements() })
        compressor = Compressor(zstdLevel: options.zstdLevel)
        try emit(ParquetFileReader.magic)
    }

    public convenience init(path: String, fields: [FieldSpec], options: WriterOptions = WriterOptions()) throws {
        try self.init(sink: LocalFileSink(path: path), fields: fields, options: options)
    }

    /// Writes one row group; `columns` has one entry per leaf column, in schema order.
    public func writeRowGroup(rows: Int, columns: [ColumnWriteData]) throws {
        guard columns.count == schema.columns.count else {
            throw ParquetError(.invalidArgument, "\(columns.count) columns given, the schema has \(schema.columns.count) leaves", at: .init(file: sink.name))
        }
        var group = RowGroup()
        group.numRows = Int64(rows)
        group.fileOffset = offset
        group.ordinal = Int16(truncatingIfNeeded: rowGroups.count)
        for (descriptor, data) in zip(schema.columns, columns) {
            let at = ParquetError.Location(file: sink.name, rowGroup: rowGroups.count, column: descriptor.dottedPath)
            let chunk = try withLocation(at) { try writeChunk(descriptor, data, rows: rows) }
            group.columns.append(chunk)
        }
        finish(&group)
    }

    /// Writes one row group of a single-column tensor file from row-major element bytes (`rows * rowBytes`).
    /// The column must be a `.tensor` field; every row is non-null.
    public func writeTensorRowGroup(_ bytes: UnsafeRawBufferPointer, rows: Int) throws {
        guard fields.count == 1, case let .tensor(_, element, shape, _) = fields[0] else {
            throw ParquetError(.invalidArgument, "writeTensorRowGroup needs a file with exactly one tensor field", at: .init(file: sink.name))
        }
        let perRow = shape.reduce(1, *)
        guard bytes.count == rows * perRow * element.byteWidth else {
            throw ParquetError(.invalidArgument, "\(bytes.count) bytes do not hold \(rows) tensors of shape \(shape) \(element)", at: .init(file: sink.name))
        }
        let descriptor = schema.columns[0]
        var group = RowGroup()
        group.numRows = Int64(rows)
        group.fileOffset = offset
        group.ordinal = Int16(truncatingIfNeeded: rowGroups.count)
        let chunk = try withLocation(.init(file: sink.name, rowGroup: rowGroups.count, column: descriptor.dottedPath)) {
            try TensorChunkEncoder(writer: self, descriptor: descriptor, element: element, perRow: perRow).write(bytes, rows: rows)
        }
        group.columns.append(chunk)
        finish(&group)
    }

    /// Writes the footer and closes the sink. The file is complete only after this returns.
    public func close() throws {
        guard !closed else { return }
        closed = true
        var metadata = FileMetaData()
        metadata.version = 1
        metadata.schema = [schema.root.element] + schema.fields.flatMap(Self.flatten)
        metadata.numRows = rowGroups.reduce(0) { $0 + $1.numRows }
        metadata.rowGroups = rowGroups
        metadata.createdBy = options.createdBy
        let arrow = ArrowSchema(fields: fields.map { $0.arrowField() }, metadata: [])
        metadata.keyValueMetadata = options.metadata + [KeyValue(key: "ARROW:schema", value: arrow.ipcSchemaBase64())]
        let footer = metadata.thriftBytes()
        try emit(footer)
        var length = UInt32(footer.count).littleEndian
        try emit(withUnsafeBytes(of: &length) { Array($0) })
        try emit(ParquetFileReader.magic)
        try sink.close()
    }

    private static func flatten(_ node: SchemaNode) -> [SchemaElement] {
        [node.element] + node.children.flatMap(flatten)
    }

    private func finish(_ group: inout RowGroup) {
        let sizes = group.columns.compactMap(\.metaData)
        group.totalByteSize = sizes.reduce(0) { $0 + $1.totalUncompressedSize }
        group.totalCompressedSize = sizes.reduce(0) { $0 + $1.totalCompressedSize }
        rowGroups.append(group)
    }

    // MARK: pages

    func emit(_ bytes: [UInt8]) throws {
        try sink.write(bytes)
        offset += Int64(bytes.count)
    }

    var codec: CompressionCodec { options.codec }
    var pageSize: Int { options.dataPageSize }

    /// Compresses and writes one page; returns (header + stored bytes, header + uncompressed bytes).
    @discardableResult
    func writePage(_ header: PageHeader, body: [UInt8]) throws -> (stored: Int, uncompressed: Int) {
        var header = header
        let stored = try body.withUnsafeBytes { try compressor.compress(options.codec, $0) }
        header.uncompressedPageSize = Int32(body.count)
        header.compressedPageSize = Int32(stored.count)
        header.crc = Int32(bitPattern: stored.withUnsafeBytes { crc32($0) })
        let headerBytes = header.thriftBytes()
        try emit(headerBytes)
        try emit(stored)
        return (headerBytes.count + stored.count, headerBytes.count + body.count)
    }

    /// A v1 data page body: repetition levels, definition levels (each length-prefixed RLE), then values.
    static func dataPageBody(repetition: [UInt8]?, definition: [UInt8]?, values: [UInt8]) -> [UInt8] {
        var body: [UInt8] = []
        body.reserveCapacity(values.count + (repetition?.count ?? 0) + (definition?.count ?? 0) + 8)
        for levels in [repetition, definition].compactMap({ $0 }) {
            var length = UInt32(levels.count).littleEndian
            withUnsafeBytes(of: &length) { body.append(contentsOf: $0) }
            body.append(contentsOf: levels)
        }
        body.append(contentsOf: values)
        return body
    }

    private func writeChunk(_ descriptor: ColumnDescriptor, _ data: ColumnWriteData, rows: Int) throws -> ColumnChunk {
        try ChunkEncoder(writer: self, descriptor: descriptor, data: data, useDictionary: options.dictionary,
                         dictionaryLimit: options.dictionaryPageSizeLimit).write(rows: rows)
    }

    func columnChunk(_ descriptor: ColumnDescriptor, start: Int64, dictionaryOffset: Int64?, dataOffset: Int64,
                     values: Int, encodings: [Encoding], stored: Int, uncompressed: Int) -> ColumnChunk {
        var meta = ColumnMetaData()
        meta.type = descriptor.physicalType
        meta.encodings = encodings
        meta.pathInSchema = descriptor.path
        meta.codecID = options.codec.rawValue
        meta.numValues = Int64(values)
        meta.totalCompressedSize = Int64(stored)
        meta.totalUncompressedSize = Int64(uncompressed)
        meta.dataPageOffset = dataOffset
        meta.dictionaryPageOffset = dictionaryOffset
        var chunk = ColumnChunk()
        chunk.fileOffset = start
        chunk.metaData = meta
        return chunk
    }

    var currentOffset: Int64 { offset }
}
