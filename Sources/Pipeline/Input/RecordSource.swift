import Foundation
import ObjectStore
import Parquet

/// Records read from one input unit, in chunks. The payload bytes are owned by the chunk, so chunks can
/// travel between threads while the reader goes on.
public struct RecordChunk: @unchecked Sendable {
    public enum Payloads {
        /// `rowCount` rows of HWC uint8 pixels of one shape, row-major.
        case pixels(bytes: [UInt8], shape: [Int])
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
        case let .pixels(bytes, _): bytes.count
        case let .encoded(values): values.bytes.count
        }
    }

    /// Borrows row `i`'s payload for the duration of `body`.
    public func withPayload<T>(_ i: Int, _ body: (RecordPayload) throws -> T) rethrows -> T {
        switch payloads {
        case let .pixels(bytes, shape):
            let rowBytes = shape.reduce(1, *)
            return try bytes.withUnsafeBytes { try body(.pixels(UnsafeRawBufferPointer(rebasing: $0[(i * rowBytes)..<((i + 1) * rowBytes)]), shape: shape)) }
        case let .encoded(values):
            return try values.bytes.withUnsafeBytes {
                try body(.encoded(UnsafeRawBufferPointer(rebasing: $0[values.offsets[i]..<values.offsets[i + 1]])))
            }
        }
    }
}

/// Finds the image column of a Parquet file: by name when given, else the first tensor column (Ray's or
/// Arrow's extension type), else a binary column or a struct with a `bytes` field (Hugging Face datasets).
public enum ImageColumn: Sendable, Equatable {
    case tensor(name: String, shape: [Int])
    /// Leaf column index of the encoded bytes.
    case encoded(name: String, leaf: Int)

    public var name: String {
        switch self {
        case let .tensor(name, _), let .encoded(name, _): name
        }
    }

    public static func find(in reader: ParquetFileReader, named requested: String?) throws -> ImageColumn {
        let candidates = requested.map { [$0] } ?? reader.schema.fields.map(\.name)
        for name in candidates {
            guard let field = reader.schema.field(named: name) else {
                throw PipelineError.input("\(reader.source.name): no column named '\(name)' (columns: \(reader.schema.fields.map(\.name).joined(separator: ", ")))")
            }
            if let tensor = try TensorColumnReader.describedTensor(file: reader, field: name) {
                guard tensor.shape.count == 3, let element = TensorElement(arrow: tensor.elementType), element == .uint8 else {
                    throw PipelineError.input("\(reader.source.name): column '\(name)' holds \(tensor.shape) tensors of \(tensor.elementType); images must be HWC uint8")
                }
                return .tensor(name: name, shape: tensor.shape)
            }
            if let leaf = encodedLeaf(field, in: reader.schema) { return .encoded(name: name, leaf: leaf) }
            if requested != nil {
                throw PipelineError.input("\(reader.source.name): column '\(name)' is neither a tensor column nor binary image bytes")
            }
        }
        throw PipelineError.input("\(reader.source.name): no image column found (a tensor column, a binary column, or a struct with a 'bytes' field); name it with --image-column")
    }

    private static func encodedLeaf(_ field: SchemaNode, in schema: Schema) -> Int? {
        if field.isLeaf, field.element.type == .byteArray, field.repetition != .repeated,
           field.element.logicalType != .string, field.element.convertedType != .utf8 {
            return field.leafRange.lowerBound
        }
        if !field.isLeaf, field.repetition != .repeated, let bytes = field.children.first(where: { $0.name == "bytes" }),
           bytes.isLeaf, bytes.element.type == .byteArray, bytes.repetition != .repeated {
            return bytes.leafRange.lowerBound
        }
        return nil
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

    init(source: any ByteRangeSource, unitIndex: Int, imageColumn: String?, idColumn: String?, maxChunkBytes: Int) throws {
        reader = try ParquetFileReader(source: source)
        column = try ImageColumn.find(in: reader, named: imageColumn)
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
        if case let .tensor(name, shape) = column {
            // The reader refuses rows over its limits (overflow-checked): name the option that raises them.
            do {
                tensors = try TensorColumnReader(file: reader, column: name, options: readOptions)
            } catch let error as ParquetError where error.kind == .limitExceeded {
                throw PipelineError.input("\(path): column '\(name)' holds images of shape \(shape), larger than the \(maxChunkBytes) bytes --max-memory leaves for one chunk of input; raise --max-memory (\(error))")
            }
        }
    }

    /// The next chunk of about `targetRows` rows, nil at the end.
    func next(targetRows: Int) throws -> RecordChunk? {
        switch column {
        case let .tensor(_, shape):
            let rows = max(1, min(targetRows, maxChunkBytes / max(tensors?.rowBytes ?? 1, 1)))
            guard let tensors, let batch = try tensors.nextOwned(targetRows: rows) else { return nil }
            let ids = try ids(first: batch.firstRow, count: batch.rowCount)
            var problems: [Int: String] = [:]
            for i in 0..<batch.rowCount where !batch.validity[i] {
                problems[i] = "the image is null, holds nulls, or does not have \(tensors.elementsPerRow) values of shape \(shape)"
            }
            nextRow = batch.firstRow + batch.rowCount
            rowsRead = nextRow
            return RecordChunk(unit: unitIndex, displayName: displayName, firstRow: batch.firstRow, rowCount: batch.rowCount, ids: ids,
                               valid: batch.validity, problems: problems, payloads: .pixels(bytes: batch.bytes, shape: shape))
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
