/// Rows of a tensor column decoded into the reader's buffer: row-major, `rowBytes` each, valid until the
/// reader's next call.
public struct TensorBatch {
    /// Index of the first row within the row groups the reader was asked for.
    public let firstRow: Int
    public let rowCount: Int
    public let rowBytes: Int
    /// False for a row that is null, holds nulls, or has the wrong number of elements (its bytes are zero).
    public let validity: [Bool]
    public let bytes: UnsafeRawBufferPointer

    public func row(_ i: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: bytes[(i * rowBytes)..<((i + 1) * rowBytes)])
    }
}

/// Rows of tensors in an array the caller owns (`TensorColumnReader.nextOwned`).
public struct OwnedTensorBatch: Sendable {
    public let firstRow: Int
    public let rowCount: Int
    public let rowBytes: Int
    /// False for a row that is null, holds nulls, or has the wrong number of elements (its bytes are zero).
    public let validity: [Bool]
    /// At least `rowCount * rowBytes` bytes, row-major.
    public let bytes: [UInt8]
}

/// Reads a fixed-shape tensor column (Ray's `ArrowTensorType`, Arrow's `fixed_shape_tensor`, or any list
/// column of numbers given a shape) straight into flat row-major buffers. A page whose levels say "every row
/// complete, no nulls" costs no per-value level work, and the values of an 8-bit dictionary page are mapped
/// byte-for-byte through the dictionary into the output.
public final class TensorColumnReader {
    public let file: ParquetFileReader
    public let column: ColumnDescriptor
    public let shape: [Int]
    /// What each element is delivered as.
    public let element: TensorElement
    /// How the file stores each element.
    public let storage: TensorStorage
    public let elementsPerRow: Int
    /// Nesting depth of the lists (1 for a flat list).
    public var depth: Int { levelStrides.count }
    /// For nesting level `k` (1-based, index k-1): how many values one element of a level-k list spans.
    /// A value at position p > 0 of a row has repetition level min{k : p % stride(k) == 0}.
    private let levelStrides: [Int]
    public var rowBytes: Int { elementsPerRow * element.byteWidth }
    /// Rows returned so far by `next`. Each row group's pages are checked against its declared row count
    /// (a mismatch throws `.rowCountMismatch`), so after the last batch this is the file's row count.
    public var rowsDecoded: Int { rowsDelivered }

    private let rowGroups: [Int]
    private var nextRowGroup = 0
    private var pages: PageStream?
    private var codec = CompressionCodec.uncompressed
    private var valuesLeftInChunk = 0
    private let decoder: PageDecoder
    private let limits: ReadLimits
    private var dictionary: TensorDictionary?
    private var rowsDelivered = 0
    private var pageInChunk = -1
    /// The row group whose chunk is being read, and the rows its pages have started so far.
    private var currentGroup: Int?
    private var rowsInChunk = 0
    private var valuesInChunk = 0
    private var chunkStart: Int64 = 0

    /// Output rows (complete ones, then the row in progress).
    private var output: [UInt8] = []
    private var validity: [Bool] = []
    private var completeRows = 0
    /// Elements written to the row in progress (nil: no row in progress).
    private var pendingElements: Int?
    private var pendingValid = true
    private var scratch = PageScratch()

