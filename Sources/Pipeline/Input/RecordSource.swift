import Foundation
import ObjectStore
import Parquet

/// Records read from one input unit, in chunks. The payload bytes are owned by the chunk, so chunks can
/// travel between threads while the reader goes on.
public struct RecordChunk: @unchecked Sendable {
    public enum Payloads {
        /// `rowCount` rows of HWC uint8 pixels of one shape, row-major.
        case pixels(bytes: [UInt8], shape: [Int])
        /// `rowCount` rows of CHW float32 model input of one shape, row-major (already preprocessed).
        case preprocessed(bytes: [UInt8], shape: [Int])
        /// Encoded images, one per row.
        case encoded(BinaryValues)
    }

    public var unit: Int
    /// The unit's name in error rows and messages.
    public var displayName: String
    public var firstRow: Int
    public var rowCount: Int
    public var ids: [String]
    /// False where the row has no usable payload (null, wrong length); `problems` says why.
    public var valid: [Bool]
    public var problems: [Int: String] = [:]
    public var payloads: Payloads

    /// Bytes the payloads hold (what the chunk costs in the read budget).
    public var payloadBytes: Int {
        switch payloads {
        case let .pixels(bytes, _), let .preprocessed(bytes, _): bytes.count
        case let .encoded(values): values.bytes.count
        }
    }

    /// Borrows row `i`'s payload for the duration of `body`.
    public func withPayload<T>(_ i: Int, _ body: (RecordPayload) throws -> T) rethrows -> T {
        switch payloads {
        case let .pixels(bytes, shape):
            let rowBytes = shape.reduce(1, *)
            return try bytes.withUnsafeBytes { try body(.pixels(UnsafeRawBufferPointer(rebasing: $0[(i * rowBytes)..<((i + 1) * rowBytes)]), shape: shape)) }
        case let .preprocessed(bytes, shape):
            let count = shape.reduce(1, *)
            return try bytes.withUnsafeBytes { raw in
                let floats = raw.bindMemory(to: Float.self)
                return try body(.preprocessed(UnsafeBufferPointer(rebasing: floats[(i * count)..<((i + 1) * count)]), shape: shape))
            }
        case let .encoded(values):
            return try values.bytes.withUnsafeBytes {
                try body(.encoded(UnsafeRawBufferPointer(rebasing: $0[values.offsets[i]..<values.offsets[i + 1]])))
            }
        }
    }
}

/// Finds the image column of a Parquet file: by name when given, else the first tensor column (Ray's or
/// Arrow's extension type) or encoded-image column (binary, or a struct with a `bytes` field: Hugging Face
/// `Image`), else the first numeric list column whose shape is given, in metadata, or can be inferred.
public enum ImageColumn: Sendable, Equatable {
    case tensor(name: String, read: TensorRead)
    /// Leaf column index of the encoded bytes.
    case encoded(name: String, leaf: Int)

    public var name: String {
        switch self {
        case let .tensor(name, _), let .encoded(name, _): name
        }
    }

    public static func find(in reader: ParquetFileReader, named requested: String?,
                            options: TensorInputOptions = TensorInputOptions()) throws -> ImageColumn {
        let file = reader.source.name
        if let requested {
            guard reader.schema.field(named: requested) != nil else {
                throw PipelineError.input("\(file): no column named '\(requested)' (columns: \(reader.schema.fields.map(\.name).joined(separator: ", ")))")
            }
            let layout = try TensorColumnLayout.describe(file: reader, field: requested)
            switch layout {
            case let .binaryImages(leaf): return .encoded(name: requested, leaf: leaf)
            case let .other(reason):
                throw PipelineError.input("\(file): column '\(requested)' is neither a numeric tensor or list column nor binary image bytes (\(reason))")
            default: return .tensor(name: requested, read: try TensorRead.plan(reader, column: requested, layout: layout, options: options))
            }
        }
        let layouts = try reader.schema.fields.map { ($0.name, try TensorColumnLayout.describe(file: reader, field: $0.name)) }
        for (name, layout) in layouts {
            switch layout {
            case .taggedTensor: return .tensor(name: name, read: try TensorRead.plan(reader, column: name, layout: layout, options: options))
            case let .binaryImages(leaf): return .encoded(name: name, leaf: leaf)
            default: continue
            }
        }
        var reasons: [String] = []
        for (name, layout) in layouts where layout.storage != nil {
            do {
                return .tensor(name: name, read: try TensorRead.plan(reader, column: name, layout: layout, options: options))
            } catch {
                reasons.append("\(error)")
            }
        }
        throw PipelineError.input("\(file): no image column found (a tensor or numeric list column, a binary column, or a struct with a 'bytes' field); name it with --image-column" + (reasons.isEmpty ? "" : " (\(reasons.joined(separator: "; ")))"))
    }
}

