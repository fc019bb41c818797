/// One leaf column of one row group, fully decoded: levels for every entry, values for the non-null ones.
public struct ColumnChunkData: Sendable {
    public let column: ColumnDescriptor
    /// One per entry; empty when the column's max definition level is 0 (every entry holds a value).
    public var definitionLevels: [Int16] = []
    /// One per entry; empty when the column is not repeated (every entry starts a row).
    public var repetitionLevels: [Int16] = []
    public var values: ColumnValues
    /// Entries (values and nulls/empty lists) in the chunk.
    public var entryCount = 0
    /// Rows the pages hold (entries that start a row); equal to the row group's declared row count once
    /// `readColumnChunk` returns.
    public var rowCount = 0
    /// False when a read with a row limit stopped before the chunk's last page (then the last row of a
    /// repeated column may be incomplete).
    public internal(set) var isComplete = true
    /// Data pages decoded into this chunk (a read with a row limit stops early).
    public internal(set) var dataPagesRead = 0

    init(column: ColumnDescriptor) {
        self.column = column
        self.values = .empty(column.physicalType)
    }
}

/// Options that change how pages are read.
public struct ReadOptions: Sendable {
    /// Check each page's CRC-32 when the writer stored one (pyarrow does not by default).
    public var verifyChecksums = false
    /// Bounds on what a file may make the reader allocate.
    public var limits = ReadLimits.default

    public init(verifyChecksums: Bool = false, limits: ReadLimits = .default) {
        self.verifyChecksums = verifyChecksums
        self.limits = limits
    }
}

extension ParquetFileReader {
    /// Decodes one leaf column of one row group.
    public func readColumnChunk(rowGroup: Int, column index: Int, options: ReadOptions = ReadOptions()) throws -> ColumnChunkData {
        try readColumnChunk(rowGroup: rowGroup, column: index, options: options, rowLimit: nil)
    }

    /// Typed column buffers (values, definition and repetition levels) of leaf columns of one row group:
    /// `columns` are indices into `schema.columns` (all of them when nil), decoded in bulk, page by page.
    public func readColumns(rowGroup: Int, columns: [Int]? = nil, options: ReadOptions = ReadOptions()) throws -> [ColumnChunkData] {
        try (columns ?? Array(schema.columns.indices)).map { try readColumnChunk(rowGroup: rowGroup, column: $0, options: options) }
    }

    /// Decodes one leaf column of one row group; with `rowLimit`, stops after the page that completes
    /// that many rows (the chunk is then `isComplete == false` unless it ended there anyway).
    func readColumnChunk(rowGroup: Int, column index: Int, options: ReadOptions, rowLimit: Int?) throws -> ColumnChunkData {
        guard index >= 0, index < schema.columns.count else {
            throw ParquetError(.invalidArgument, "column \(index) does not exist (the file has \(schema.columns.count))", at: .init(file: source.name))
        }
        let column = schema.columns[index]
        let decoder = PageDecoder(verifyChecksums: options.verifyChecksums, limits: options.limits)
        var data = ColumnChunkData(column: column)
        var pageIndex = -1
        do {
            let (meta, start, length) = try chunkRange(rowGroup: rowGroup, column: index)
            let codec = try self.codec(of: meta)
            var stream = PageStream(source: source, start: start, length: length, limits: options.limits)
            var dictionary: ColumnValues?
            var indices: [UInt32] = []  // dictionary indices of one page, reused
            let expected = Int(meta.numValues)
            if rowLimit == nil { data.reserve(entries: expected, bytes: meta.totalUncompressedSize, limits: options.limits) }
            var enoughRows = false
            while data.entryCount < expected && !stream.isAtEnd && !enoughRows {
                pageIndex += 1
                try stream.nextPage { header, stored in
                    switch header.type {
                    case .dictionaryPage:
                        guard dictionary == nil else { throw ParquetError.corruptPage("a second dictionary page in one column chunk") }
                        dictionary = try decoder.withDictionaryPage(header, stored, codec: codec) { dictHeader, bytes in
                            guard dictHeader.encoding == .plain || dictHeader.encoding == .plainDictionary else {
                                throw ParquetError.unsupported("dictionary page encoding \(dictHeader.encoding)")
                            }
                            return try ValueDecoding.plain(bytes, type: column.physicalType, width: column.typeLength,
                                                           count: Int(dictHeader.numValues))
                        }
                    case .dataPage, .dataPageV2:
                        try decoder.withDataPage(header, stored, codec: codec, maxRepetition: column.maxRepetitionLevel,
                                                 maxDefinition: column.maxDefinitionLevel) { page in
                            try data.append(page, dictionary: dictionary, expectedTotal: expected, limits: options.limits, indices: &indices)
                        }
                        data.dataPagesRead += 1
                        // A repeated column's row is complete only once the next one starts (or the chunk ends).
                        if let rowLimit {
                            enoughRows = column.maxRepetitionLevel == 0 ? data.rowCount >= rowLimit : data.rowCount > rowLimit
                        }
                    case .indexPage:
                        break
                    }
                }
            }
            if enoughRows && data.entryCount < expected {
                data.isComplete = false
                return data
            }
            guard data.entryCount == expected else {
                throw ParquetError(.rowCountMismatch, "the column chunk's pages hold \(data.entryCount) values, its metadata declares \(expected)")
            }
            // (A chunk without values may have no pages at all, and an offset of 0.)
            if chunkPadding == 0, start >= 4 {
                pageIndex += 1
                try stream.checkNoFurtherValues(declared: expected)
            }
            try checkRowCount(data.rowCount, rowGroup: rowGroup)
            return data
        } catch let error as ParquetError {
            var at = location(rowGroup: rowGroup, column: column)
            if pageIndex >= 0 { at.page = pageIndex }
            throw error.located(at)
        }
    }
}