    /// - Parameters:
    ///   - name: the top-level field holding the tensors.
    ///   - shape: required unless the file describes the column's shape (a Ray or Arrow tensor type, or
    ///     Hugging Face `datasets` metadata for nested lists); see `TensorColumnLayout` and `TensorShapeInference`.
    ///   - element: what to deliver; by default the tagged element type, else uint8 for integer storage
    ///     (range-checked pixels) and float32 for floating-point storage.
    public init(file: ParquetFileReader, column name: String, shape: [Int]? = nil, element: TensorElement? = nil,
                rowGroups: [Int]? = nil, options: ReadOptions = ReadOptions()) throws {
        self.file = file
        let at = ParquetError.Location(file: file.source.name, column: name)
        guard let field = file.schema.field(named: name) else {
            throw ParquetError(.invalidArgument, "no top-level field named '\(name)'", at: at)
        }
        guard field.leafRange.count == 1 else {
            throw ParquetError(.schemaMismatch, "'\(name)' has \(field.leafRange.count) leaf columns; a tensor column has one", at: at)
        }
        let leaf = file.schema.columns[field.leafRange.lowerBound]
        guard leaf.maxRepetitionLevel >= 1 else {
            throw ParquetError(.schemaMismatch, "'\(name)' is not a list column (repetition level \(leaf.maxRepetitionLevel)); tensors are stored as lists", at: at)
        }
        guard let storage = TensorStorage(leaf: leaf) else {
            throw ParquetError(.schemaMismatch, "'\(name)' stores \(leaf.physicalType) values that are not numbers a tensor can hold", at: at)
        }
        column = leaf
        self.storage = storage
        let layout = try TensorColumnLayout.describe(file: file, field: name)
        guard let resolvedShape = shape ?? layout.shape else {
            throw ParquetError(.invalidArgument, "'\(name)' carries no tensor shape in its metadata; pass the shape explicitly (--image-shape H,W,C)", at: at)
        }
        let described = layout.taggedElement
        let resolvedElement = element ?? described ?? storage.defaultElement
        guard storage.canRead(as: resolvedElement) else {
            throw ParquetError(.schemaMismatch, "'\(name)' stores \(storage) values, which cannot be read as tensor elements of type \(resolvedElement)", at: at)
        }
        guard !resolvedShape.isEmpty, resolvedShape.allSatisfy({ $0 > 0 }) else {
            throw ParquetError(.invalidArgument, "tensor shape \(resolvedShape) must have positive dimensions", at: at)
        }
        var count = 1
        for dimension in resolvedShape {
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            guard !overflow, product <= 1 << 31 else {
                throw ParquetError(.invalidArgument, "tensor shape \(resolvedShape) is too large", at: at)
            }
            count = product
        }
        let (rowBytes, overflow) = count.multipliedReportingOverflow(by: resolvedElement.byteWidth)
        guard !overflow, rowBytes <= options.limits.maxTensorRowBytes else {
            throw ParquetError(.limitExceeded, "a tensor of shape \(resolvedShape) \(resolvedElement) takes more than the \(options.limits.maxTensorRowBytes) bytes a row may (ReadLimits.maxTensorRowBytes)", at: at)
        }
        let depth = leaf.maxRepetitionLevel
        guard depth <= resolvedShape.count else {
            throw ParquetError(.schemaMismatch, "'\(name)' nests lists \(depth) deep, more than the \(resolvedShape.count) dimensions of shape \(resolvedShape)", at: at)
        }
        // Elements per list at each nesting level below the row: the leading dimensions, then the rest folded.
        let lengths = Array(resolvedShape.prefix(depth - 1)) + [resolvedShape.dropFirst(depth - 1).reduce(1, *)]
        levelStrides = (0..<depth).map { level in lengths[(level + 1)...].reduce(1, *) }
        self.limits = options.limits
        self.shape = resolvedShape
        self.element = resolvedElement
        self.elementsPerRow = count
        self.rowGroups = rowGroups ?? Array(0..<file.rowGroupCount)
        self.decoder = PageDecoder(verifyChecksums: options.verifyChecksums, limits: options.limits)
        for group in self.rowGroups where group < 0 || group >= file.rowGroupCount {
            throw ParquetError(.invalidArgument, "row group \(group) does not exist (the file has \(file.rowGroupCount))", at: at)
        }
    }

    /// The tensor type the file's Arrow schema gives the field, if any.
    public static func describedTensor(file: ParquetFileReader, field name: String) throws -> TensorType? {
        guard let field = try file.arrowField(named: name) else { return nil }
        switch field.tensorType {
        case .notATensor: return nil
        case let .tensor(type): return type
        case let .unsupported(reason):
            throw ParquetError(.unsupported, reason, at: .init(file: file.source.name, column: name))
        }
    }

