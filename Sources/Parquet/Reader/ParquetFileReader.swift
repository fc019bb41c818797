/// Opens a Parquet file and reads its footer; column chunks are read on demand, so reading one column of
/// one row group touches only the footer and that chunk's bytes.
public final class ParquetFileReader: Sendable {
    public let source: any ByteRangeSource
    public let metadata: FileMetaData
    public let schema: Schema
    public let fileSize: Int64
    /// `ARROW:schema` decoded once when the file is opened (a decoding error is kept and thrown on use),
    /// and its top-level fields by name: per-field questions must not decode it again (quadratic in columns).
    private let decodedArrowSchema: Result<ArrowSchema?, ParquetError>
    private let arrowFieldIndex: [String: Int]

    static let magic: [UInt8] = Array("PAR1".utf8)
    static let encryptedMagic: [UInt8] = Array("PARE".utf8)

    public convenience init(path: String) throws {
        try self.init(source: LocalFileSource(path: path))
    }

    public init(source: any ByteRangeSource) throws {
        self.source = source
        let location = ParquetError.Location(file: source.name)
        (fileSize, metadata, schema) = try withLocation(location) {
            let size = try source.size()
            guard size >= 12 else {
                throw ParquetError.truncated("the file is \(size) bytes, too short for a Parquet file (at least 12)")
            }
            let head = try source.read(offset: 0, count: 4)
            let tailLength = Int(min(size, 64 << 10))
            let tail = try source.read(offset: size - Int64(tailLength), count: tailLength)
            let trailer = Array(tail[(tailLength - 4)...])
            if trailer == Self.encryptedMagic {
                throw ParquetError.unsupported("the file is encrypted (footer magic PARE); encrypted Parquet is not supported")
            }
            guard head == Self.magic else {
                throw ParquetError(.badMagic, "not a Parquet file: it starts with \(hex(head)), expected PAR1 (50415231)")
            }
            guard trailer == Self.magic else {
                throw ParquetError(.truncated, "the file starts like Parquet but does not end with PAR1 (it ends with \(hex(trailer))): truncated, or still being written")
            }
            let footerLength = tail.withUnsafeBytes { Int($0.loadUnaligned(fromByteOffset: tailLength - 8, as: UInt32.self).littleEndian) }
            guard Int64(footerLength) <= size - 12 else {
                throw ParquetError.truncated("the footer claims \(footerLength) bytes but the file has only \(size - 12) besides the magic numbers")
            }
            let footer: [UInt8] = footerLength + 8 <= tailLength
                ? Array(tail[(tailLength - 8 - footerLength)..<(tailLength - 8)])
                : try source.read(offset: size - 8 - Int64(footerLength), count: footerLength)
            let metadata = try footer.withUnsafeBytes { bytes in
                var reader = ThriftCompactReader(bytes)
                return try FileMetaData(thrift: &reader)
            }
            if metadata.isEncrypted {
                throw ParquetError.unsupported("the file's columns are encrypted (plaintext footer with an encryption algorithm); encrypted Parquet is not supported")
            }
            let schema = try Schema(elements: metadata.schema)
            try Self.validate(metadata, schema, fileSize: size)
            return (size, metadata, schema)
        }
        decodedArrowSchema = Self.decodeArrowSchema(metadata, at: location)
        var index: [String: Int] = [:]
        if case let .success(arrow?) = decodedArrowSchema {
            for (i, field) in arrow.fields.enumerated() where index[field.name] == nil { index[field.name] = i }
        }
        arrowFieldIndex = index
    }

    /// Rows the footer declares: the sum over row groups (checked not to overflow when the file was opened).
    /// The file-level `num_rows` is not used: some writers leave it 0.
    /// Readers check every row group's pages against its declaration, and throw `.rowCountMismatch` when
    /// they disagree, so a file that reads without error holds exactly this many rows.
    private static func decodeArrowSchema(_ metadata: FileMetaData, at location: ParquetError.Location) -> Result<ArrowSchema?, ParquetError> {
        guard let encoded = metadata.metadataValue("ARROW:schema") else { return .success(nil) }
        do {
            return .success(try ArrowSchema(ipcSchemaBase64: encoded))
        } catch let error as ParquetError {
            return .failure(error.located(location))
        } catch {
            return .failure(ParquetError(.corruptMetadata, "ARROW:schema: \(error)", at: location))
        }
    }

    public var numRows: Int64 { metadata.rowGroups.reduce(0) { $0 &+ $1.numRows } }
    public var rowGroupCount: Int { metadata.rowGroups.count }

    /// The Arrow schema pyarrow and Ray store under `ARROW:schema`, when present (decoded once, at open).
    public func arrowSchema() throws -> ArrowSchema? {
        try decodedArrowSchema.get()
    }

    /// The Arrow field of the top-level column `name` (the first of that name), in constant time.
    public func arrowField(named name: String) throws -> ArrowField? {
        guard let arrow = try arrowSchema(), let i = arrowFieldIndex[name] else { return nil }
        return arrow.fields[i]
    }

    /// How the Arrow schema describes each top-level field that is also in the Parquet schema, in Arrow
    /// order: tensor columns (and tensor types this module cannot read) without decoding anything again.
    public func tensorFields() throws -> [(name: String, detection: TensorTypeDetection)] {
        guard let arrow = try arrowSchema() else { return [] }
        return arrow.fields.compactMap { field in
            guard schema.field(named: field.name) != nil else { return nil }
            switch field.tensorType {
            case .notATensor: return nil
            case let detection: return (field.name, detection)
            }
        }
    }