/// Reads one Parquet input unit as record chunks.
final class ParquetRecordSource {
    let reader: ParquetFileReader
    let column: ImageColumn
    let unitIndex: Int
    let displayName: String
    let idColumn: String?
    /// The rows the footer declares (hostile until read).
    var declaredRows: Int { Int(clamping: reader.numRows) }
    /// The rows actually produced so far.
    private(set) var rowsRead = 0
    /// The most bytes of input one chunk (a tensor chunk, or a row group of encoded images) may hold.
    let maxChunkBytes: Int
    /// What the reader may allocate: a page (compressed or decoded) up to the whole input share of
    /// --max-memory (three chunks: it is transient, beside the chunk it fills), a tensor row up to one chunk.
    var readOptions: ReadOptions {
        var limits = ReadLimits(memoryBudget: maxChunkBytes * 3 * 4)
        limits.maxTensorRowBytes = maxChunkBytes
        return ReadOptions(limits: limits)
    }
    private var tensors: TensorColumnReader?
    private var nextGroup = 0
    private var nextRow = 0
    private var pendingIDs: [String] = []

    init(source: any ByteRangeSource, unitIndex: Int, imageColumn: String?, idColumn: String?, maxChunkBytes: Int,
         tensorOptions: TensorInputOptions = TensorInputOptions()) throws {
        reader = try ParquetFileReader(source: source)
        column = try ImageColumn.find(in: reader, named: imageColumn, options: tensorOptions)
        if case let .tensor(_, read) = column, case let .inferred(note) = read.shapeSource { InputNotices.tell(note) }
        self.unitIndex = unitIndex
        self.maxChunkBytes = maxChunkBytes
        displayName = source.name
        let path = source.name
        // A remote source fetches the image column's chunks ahead, in few large requests.
        reader.prefetch(rowGroups: 0..<reader.rowGroupCount, columns: reader.leafColumns(of: [column.name]))
        self.idColumn = idColumn
        if let idColumn, reader.schema.field(named: idColumn) == nil {
            throw PipelineError.input("\(path): no id column named '\(idColumn)'")
        }
        if case let .tensor(name, read) = column {
            let shape = read.shape
            // The reader refuses rows over its limits (overflow-checked): name the option that raises them.
            do {
                tensors = try TensorColumnReader(file: reader, column: name, shape: read.shape, element: read.element, options: readOptions)
            } catch let error as ParquetError where error.kind == .limitExceeded {
                throw PipelineError.input("\(path): column '\(name)' holds images of shape \(shape), larger than the \(maxChunkBytes) bytes --max-memory leaves for one chunk of input; raise --max-memory (\(error))")
            }
        }
    }