extension ParquetFileReader {
    /// Throws `.rowCountMismatch` unless `decoded` rows is what the row group declares.
    func checkRowCount(_ decoded: Int, rowGroup: Int) throws {
        let declared = metadata.rowGroups[rowGroup].numRows
        guard Int64(decoded) == declared else {
            throw ParquetError(.rowCountMismatch, "the column chunk's pages hold \(decoded) rows, the row group declares \(declared)")
        }
    }
}

extension ColumnChunkData {
    /// Largest reservation made from a chunk's declared sizes; beyond it, buffers grow as pages arrive.
    static let maxReservedBytes = 64 << 20

    /// Sizes the buffers for the entries and bytes the chunk's metadata declares, so that pages append
    /// without regrowing. Declared sizes are not trusted: the reservation stays within `maxReservedBytes`
    /// and what one page may decode (`ReadLimits.maxDecodedPageBytes`); a chunk whose pages hold less
    /// than it declares fails and frees it.
    mutating func reserve(entries declared: Int, bytes declaredBytes: Int64, limits: ReadLimits) {
        let budget = min(Self.maxReservedBytes, limits.maxDecodedPageBytes)
        let levelBytes = (column.maxDefinitionLevel > 0 ? 2 : 0) + (column.maxRepetitionLevel > 0 ? 2 : 0)
        let entries = max(0, min(declared, budget / (levelBytes + column.physicalType.decodedBytesPerValue)))
        let bytes = Int(max(0, min(declaredBytes, Int64(budget))))
        if column.maxDefinitionLevel > 0 { definitionLevels.reserveCapacity(entries) }
        if column.maxRepetitionLevel > 0 { repetitionLevels.reserveCapacity(entries) }
        values.reserve(values: entries, bytes: bytes)
    }

    mutating func append(_ page: DataPageSections, dictionary: ColumnValues?, expectedTotal: Int, limits: ReadLimits) throws {
        var indices: [UInt32] = []
        try append(page, dictionary: dictionary, expectedTotal: expectedTotal, limits: limits, indices: &indices)
    }

    /// Decodes a data page onto the end of the chunk's levels and values; `indices` is scratch for
    /// dictionary indices, kept across pages.
    mutating func append(_ page: DataPageSections, dictionary: ColumnValues?, expectedTotal: Int, limits: ReadLimits,
                         indices: inout [UInt32]) throws {
        let count = page.numValues
        // The chunk's metadata bounds what a page may claim, so a lying header cannot make us allocate more.
        guard count >= 0, count <= expectedTotal - entryCount else {
            throw ParquetError(.rowCountMismatch, "page claims \(count) values but the chunk has only \(expectedTotal - entryCount) left")
        }
        let levelBytes = (page.repetitionLevels == nil ? 0 : 2) + (page.definitionLevels == nil ? 0 : 2)
        try limits.checkPageEntries(count, bytesPerEntry: levelBytes + column.physicalType.decodedBytesPerValue, what: "data page")
        if let section = page.repetitionLevels { try checkLevelCount(section, maxLevel: column.maxRepetitionLevel, count: count, what: "repetition") }
        if let section = page.definitionLevels { try checkLevelCount(section, maxLevel: column.maxDefinitionLevel, count: count, what: "definition") }
        var nonNull = count
        if page.repetitionLevels == nil { rowCount += count }
        if let section = page.repetitionLevels {
            let start = repetitionLevels.count
            repetitionLevels.append(contentsOf: repeatElement(0, count: count))
            try repetitionLevels.withUnsafeMutableBufferPointer {
                try decodeLevels(section, maxLevel: column.maxRepetitionLevel, into: UnsafeMutableBufferPointer(rebasing: $0[start...]))
            }
            rowCount += repetitionLevels[start...].reduce(0) { $0 + ($1 == 0 ? 1 : 0) }
            if start == 0 && entryCount == 0, count > 0, repetitionLevels[0] != 0 {
                throw ParquetError.corruptPage("the first value of the column chunk does not start a row (repetition level \(repetitionLevels[0]))")
            }
        }
        if let section = page.definitionLevels {
            let start = definitionLevels.count
            definitionLevels.append(contentsOf: repeatElement(0, count: count))
            let maxLevel = column.maxDefinitionLevel
            nonNull = try definitionLevels.withUnsafeMutableBufferPointer { levels in
                let slice = UnsafeMutableBufferPointer(rebasing: levels[start...])
                try decodeLevels(section, maxLevel: maxLevel, into: slice)
                let limit = Int16(maxLevel)
                return slice.reduce(0) { $0 + ($1 == limit ? 1 : 0) }
            }
        }
        try values.appendDecoded(page.values, encoding: page.encoding, column: column, count: nonNull,
                                 dictionary: dictionary, maxBytes: limits.maxDecodedPageBytes, indices: &indices)
        entryCount += count
    }
}