    func location(rowGroup: Int, column: ColumnDescriptor) -> ParquetError.Location {
        .init(file: source.name, rowGroup: rowGroup, column: column.dottedPath)
    }

    /// Byte range of a column chunk: from its dictionary page (if any) or first data page.
    func chunkRange(rowGroup: Int, column: Int) throws -> (meta: ColumnMetaData, start: Int64, length: Int64) {
        guard rowGroup >= 0, rowGroup < metadata.rowGroups.count else {
            throw ParquetError(.invalidArgument, "row group \(rowGroup) does not exist (the file has \(metadata.rowGroups.count))")
        }
        guard column >= 0, column < schema.columns.count else {
            throw ParquetError(.invalidArgument, "column \(column) does not exist (the file has \(schema.columns.count))")
        }
        // validate() guarantees every chunk has metadata.
        let meta = metadata.rowGroups[rowGroup].columns[column].metaData ?? ColumnMetaData()
        let start = Self.chunkStart(meta)
        return (meta, start, min(meta.totalCompressedSize + chunkPadding, fileSize - 8 - start))
    }

    /// The codec of a chunk, refusing the ones this reader cannot decode before any page is read.
    func codec(of meta: ColumnMetaData) throws -> CompressionCodec {
        guard let codec = meta.codec else { throw ParquetError.unsupported("unknown compression codec id \(meta.codecID)") }
        guard codec != .lzo, codec != .brotli else { throw ParquetError.unsupported("compression codec \(codec) is not supported") }
        return codec
    }

    private static func chunkStart(_ meta: ColumnMetaData) -> Int64 {
        var start = meta.dataPageOffset
        if let dictionary = meta.dictionaryPageOffset, dictionary > 0, dictionary < start { start = dictionary }
        return start
    }

    /// parquet-mr before 1.2.9 (PARQUET-816) wrote column chunk sizes that leave out the dictionary page
    /// header; like parquet-cpp, read up to 100 bytes further for such files.
    var chunkPadding: Int64 {
        guard let createdBy = metadata.createdBy, createdBy.hasPrefix("parquet-mr") else { return 0 }
        let version = createdBy.split(separator: " ").dropFirst(2).first.map { $0.split(separator: ".").compactMap { Int($0.prefix { $0.isNumber }) } }
        guard let version, version.count >= 3 else { return 100 }
        return version.lexicographicallyPrecedes([1, 2, 9]) ? 100 : 0
    }

    private static func validate(_ metadata: FileMetaData, _ schema: Schema, fileSize: Int64) throws {
        var totalRows: Int64 = 0
        for (g, group) in metadata.rowGroups.enumerated() {
            guard group.numRows >= 0 else {
                throw ParquetError(.corruptMetadata, "negative row count \(group.numRows)", at: .init(rowGroup: g))
            }
            let (sum, overflow) = totalRows.addingReportingOverflow(group.numRows)
            guard !overflow else {
                throw ParquetError(.limitExceeded, "the row groups' row counts add up to more than \(Int64.max)", at: .init(rowGroup: g))
            }
            totalRows = sum
            guard group.columns.count == schema.columns.count else {
                throw ParquetError(.corruptMetadata, "row group has \(group.columns.count) column chunks, the schema has \(schema.columns.count) leaf columns",
                                   at: .init(rowGroup: g))
            }
            for (c, chunk) in group.columns.enumerated() {
                let at = ParquetError.Location(rowGroup: g, column: schema.columns[c].dottedPath)
                if chunk.isEncrypted {
                    throw ParquetError(.unsupported, "the column chunk is encrypted; encrypted Parquet is not supported", at: at)
                }
                if chunk.filePath != nil {
                    throw ParquetError(.unsupported, "the column chunk lives in another file (\(chunk.filePath ?? "")); external column chunks are not supported", at: at)
                }
                guard let meta = chunk.metaData else {
                    throw ParquetError(.corruptMetadata, "column chunk without metadata", at: at)
                }
                guard meta.type == schema.columns[c].physicalType else {
                    throw ParquetError(.schemaMismatch, "chunk stores \(meta.type) but the schema says \(schema.columns[c].physicalType)", at: at)
                }
                let start = chunkStart(meta)
                let bodyEnd = fileSize - 8
                guard meta.totalCompressedSize >= 0, meta.numValues >= 0, start >= 4 || (start == 0 && meta.numValues == 0),
                      start <= bodyEnd, meta.totalCompressedSize <= bodyEnd - start else {
                    throw ParquetError(.corruptMetadata, "chunk of \(meta.totalCompressedSize) bytes at byte \(start) (\(meta.numValues) values) lies outside the file's \(fileSize) bytes", at: at)
                }
                // Every row has at least one entry (a value, a null or an empty list) in every leaf column.
                guard group.numRows <= meta.numValues else {
                    throw ParquetError(.rowCountMismatch, "the row group declares \(group.numRows) rows but the column chunk declares only \(meta.numValues) values", at: at)
                }
            }
        }
    }
}

func hex(_ bytes: [UInt8]) -> String {
    bytes.map { String($0, radix: 16).leftPadded(to: 2) }.joined()
}

extension String {
    func leftPadded(to width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
