/// Rebuilds nested row values from leaf columns' definition and repetition levels (the Dremel encoding),
/// following the Parquet spec's backward-compatibility rules for LIST and MAP groups.
struct RecordAssembler {
    private let schema: Schema
    private var leaves: [Int: Leaf] = [:]

    private struct Leaf {
        let data: ColumnChunkData
        let interpretation: LeafInterpretation
        /// Index into `data.values` of entry i's value (meaningful where the entry holds a value).
        let valueIndex: [Int32]

        init(_ data: ColumnChunkData) {
            self.data = data
            interpretation = LeafInterpretation(data.column)
            let maxDef = Int16(data.column.maxDefinitionLevel)
            var indices = [Int32](repeating: 0, count: data.entryCount)
            var next: Int32 = 0
            for i in 0..<data.entryCount {
                indices[i] = next
                if data.definitionLevels.isEmpty || data.definitionLevels[i] == maxDef { next += 1 }
            }
            valueIndex = indices
        }

        func definition(_ i: Int) -> Int { data.definitionLevels.isEmpty ? data.column.maxDefinitionLevel : Int(data.definitionLevels[i]) }
        func repetition(_ i: Int) -> Int { data.repetitionLevels.isEmpty ? 0 : Int(data.repetitionLevels[i]) }
    }

    /// Entry ranges of the leaves under one node instance, keyed by leaf column index.
    private typealias Ranges = [Int: Range<Int>]

    init(schema: Schema, columns: [ColumnChunkData]) {
        self.schema = schema
        for column in columns { leaves[column.column.index] = Leaf(column) }
    }

    /// The rows of the given top-level fields (all their leaves must have been provided).
    func rows(fields: [SchemaNode], rowCount: Int) throws -> [[ParquetValue.Field]] {
        var rowRanges: [Ranges] = Array(repeating: [:], count: rowCount)
        for field in fields {
            for leafIndex in field.leafRange {
                guard let leaf = leaves[leafIndex] else {
                    throw ParquetError(.invalidArgument, "column \(schema.columns[leafIndex].dottedPath) was not read")
                }
                var row = -1
                var start = 0
                for i in 0..<leaf.data.entryCount where leaf.repetition(i) == 0 {
                    if row >= 0 { rowRanges[row][leafIndex] = start..<i }
                    row += 1
                    start = i
                    guard row < rowCount else { break }
                }
                if row >= 0 && row < rowCount { rowRanges[row][leafIndex] = start..<leaf.data.entryCount }
                guard row + 1 == rowCount else {
                    throw ParquetError(.corruptPage, "column \(leaf.data.column.dottedPath) holds \(row + 1) rows, the row group has \(rowCount)")
                }
            }
        }
        return try rowRanges.map { ranges in
            try fields.map { ParquetValue.Field(name: $0.name, value: try value(of: $0, ranges)) }
        }
    }

    /// The value of a field occurrence: a list when the field itself is repeated.
    private func value(of node: SchemaNode, _ ranges: Ranges) throws -> ParquetValue {
        if node.repetition == .repeated {
            return .list(try elements(of: node, ranges).map { try instance(of: node, $0) })
        }
        return try instance(of: node, ranges)
    }

    /// One instance of `node` (for a repeated node: one element).
    private func instance(of node: SchemaNode, _ ranges: Ranges) throws -> ParquetValue {
        let (leaf, entry) = try firstEntry(node, ranges)
        if leaf.definition(entry) < node.maxDefinitionLevel { return .null }
        if node.isLeaf {
            let index = Int(leaf.valueIndex[entry])
            guard index < leaf.data.values.count else {
                throw ParquetError(.corruptPage, "column \(leaf.data.column.dottedPath) has fewer values than its definition levels promise")
            }
            return leaf.interpretation.value(leaf.data.values, at: index)
        }
        if isList(node), let repeated = node.children.first, node.children.count == 1 {
            let items = try elements(of: repeated, ranges)
            if let element = listElement(of: node, repeated: repeated) {
                return .list(try items.map { try value(of: element, $0) })
            }
            return .list(try items.map { try instance(of: repeated, $0) })
        }
        if isMap(node), let keyValue = node.children.first, node.children.count == 1, keyValue.repetition == .repeated {
            let items = try elements(of: keyValue, ranges)
            guard keyValue.children.count == 2 else {
                // A key_value group without a value field reads as a list of its keys (as pyarrow does).
                guard let key = keyValue.children.first else { return .list([]) }
                return .list(try items.map { try value(of: key, $0) })
            }
            return .map(try items.map {
                ParquetValue.MapEntry(key: try value(of: keyValue.children[0], $0), value: try value(of: keyValue.children[1], $0))
            })
        }
        return .record(try node.children.map { ParquetValue.Field(name: $0.name, value: try value(of: $0, ranges)) })
    }