    /// Decodes whole pages until at least `targetRows` rows are complete (or the data ends) and returns them;
    /// a batch may hold a few rows more than asked (the rest of the last page). nil at the end.
    public func next(targetRows: Int) throws -> TensorBatch? {
        precondition(targetRows > 0, "targetRows must be positive")
        startBatch()
        while completeRows < targetRows {
            guard try decodeNextPage() else { break }
        }
        if completeRows < targetRows, pendingElements != nil {
            finishPendingRow()  // end of data: a short last row is invalid
        }
        guard completeRows > 0 else { return nil }
        let batchRows = completeRows
        let first = rowsDelivered
        rowsDelivered += batchRows
        return output.withUnsafeBytes { bytes in
            TensorBatch(firstRow: first, rowCount: batchRows, rowBytes: rowBytes, validity: Array(validity[0..<batchRows]),
                        bytes: UnsafeRawBufferPointer(rebasing: bytes[0..<batchRows * rowBytes]))
        }
    }

    /// Like `next`, but the rows' bytes are handed over in an array the caller owns, with no copy: the
    /// reader continues in a new buffer of the same size, holding only the row in progress. (The array may
    /// be longer than `rowCount * rowBytes`.)
    public func nextOwned(targetRows: Int) throws -> OwnedTensorBatch? {
        guard let batch = try next(targetRows: targetRows) else { return nil }
        let pendingStart = batch.rowCount * rowBytes
        let pendingBytes = pendingElements.map { min($0, elementsPerRow) * element.byteWidth } ?? 0
        let taken = output
        // Invariant: bytes past the row in progress are written by the decoder before they are delivered.
        output = [UInt8](unsafeUninitializedCapacity: taken.count) { buffer, initialized in
            taken.withUnsafeBytes { UnsafeMutableRawBufferPointer(buffer).copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[pendingStart..<(pendingStart + pendingBytes)])) }
            initialized = taken.count
        }
        completeRows = 0
        validity.removeAll(keepingCapacity: true)
        return OwnedTensorBatch(firstRow: batch.firstRow, rowCount: batch.rowCount, rowBytes: rowBytes, validity: batch.validity, bytes: taken)
    }

    /// Moves the row in progress (if any) to the front of the buffer and forgets delivered rows.
    private func startBatch() {
        if let pending = pendingElements, completeRows > 0 {
            let bytes = min(pending, elementsPerRow) * element.byteWidth
            output.withUnsafeMutableBytes { buffer in
                let base = buffer.baseAddress!
                base.copyMemory(from: base + completeRows * rowBytes, byteCount: bytes)
            }
        }
        completeRows = 0
        validity.removeAll(keepingCapacity: true)
    }

    private func ensureCapacity(rows: Int) {
        let needed = rows * rowBytes
        if output.count < needed { output.append(contentsOf: repeatElement(0, count: needed - output.count)) }
    }

    private func finishPendingRow() {
        guard let pending = pendingElements else { return }
        let valid = pendingValid && pending == elementsPerRow
        if !valid {
            ensureCapacity(rows: completeRows + 1)
            let start = completeRows * rowBytes
            output.replaceSubrange(start..<start + rowBytes, with: repeatElement(0, count: rowBytes))
        }
        validity.append(valid)
        completeRows += 1
        pendingElements = nil
        pendingValid = true
    }

    // MARK: pages

    /// Decodes one data page (reading a dictionary page first when one comes); false at the end of the data.
    private func decodeNextPage() throws -> Bool {
        while true {
            if pages == nil || valuesLeftInChunk <= 0 || pages?.isAtEnd == true {
                try finishChunk()
                guard nextRowGroup < rowGroups.count else { return false }
                try openChunk(rowGroups[nextRowGroup])
                nextRowGroup += 1
                continue
            }
            var at = file.location(rowGroup: rowGroups[nextRowGroup - 1], column: column)
            pageInChunk += 1
            at.page = pageInChunk
            let isData = try withLocation(at) { try decodePage() }
            if isData { return true }
        }
    }

    private func openChunk(_ group: Int) throws {
        try withLocation(file.location(rowGroup: group, column: column)) {
            let (meta, start, length) = try file.chunkRange(rowGroup: group, column: column.index)
            let codec = try file.codec(of: meta)
            self.codec = codec
            pages = PageStream(source: file.source, start: start, length: length, limits: limits)
            valuesLeftInChunk = Int(meta.numValues)
            valuesInChunk = valuesLeftInChunk
            chunkStart = start
            rowsInChunk = 0
            currentGroup = group
            dictionary = nil
            pageInChunk = -1
        }
    }

    /// At the end of a chunk: its pages must have held exactly the values and rows the footer declares.
    private func finishChunk() throws {
        guard let group = currentGroup else { return }
        currentGroup = nil
        try withLocation(file.location(rowGroup: group, column: column)) {
            guard valuesLeftInChunk == 0 else {
                throw ParquetError(.rowCountMismatch, "the column chunk's pages hold \(valuesInChunk - valuesLeftInChunk) values, its metadata declares \(valuesInChunk)")
            }
            if file.chunkPadding == 0, chunkStart >= 4, var stream = pages {
                try stream.checkNoFurtherValues(declared: valuesInChunk)
            }
            try file.checkRowCount(rowsInChunk, rowGroup: group)
        }
    }

    /// Returns true if the page was a data page.
    private func decodePage() throws -> Bool {
        guard var stream = pages else { return false }
        defer { pages = stream }
        return try stream.nextPage { header, stored in
            switch header.type {
            case .dictionaryPage:
                dictionary = try decoder.withDictionaryPage(header, stored, codec: codec) { dictHeader, bytes in
                    let values = try ValueDecoding.plain(bytes, type: column.physicalType, width: column.typeLength,
                                                         count: Int(dictHeader.numValues))
                    return try TensorDictionary(values, storage: storage, element: element)
                }
                return false
            case .dataPage, .dataPageV2:
                try decoder.withDataPage(header, stored, codec: codec, maxRepetition: column.maxRepetitionLevel,
                                         maxDefinition: column.maxDefinitionLevel) { page in
                    guard page.numValues <= valuesLeftInChunk else {
                        throw ParquetError(.rowCountMismatch, "page claims \(page.numValues) values but the chunk has only \(valuesLeftInChunk) left")
                    }
                    // Levels (irregular pages) and values: checked once per page, never per value.
                    try limits.checkPageEntries(page.numValues, bytesPerEntry: element.byteWidth + 4, what: "tensor data page")
                    try decodeDataPage(page)
                    valuesLeftInChunk -= page.numValues
                    if let group = currentGroup, Int64(rowsInChunk) > file.metadata.rowGroups[group].numRows {
                        try file.checkRowCount(rowsInChunk, rowGroup: group)
                    }
                }
                return true
            case .indexPage:
                return false
            }
        }
    }

    private func decodeDataPage(_ page: DataPageSections) throws {
        let count = page.numValues
        if let (rows, starts) = try uniformRows(page) {
            rowsInChunk += starts
            // Every entry is a value and rows line up: the values are one contiguous run of the output.
            let already = pendingElements ?? 0
            ensureCapacity(rows: completeRows + rows + 1)
            try output.withUnsafeMutableBytes { buffer in
                let start = buffer.baseAddress! + (completeRows * elementsPerRow + already) * element.byteWidth
                do {
                    try writeValues(page, count: count, into: start)
                } catch let error as TensorRangeError {
                    throw rangeError(error, row: rowsDelivered + completeRows + (already + error.index) / elementsPerRow)
                }
            }
            let total = already + count
            let finished = total / elementsPerRow
            for _ in 0..<finished {
                if pendingValid {
                    validity.append(true)
                    completeRows += 1
                } else {  // a row begun on an irregular page
                    pendingElements = elementsPerRow
                    finishPendingRow()
                }
                pendingValid = true
            }
            let rest = total % elementsPerRow
            pendingElements = rest == 0 ? nil : rest
            return
        }
        try decodeIrregularPage(page)
    }

    /// How many rows a page completes, if its levels are the regular pattern of non-null rows of exactly
    /// `elementsPerRow` values (walking level runs, not values), and how many rows it starts; nil otherwise.
    private func uniformRows(_ page: DataPageSections) throws -> (completed: Int, starts: Int)? {
        let count = page.numValues
        // A null or empty row in progress holds no elements, which the walk below would take for "no row in
        // progress" and continue with the next row's values: the general path finishes it.
        if pendingElements == 0 { return nil }
        if let definition = page.definitionLevels {
            guard definition.encoding == .rle else { return nil }
            let width = levelBitWidth(column.maxDefinitionLevel)
            let full = UInt32(column.maxDefinitionLevel)
            var decoder = try RLEHybridDecoder(definition.bytes, bitWidth: width)
            var seen = 0
            while seen < count {
                guard let run = try decoder.nextRun(maxValues: count - seen) else {
                    throw ParquetError.truncated("definition levels end after \(seen) of \(count) values")
                }
                switch run {
                case let .repeated(value, length):
                    guard value == full else { return nil }
                    seen += length
                case let .bitPacked(bytes, first, length):
                    for k in first..<first + length where bitPackedValue(bytes, index: k, bitWidth: width) != full {
                        return nil
                    }
                    seen += length
                }
            }
        }
        guard let repetition = page.repetitionLevels, repetition.encoding == .rle else { return nil }
        let width = levelBitWidth(depth)
        var decoder = try RLEHybridDecoder(repetition.bytes, bitWidth: width)
        let rowLength = elementsPerRow
        var position = pendingElements ?? 0  // elements of the current row so far
        var completed = 0
        var starts = 0
        var seen = 0
        // A 0 starts a row (only after a complete one); a 1 continues one (never past rowLength).
        func step(_ level: UInt32, _ length: Int) -> Bool {
            if level == 0 {
                starts += length
                for _ in 0..<length {
                    guard position == 0 || position == rowLength else { return false }
                    if position == rowLength { completed += 1 }
                    position = 1
                }
                return true
            }
            guard position > 0, position + length <= rowLength else { return false }
            if levelStrides.count > 1 {  // nested lists: every inner list has its length
                for p in position..<position + length where expectedLevel(at: p) != level { return false }
            }
            position += length
            return true
        }
        while seen < count {
            guard let run = try decoder.nextRun(maxValues: count - seen) else {
                throw ParquetError.truncated("repetition levels end after \(seen) of \(count) values")
            }
            switch run {
            case let .repeated(value, length):
                guard step(value, length) else { return nil }
                seen += length
            case let .bitPacked(bytes, first, length):
                for k in first..<first + length {
                    guard step(bitPackedValue(bytes, index: k, bitWidth: width), 1) else { return nil }
                }
                seen += length
            }
        }
        if position == rowLength { completed += 1 }
        return (completed, starts)
    }

    /// The repetition level the value at position `p` (> 0) of a complete row has.
    @inline(__always)
    private func expectedLevel(at p: Int) -> UInt32 {
        for (k, stride) in levelStrides.enumerated() where p % stride == 0 { return UInt32(k + 1) }
        return UInt32(levelStrides.count)
    }

    /// Writes `count` non-null values of the page, in order, as elements at `destination`. A value outside
    /// the element's range throws `TensorRangeError` (the caller knows which row it falls in).
    private func writeValues(_ page: DataPageSections, count: Int, into destination: UnsafeMutableRawPointer) throws {
        switch page.encoding {
        case .plainDictionary, .rleDictionary:
            guard let dictionary else {
                throw ParquetError.corruptPage("dictionary-encoded page but the column chunk has no dictionary page")
            }
            try dictionary.decodeIndices(page.values, count: count, into: destination, scratch: &scratch)
        case .plain:
            if try TensorConversion.plain(page.values, count: count, storage: storage, element: element, into: destination) { return }
            fallthrough
        default:
            let values = try ValueDecoding.decode(page.values, encoding: page.encoding, column: column, count: count, dictionary: nil)
            try TensorConversion.store(values, storage: storage, as: element, into: destination)
        }
    }

    /// A value that does not fit the element, as the error users see: which row holds it.
    private func rangeError(_ error: TensorRangeError, row: Int?) -> ParquetError {
        let what = element == .uint8 && !storage.isFloatingPoint
            ? "holds \(error.value), outside 0...255: \(storage) values are read as uint8 pixels"
            : "holds \(error.value), which does not fit \(element)"
        return ParquetError(.schemaMismatch, "a tensor element \(what)", at: .init(row: row))
    }

    /// The general path: nulls, empty or null rows, rows of the wrong length, pages that do not line up.
    private func decodeIrregularPage(_ page: DataPageSections) throws {
        let count = page.numValues
        var definition = [Int16](repeating: Int16(column.maxDefinitionLevel), count: count)
        var repetition = [Int16](repeating: 0, count: count)
        if let section = page.definitionLevels {
            try definition.withUnsafeMutableBufferPointer { try decodeLevels(section, maxLevel: column.maxDefinitionLevel, into: $0) }
        }
        if let section = page.repetitionLevels {
            try repetition.withUnsafeMutableBufferPointer { try decodeLevels(section, maxLevel: column.maxRepetitionLevel, into: $0) }
        }
        let full = Int16(column.maxDefinitionLevel)
        let valueCount = definition.reduce(0) { $0 + ($1 == full ? 1 : 0) }
        var values = [UInt8](repeating: 0, count: valueCount * element.byteWidth)
        do {
            try values.withUnsafeMutableBytes { buffer in
                if let base = buffer.baseAddress { try writeValues(page, count: valueCount, into: base) }
            }
        } catch let error as TensorRangeError {
            // The row of the page's `error.index`-th value: rows started before it, after the one in progress.
            var values = 0, starts = 0
            for i in 0..<count {
                if repetition[i] == 0 { starts += 1 }
                if definition[i] == full {
                    if values == error.index { break }
                    values += 1
                }
            }
            let first = rowsDelivered + completeRows + (pendingElements == nil ? 0 : 1)
            throw rangeError(error, row: first + starts - 1)
        }
        let width = element.byteWidth
        var nextValue = 0
        for i in 0..<count {
            if repetition[i] == 0 {
                rowsInChunk += 1
                finishPendingRow()
                pendingElements = 0
                ensureCapacity(rows: completeRows + 1)
            }
            guard let written = pendingElements else {
                throw ParquetError.corruptPage("row \(rowsDelivered + completeRows) continues after it was complete")
            }
            if repetition[i] != 0, levelStrides.count > 1, written < elementsPerRow,
               UInt32(repetition[i]) != expectedLevel(at: written) {
                pendingValid = false  // an inner list of another length than the shape says
            }
            if definition[i] == full {
                if written < elementsPerRow {
                    output.withUnsafeMutableBytes { buffer in
                        values.withUnsafeBytes { source in
                            (buffer.baseAddress! + completeRows * rowBytes + written * width)
                                .copyMemory(from: source.baseAddress! + nextValue * width, byteCount: width)
                        }
                    }
                }
                nextValue += 1
                pendingElements = written + 1
            } else if definition[i] == full - 1 && column.element.repetition == .optional {
                pendingValid = false  // a null element
                pendingElements = written + 1
            } else {
                pendingValid = false  // a null or empty row
            }
        }
    }
}
