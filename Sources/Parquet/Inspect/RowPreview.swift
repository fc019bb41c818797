/// The first rows of a file as JSON lines (what `sluice head` prints). Tensor columns are read through
/// the tensor path and shown as shape, dtype and CRC-32, never as millions of numbers; other long lists
/// and strings are shortened (`ValuePreview`), and only the pages holding the rows shown are decoded.
public struct RowPreview {
    public let reader: ParquetFileReader
    public let options: ReadOptions
    /// How long lists and strings are shortened (nil: printed in full).
    public let preview: ValuePreview?

    public init(_ reader: ParquetFileReader, options: ReadOptions = ReadOptions(), preview: ValuePreview? = ValuePreview()) {
        self.reader = reader
        self.options = options
        self.preview = preview
    }

    public func lines(limit: Int) throws -> [String] {
        try linesAndStatistics(limit: limit).lines
    }

    /// The lines, with how many data pages of the plain (non-tensor) columns were decoded to print them:
    /// only the pages holding the first `limit` rows are.
    public func linesAndStatistics(limit: Int) throws -> (lines: [String], dataPagesDecoded: Int) {
        var lines: [String] = []
        var dataPages = 0
        let tensors = try tensorFields()
        let plainNames = reader.schema.fields.map(\.name).filter { tensors[$0] == nil }
        // Where each top-level field's value sits in a row of `plainNames` (nil for tensor fields).
        var plainPosition: [Int?] = []
        var next = 0
        for field in reader.schema.fields {
            plainPosition.append(tensors[field.name] == nil ? next : nil)
            if tensors[field.name] == nil { next += 1 }
        }
        for group in 0..<reader.rowGroupCount where lines.count < limit {
            let wanted = min(limit - lines.count, Int(reader.metadata.rowGroups[group].numRows))
            guard wanted > 0 else { continue }
            let (rows, pages) = try reader.readRows(rowGroup: group, fields: plainNames, limit: wanted, preview: preview, options: options)
            dataPages += pages
            var tensorValues: [String: [String]] = [:]
            for (name, _) in tensors {
                let tensorReader = try TensorColumnReader(file: reader, column: name, rowGroups: [group], options: options)
                var rendered: [String] = []
                while rendered.count < wanted, let batch = try tensorReader.next(targetRows: wanted - rendered.count) {
                    for i in 0..<min(batch.rowCount, wanted - rendered.count) {
                        rendered.append(JSONRendering.tensorSummary(shape: tensorReader.shape, dtype: tensorReader.element.rawValue,
                                                                    bytes: batch.validity[i] ? batch.row(i) : nil))
                    }
                }
                tensorValues[name] = rendered
            }
            for r in 0..<wanted {
                var out = "{"
                for (i, field) in reader.schema.fields.enumerated() {
                    if i > 0 { out += "," }
                    out += JSONRendering.quoted(field.name) + ":"
                    if let rendered = tensorValues[field.name] {
                        out += r < rendered.count ? rendered[r] : "null"
                    } else if let position = plainPosition[i], r < rows.count, position < rows[r].count {
                        JSONRendering.write(rows[r][position].value, into: &out)
                    }
                }
                lines.append(out + "}")
            }
        }
        return (lines, dataPages)
    }

    /// Top-level fields the Arrow schema marks as fixed-shape tensors.
    private func tensorFields() throws -> [String: TensorType] {
        guard let arrow = try reader.arrowSchema() else { return [:] }
        var result: [String: TensorType] = [:]
        for field in arrow.fields {
            if case let .tensor(type) = field.tensorType, reader.schema.field(named: field.name) != nil {
                result[field.name] = type
            }
        }
        return result
    }
}