    /// Splits a repeated node's occurrence into its elements (an empty list has none).
    private func elements(of node: SchemaNode, _ ranges: Ranges) throws -> [Ranges] {
        let (leaf, entry) = try firstEntry(node, ranges)
        if leaf.definition(entry) < node.maxDefinitionLevel { return [] }
        var result: [Ranges]?
        for leafIndex in node.leafRange {
            guard let range = ranges[leafIndex], let leaf = leaves[leafIndex] else { continue }
            var starts: [Int] = [range.lowerBound]
            for i in range.dropFirst() where leaf.repetition(i) <= node.maxRepetitionLevel { starts.append(i) }
            if result == nil { result = Array(repeating: [:], count: starts.count) }
            guard result?.count == starts.count else {
                throw ParquetError(.corruptPage, "the leaves of \(node.dottedPath) disagree on the number of list elements")
            }
            for (k, start) in starts.enumerated() {
                result?[k][leafIndex] = start..<(k + 1 < starts.count ? starts[k + 1] : range.upperBound)
            }
        }
        return result ?? []
    }

    private func firstEntry(_ node: SchemaNode, _ ranges: Ranges) throws -> (Leaf, Int) {
        let leafIndex = node.leafRange.lowerBound
        guard let leaf = leaves[leafIndex], let range = ranges[leafIndex], !range.isEmpty else {
            throw ParquetError(.corruptPage, "no entries for \(node.dottedPath)")
        }
        return (leaf, range.lowerBound)
    }

    private func isList(_ node: SchemaNode) -> Bool {
        node.element.logicalType == .list || node.element.convertedType == .list
    }

    private func isMap(_ node: SchemaNode) -> Bool {
        node.element.logicalType == .map || node.element.convertedType == .map || node.element.convertedType == .mapKeyValue
    }

    /// The element node of a LIST group, or nil when the repeated group itself is the element
    /// (the spec's backward-compatibility rules: a repeated primitive, a repeated group with several
    /// fields, or one named "array" or "<list>_tuple").
    private func listElement(of list: SchemaNode, repeated: SchemaNode) -> SchemaNode? {
        guard repeated.repetition == .repeated else { return nil }
        if repeated.isLeaf || repeated.children.count != 1 { return nil }
        if repeated.name == "array" || repeated.name == list.name + "_tuple" { return nil }
        return repeated.children[0]
    }
}

extension ParquetFileReader {
    static let maxRowsWithoutColumns = 1 << 20

    /// Reads whole rows of one row group as values (for inspection and tests; the hot paths read columns).
    public func readRows(rowGroup: Int, fields names: [String]? = nil, options: ReadOptions = ReadOptions()) throws -> [[ParquetValue.Field]] {
        let fields = try names.map { try $0.map { name in
            guard let field = schema.field(named: name) else {
                throw ParquetError(.invalidArgument, "no top-level field named '\(name)'", at: .init(file: source.name))
            }
            return field
        } } ?? schema.fields
        var columns: [ColumnChunkData] = []
        for field in fields {
            for leaf in field.leafRange {
                columns.append(try readColumnChunk(rowGroup: rowGroup, column: leaf, options: options))
            }
        }
        guard rowGroup >= 0, rowGroup < metadata.rowGroups.count else {
            throw ParquetError(.invalidArgument, "row group \(rowGroup) does not exist", at: .init(file: source.name))
        }
        // readColumnChunk checked each column's rows against this count; with no column read, nothing did.
        let rowCount = Int(metadata.rowGroups[rowGroup].numRows)
        guard !columns.isEmpty || rowCount <= Self.maxRowsWithoutColumns else {
            throw ParquetError(.limitExceeded, "the row group declares \(rowCount) rows and no column was read to confirm them (at most \(Self.maxRowsWithoutColumns) without columns)",
                               at: .init(file: source.name, rowGroup: rowGroup))
        }
        return try withLocation(.init(file: source.name, rowGroup: rowGroup)) {
            try RecordAssembler(schema: schema, columns: columns).rows(fields: fields, rowCount: rowCount)
        }
    }
}
