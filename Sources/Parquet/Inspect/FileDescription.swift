/// A human-readable report of a file's structure: what `sluice inspect` prints.
public struct FileDescription {
    public let reader: ParquetFileReader

    public init(_ reader: ParquetFileReader) { self.reader = reader }

    public func render() -> String {
        var lines: [String] = []
        let meta = reader.metadata
        lines.append("file: \(reader.source.name)")
        lines.append("  size: \(formatBytes(reader.fileSize)), rows: \(reader.numRows), row groups: \(meta.rowGroups.count), format version: \(meta.version)")
        if let createdBy = meta.createdBy { lines.append("  created by: \(createdBy)") }
        lines.append("schema:")
        for field in reader.schema.fields { describe(field, depth: 1, into: &lines) }
        lines.append(contentsOf: tensorLines())
        if !meta.keyValueMetadata.isEmpty {
            lines.append("key-value metadata: " + meta.keyValueMetadata.map { "\($0.key) (\(formatBytes(Int64($0.value?.utf8.count ?? 0))))" }.joined(separator: ", "))
        }
        for (g, group) in meta.rowGroups.enumerated() {
            lines.append("row group \(g): \(group.numRows) rows, \(formatBytes(group.totalCompressedSize ?? group.columns.reduce(0) { $0 + ($1.metaData?.totalCompressedSize ?? 0) })) stored, \(formatBytes(group.totalByteSize)) uncompressed")
            for (c, chunk) in group.columns.enumerated() {
                guard let column = chunk.metaData else { continue }
                let codec = column.codec.map { "\($0)" } ?? "codec #\(column.codecID)"
                let encodings = column.encodings.map { "\($0)" }.joined(separator: ",")
                lines.append("  \(reader.schema.columns[c].dottedPath): \(column.numValues) values, \(codec), \(formatBytes(column.totalCompressedSize)) stored / \(formatBytes(column.totalUncompressedSize)), encodings \(encodings.isEmpty ? "-" : encodings)")
            }
        }
        return lines.joined(separator: "\n")
    }

    private func describe(_ node: SchemaNode, depth: Int, into lines: inout [String]) {
        let indent = String(repeating: "  ", count: depth)
        var text = "\(indent)\(node.repetition.description.lowercased()) "
        let element = node.element
        if let type = element.type {
            text += type == .fixedLenByteArray ? "fixed_len_byte_array(\(element.typeLength ?? 0))" : type.description.lowercased()
            text += " \(node.name)"
        } else {
            text += "group \(node.name)"
        }
        var annotations: [String] = []
        if let logical = element.logicalType { annotations.append(logical.description) }
        else if let converted = element.convertedType { annotations.append(converted.description) }
        if !annotations.isEmpty { text += " (\(annotations.joined(separator: ", ")))" }
        if node.isLeaf { text += "  [def \(node.maxDefinitionLevel), rep \(node.maxRepetitionLevel)]" }
        lines.append(text)
        for child in node.children { describe(child, depth: depth + 1, into: &lines) }
    }

    private func tensorLines() -> [String] {
        let arrow: ArrowSchema?
        do { arrow = try reader.arrowSchema() } catch { return ["ARROW:schema: unreadable (\(error))"] }
        guard let arrow else { return [] }
        var lines: [String] = []
        for field in arrow.fields {
            switch field.tensorType {
            case .notATensor: continue
            case let .tensor(type):
                let dtype = TensorElement(arrow: type.elementType).map { "\($0)" } ?? type.elementType.description
                lines.append("tensor column \(field.name): shape \(type.shape), dtype \(dtype), \(type.extensionName)")
            case let .unsupported(reason):
                lines.append("tensor column \(field.name): unsupported (\(reason))")
            }
        }
        return lines
    }
}

public func formatBytes(_ count: Int64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"]
    var value = Double(count)
    var unit = 0
    while value >= 1024 && unit < units.count - 1 {
        value /= 1024
        unit += 1
    }
    guard unit > 0 else { return "\(count) B" }
    let tenths = Int((value * 10).rounded())
    return "\(tenths / 10).\(tenths % 10) \(units[unit])"
}