    /// The next chunk of about `targetRows` rows, nil at the end.
    func next(targetRows: Int) throws -> RecordChunk? {
        switch column {
        case let .tensor(_, read):
            let rows = max(1, min(targetRows, maxChunkBytes / max(tensors?.rowBytes ?? 1, 1)))
            guard let tensors, let batch = try tensors.nextOwned(targetRows: rows) else { return nil }
            let ids = try ids(first: batch.firstRow, count: batch.rowCount)
            var problems: [Int: String] = [:]
            var valid = batch.validity
            for i in 0..<batch.rowCount where !valid[i] {
                problems[i] = "the image is null, holds nulls, or does not have \(tensors.elementsPerRow) values of shape \(read.shape)"
            }
            nextRow = batch.firstRow + batch.rowCount
            rowsRead = nextRow
            let payloads: RecordChunk.Payloads
            if read.isPreprocessed {
                let bytes = read.needsTranspose
                    ? TensorTranspose.rows(batch.bytes, as: Float.self, rows: batch.rowCount, shape: read.shape, from: read.order) : batch.bytes
                bytes.withUnsafeBytes { raw in
                    let floats = raw.bindMemory(to: Float.self)
                    for i in 0..<batch.rowCount where valid[i] {
                        let row = UnsafeBufferPointer(rebasing: floats[(i * tensors.elementsPerRow)..<((i + 1) * tensors.elementsPerRow)])
                        if let problem = NormalisedCheck.problem(row) {
                            valid[i] = false
                            problems[i] = problem
                        }
                    }
                }
                payloads = .preprocessed(bytes: bytes, shape: read.deliveredShape)
            } else {
                let bytes = read.needsTranspose
                    ? TensorTranspose.rows(batch.bytes, as: UInt8.self, rows: batch.rowCount, shape: read.shape, from: read.order) : batch.bytes
                payloads = .pixels(bytes: bytes, shape: read.deliveredShape)
            }
            return RecordChunk(unit: unitIndex, displayName: displayName, firstRow: batch.firstRow, rowCount: batch.rowCount, ids: ids,
                               valid: valid, problems: problems, payloads: payloads)
        case let .encoded(_, leaf):
            guard nextGroup < reader.rowGroupCount else { return nil }
            let group = nextGroup
            nextGroup += 1
            let size = reader.metadata.rowGroups[group].columns[leaf].metaData?.totalUncompressedSize ?? 0
            guard size <= Int64(maxChunkBytes) else {
                throw PipelineError.input("\(displayName): row group \(group) holds \(size) bytes of encoded images in column '\(column.name)', more than the \(maxChunkBytes) bytes --max-memory leaves for one chunk of input; raise --max-memory or write smaller row groups")
            }
            let data = try reader.readColumnChunk(rowGroup: group, column: leaf, options: readOptions)
            guard case let .byteArray(values) = data.values else {
                throw PipelineError.input("\(displayName): image bytes column is not binary")
            }
            let rows = data.entryCount
            let maxDefinition = Int16(data.column.maxDefinitionLevel)
            var valid = [Bool](repeating: true, count: rows)
            var problems: [Int: String] = [:]
            // Re-expand to one (possibly empty) value per row, so payload i is row i.
            var perRow = BinaryValues()
            var nextValue = 0
            guard data.definitionLevels.isEmpty || data.definitionLevels.count == rows else {
                throw PipelineError.input("\(displayName): row group \(group), column '\(column.name)': \(data.definitionLevels.count) definition levels for \(rows) rows")
            }
            for row in 0..<rows {
                if !data.definitionLevels.isEmpty && data.definitionLevels[row] != maxDefinition {
                    valid[row] = false
                    problems[row] = "the image is null"
                    perRow.append(UnsafeRawBufferPointer(start: nil, count: 0))
                } else {
                    guard nextValue < values.count else {
                        throw PipelineError.input("\(displayName): row group \(group), column '\(column.name)': \(values.count) values for more non-null rows")
                    }
                    values[nextValue].withUnsafeBytes { perRow.append($0) }
                    nextValue += 1
                }
            }
            guard nextValue == values.count else {
                throw PipelineError.input("\(displayName): row group \(group), column '\(column.name)': \(values.count) values for \(nextValue) non-null rows")
            }
            let ids = try ids(first: nextRow, count: rows)
            defer {
                nextRow += rows
                rowsRead = nextRow
            }
            return RecordChunk(unit: unitIndex, displayName: displayName, firstRow: nextRow, rowCount: rows, ids: ids, valid: valid,
                               problems: problems, payloads: .encoded(perRow))
        }
    }

    /// Ids of rows first..<first+count: the id column rendered as text, or "file:row".
    private func ids(first: Int, count: Int) throws -> [String] {
        guard let idColumn else {
            let name = (displayName as NSString).lastPathComponent
            return (first..<first + count).map { "\(name):\($0)" }
        }
        while pendingIDs.count < count && idGroup < reader.rowGroupCount {
            let rows = try reader.readRows(rowGroup: idGroup, fields: [idColumn], options: readOptions)
            idGroup += 1
            pendingIDs += rows.map { row in
                switch row.first?.value {
                case let .string(s)?: s
                case let .int(i)?: String(i)
                case let .uint(u)?: String(u)
                case .null?, nil: ""
                case let value?: JSONRendering.render(value)
                }
            }
        }
        guard pendingIDs.count >= count else {
            throw PipelineError.input("\(displayName): the id column '\(idColumn)' ends after \(first + pendingIDs.count) values, but the image column has more rows")
        }
        let taken = Array(pendingIDs.prefix(count))
        pendingIDs.removeFirst(min(count, pendingIDs.count))
        return taken
    }

    private var idGroup = 0
}
