/// The first rows of a file as JSON lines (what `sluice head` prints). Tensor columns are read through
/// the tensor path and shown as shape, dtype and CRC-32, never as millions of numbers.
public struct RowPreview {
    public let reader: ParquetFileReader
    public let options: ReadOptions

    public init(_ reader: ParquetFileReader, options: ReadOptions = ReadOptions()) {
        self.reader = reader
        self.options = options
    }

    public func lines(limit: Int) throws -> [String] {
        var lines: [String] = []
        let tensors = try tensorFields()
        for group in 0..<reader.rowGroupCount where lines.count < limit {
            let wanted = min(limit - lines.count, Int(reader.metadata.rowGroups[group].numRows))
            guard wanted > 0 else { continue }
            let plainNames = reader.schema.fields.map(\.name).filter { tensors[$0] == nil }
            let rows = try reader.readRows(rowGroup: group, fields: plainNames, options: options)
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
                    } else if let value = rows[r].first(where: { $0.name == field.name })?.value {
                        JSONRendering.write(value, into: &out)
                    }
                }
                lines.append(out + "}")
            }
        }
        return lines
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
