/// Rebuilds nested row values from leaf columns' definition and repetition levels (the Dremel encoding),
/// following the Parquet spec's backward-compatibility rules for LIST and MAP groups.
///
/// Rows are built one at a time from the decoded column buffers (`ColumnChunkData`): nothing is boxed
/// before a row is asked for, so reading the first rows of a partially decoded chunk costs only those rows.
struct RecordAssembler {
    private let schema: Schema
    private var leaves: [Int: AssemblyLeaf] = [:]
    /// When set, long lists and strings become short summaries (what `sluice head` prints).
    var preview: ValuePreview?

    /// Entry ranges of the leaves under one node instance: `slots[leaf - base]` for the leaves of one top-level field.
    private struct Ranges {
        let base: Int
        var slots: [Range<Int>]

        subscript(leaf: Int) -> Range<Int> { slots[leaf - base] }
    }

    /// Definition levels the leaves counted to find values (a test's measure of the work done).
    var levelsScanned: Int { leaves.values.reduce(0) { $0 + $1.levelsScanned } }

    init(schema: Schema, columns: [ColumnChunkData], preview: ValuePreview? = nil) {
        self.schema = schema
        self.preview = preview
        for column in columns { leaves[column.column.index] = AssemblyLeaf(column) }
    }

    /// Rows every given leaf holds completely (for a chunk read only in part, fewer than the row group's).
    func availableRows(fields: [SchemaNode]) -> Int? {
        var rows: Int?
        for field in fields {
            for leafIndex in field.leafRange {
                guard let leaf = leaves[leafIndex] else { continue }
                rows = min(rows ?? leaf.rowCount, leaf.rowCount)
            }
        }
        return rows
    }

    /// The first `rowCount` rows of the given top-level fields (all their leaves must have been provided).
    /// With `exact`, every leaf must hold exactly that many rows (a whole row group); otherwise at least.
    func rows(fields: [SchemaNode], rowCount: Int, exact: Bool = true) throws -> [[ParquetValue.Field]] {
        var fieldLeaves: [[AssemblyLeaf]] = []
        for field in fields {
            var list: [AssemblyLeaf] = []
            for leafIndex in field.leafRange {
                guard let leaf = leaves[leafIndex] else {
                    throw ParquetError(.invalidArgument, "column \(schema.columns[leafIndex].dottedPath) was not read")
                }
                guard exact ? leaf.rowCount == rowCount : leaf.rowCount >= rowCount else {
                    throw ParquetError(.corruptPage, "column \(leaf.data.column.dottedPath) holds \(leaf.rowCount) rows, the row group has \(rowCount)")
                }
                list.append(leaf)
            }
            fieldLeaves.append(list)
        }
        var result: [[ParquetValue.Field]] = []
        result.reserveCapacity(rowCount)
        for row in 0..<rowCount {
            var values: [ParquetValue.Field] = []
            values.reserveCapacity(fields.count)
            for (f, field) in fields.enumerated() {
                values.append(ParquetValue.Field(name: field.name, value: try value(of: field, row: row, leaves: fieldLeaves[f])))
            }
            result.append(values)
        }
        return result
    }

    private func value(of field: SchemaNode, row: Int, leaves fieldLeaves: [AssemblyLeaf]) throws -> ParquetValue {
        if field.isLeaf, field.repetition != .repeated, let leaf = fieldLeaves.first {
            // A flat column: entry `row` is the row's value (or null).
            return try leafValue(leaf, entry: row, nullBelow: field.maxDefinitionLevel)
        }
        let ranges = Ranges(base: field.leafRange.lowerBound, slots: fieldLeaves.map { $0.entries(ofRow: row) })
        return try value(of: field, ranges)
    }

    /// The value of a field occurrence: a list when the field itself is repeated.
    private func value(of node: SchemaNode, _ ranges: Ranges) throws -> ParquetValue {
        if node.repetition == .repeated {
            return try list(repeated: node, element: nil, ranges)
        }
        return try instance(of: node, ranges)
    }

    /// One instance of `node` (for a repeated node: one element).
    private func instance(of node: SchemaNode, _ ranges: Ranges) throws -> ParquetValue {
        let (leaf, entry) = try firstEntry(node, ranges)
        if leaf.definition(entry) < node.maxDefinitionLevel { return .null }
        if node.isLeaf {
            return try leafValue(leaf, entry: entry, nullBelow: node.maxDefinitionLevel)
        }
        if isList(node), let repeated = node.children.first, node.children.count == 1 {
            return try list(repeated: repeated, element: listElement(of: node, repeated: repeated), ranges)
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

    /// The elements of one occurrence of `repeated`: each is `element`'s value, or (without an element
    /// node) an instance of `repeated` itself.
    private func list(repeated: SchemaNode, element: SchemaNode?, _ ranges: Ranges) throws -> ParquetValue {
        let item = element ?? repeated
        // One leaf repeated no deeper than this list: each entry is one element, read straight from the buffers.
        if item.isLeaf, item.repetition != .repeated || element == nil, repeated.leafRange.count == 1,
           let leaf = leaves[repeated.leafRange.lowerBound], leaf.data.column.maxRepetitionLevel == repeated.maxRepetitionLevel {
            let range = ranges[repeated.leafRange.lowerBound]
            guard let first = range.first else { throw ParquetError(.corruptPage, "no entries for \(repeated.dottedPath)") }
            if leaf.definition(first) < repeated.maxDefinitionLevel { return .list([]) }
            if let preview, range.count > preview.maxListItems {
                return try summary(leaf, entries: range, preview)
            }
            var items: [ParquetValue] = []
            items.reserveCapacity(range.count)
            for entry in range { items.append(try leafValue(leaf, entry: entry, nullBelow: item.maxDefinitionLevel)) }
            return .list(items)
        }
        let parts = try elements(of: repeated, ranges)
        var items: [ParquetValue] = []
        let shown = preview.map { parts.count > $0.maxListItems ? $0.shownItems : parts.count } ?? parts.count
        items.reserveCapacity(shown)
        for part in parts.prefix(shown) {
            items.append(try element.map { try value(of: $0, part) } ?? instance(of: repeated, part))
        }
        if shown < parts.count {
            let rendered = items.map(JSONRendering.render).joined(separator: ", ")
            return .string("[\(parts.count) × \(repeated.isLeaf ? "value" : "list"): \(rendered), …]")
        }
        return .list(items)
    }

    /// Splits a repeated node's occurrence into its elements (an empty list has none).
    private func elements(of node: SchemaNode, _ ranges: Ranges) throws -> [Ranges] {
        let (leaf, entry) = try firstEntry(node, ranges)
        if leaf.definition(entry) < node.maxDefinitionLevel { return [] }
        var result: [Ranges]?
        for leafIndex in node.leafRange {
            guard let leaf = leaves[leafIndex] else { continue }
            let range = ranges[leafIndex]
            var starts: [Int] = [range.lowerBound]
            for i in range.dropFirst() where leaf.repetition(i) <= node.maxRepetitionLevel { starts.append(i) }
            if result == nil { result = Array(repeating: ranges, count: starts.count) }
            guard result?.count == starts.count else {
                throw ParquetError(.corruptPage, "the leaves of \(node.dottedPath) disagree on the number of list elements")
            }
            for (k, start) in starts.enumerated() {
                result?[k].slots[leafIndex - ranges.base] = start..<(k + 1 < starts.count ? starts[k + 1] : range.upperBound)
            }
        }
        return result ?? []
    }

    private func firstEntry(_ node: SchemaNode, _ ranges: Ranges) throws -> (AssemblyLeaf, Int) {
        let leafIndex = node.leafRange.lowerBound
        guard let leaf = leaves[leafIndex], ranges.base <= leafIndex, leafIndex - ranges.base < ranges.slots.count,
              let entry = ranges[leafIndex].first else {
            throw ParquetError(.corruptPage, "no entries for \(node.dottedPath)")
        }
        return (leaf, entry)
    }

    /// The value of one entry of a leaf: null when its definition level is below `nullBelow`.
    private func leafValue(_ leaf: AssemblyLeaf, entry: Int, nullBelow level: Int) throws -> ParquetValue {
        guard entry < leaf.data.entryCount else {
            throw ParquetError(.corruptPage, "no entries for \(leaf.data.column.dottedPath)")
        }
        if leaf.definition(entry) < level { return .null }
        let index = leaf.valueIndex(of: entry)
        guard index < leaf.data.values.count else {
            throw ParquetError(.corruptPage, "column \(leaf.data.column.dottedPath) has fewer values than its definition levels promise")
        }
        let value = leaf.interpretation.value(leaf.data.values, at: index)
        if let preview, case let .string(text) = value, text.utf8.count > preview.maxStringBytes {
            return .string(String(text.prefix(preview.shownStringCharacters)) + "… (\(text.utf8.count) bytes)")
        }
        return value
    }

    /// `[196608 × uint8: 12, 200, 7, …] crc32=…`: the element count, the first few, and the CRC-32 of all
    /// non-null elements as little-endian bytes of the element type (UTF-8 for strings).
    private func summary(_ leaf: AssemblyLeaf, entries range: Range<Int>, _ preview: ValuePreview) throws -> ParquetValue {
        // In entry order: the leaf finds an entry's value by counting forward from the last one asked about.
        let first = leaf.valueIndex(of: range.lowerBound)
        var shown: [String] = []
        for entry in range.prefix(preview.shownItems) {
            shown.append(JSONRendering.render(try leafValue(leaf, entry: entry, nullBelow: leaf.data.column.maxDefinitionLevel)))
        }
        let end = leaf.valueIndex(of: range.upperBound)
        guard end <= leaf.data.values.count else {
            throw ParquetError(.corruptPage, "column \(leaf.data.column.dottedPath) has fewer values than its definition levels promise")
        }
        let checksum = LeafChecksum.crc32(leaf.data.values, first..<end, column: leaf.data.column)
        let type = LeafChecksum.typeName(leaf.data.column, leaf.interpretation)
        return .string("[\(range.count) × \(type): \(shown.joined(separator: ", ")), …] crc32=\(String(checksum, radix: 16).leftPadded(to: 8))")
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

/// How `sluice head` shortens values: lists longer than `maxListItems` show their length, first
/// `shownItems` and a CRC-32; strings longer than `maxStringBytes` their first characters and length.
public struct ValuePreview: Sendable {
    public var maxListItems = 32
    public var shownItems = 3
    public var maxStringBytes = 256
    public var shownStringCharacters = 64

    public init() {}
}

/// One decoded leaf column as the assembler walks it: where each row starts, and which value an entry holds.
final class AssemblyLeaf {
    let data: ColumnChunkData
    let interpretation: LeafInterpretation
    private let maxDefinition: Int16
    /// Entry index of each row's start, then the end of the last complete row; empty when the column is
    /// not repeated (row r is entry r).
    private let rowStarts: [Int]
    /// Rows held completely.
    let rowCount: Int
    // Value index of entry `cursorEntry`: rows and their entries are visited in order, so finding the value of
    // an entry counts only the definition levels since the last one asked about.
    private var cursorEntry = 0
    private var cursorValue = 0
    /// Definition levels counted so far (about `entryCount` when entries are visited in order).
    private(set) var levelsScanned = 0

    init(_ data: ColumnChunkData) {
        self.data = data
        interpretation = LeafInterpretation(data.column)
        maxDefinition = Int16(clamping: data.column.maxDefinitionLevel)
        if data.repetitionLevels.isEmpty {
            rowStarts = []
            rowCount = data.entryCount
        } else {
            var starts: [Int] = []
            starts.reserveCapacity(data.rowCount + 1)
            data.repetitionLevels.withUnsafeBufferPointer { levels in
                for i in 0..<min(levels.count, data.entryCount) where levels[i] == 0 { starts.append(i) }
            }
            // A chunk read in part may end inside a row: its last start then only closes the row before.
            if data.isComplete { starts.append(data.entryCount) }
            rowCount = max(0, starts.count - 1)
            rowStarts = starts
        }
    }

    func entries(ofRow row: Int) -> Range<Int> {
        rowStarts.isEmpty ? row..<(row + 1) : rowStarts[row]..<rowStarts[row + 1]
    }

    func definition(_ entry: Int) -> Int {
        data.definitionLevels.isEmpty ? data.column.maxDefinitionLevel : Int(data.definitionLevels[entry])
    }

    func repetition(_ entry: Int) -> Int {
        data.repetitionLevels.isEmpty ? 0 : Int(data.repetitionLevels[entry])
    }

    /// Index into `data.values` of entry `entry`'s value (the number of values before it); `entry` may be
    /// `entryCount`.
    func valueIndex(of entry: Int) -> Int {
        guard !data.definitionLevels.isEmpty else { return entry }
        if entry < cursorEntry {
            cursorEntry = 0
            cursorValue = 0
        }
        let end = min(entry, data.definitionLevels.count)
        guard cursorEntry < end else { return cursorValue }
        var count = cursorValue
        let maxDefinition = maxDefinition
        data.definitionLevels.withUnsafeBufferPointer { levels in
            for i in cursorEntry..<end where levels[i] == maxDefinition { count += 1 }
        }
        levelsScanned += end - cursorEntry
        cursorEntry = end
        cursorValue = count
        return count
    }
}

extension ParquetFileReader {
    static let maxRowsWithoutColumns = 1 << 20

    /// Reads whole rows of one row group as values (for inspection and tests; the hot paths read columns).
    public func readRows(rowGroup: Int, fields names: [String]? = nil, options: ReadOptions = ReadOptions()) throws -> [[ParquetValue.Field]] {
        try readRows(rowGroup: rowGroup, fields: names, limit: nil, preview: nil, options: options).rows
    }

    /// The first `limit` rows of one row group, decoding only the pages that hold them.
    public func readRows(rowGroup: Int, fields names: [String]? = nil, limit: Int, options: ReadOptions = ReadOptions()) throws -> [[ParquetValue.Field]] {
        try readRows(rowGroup: rowGroup, fields: names, limit: limit, preview: nil, options: options).rows
    }

    /// Rows as values, with the number of data pages decoded to build them.
    func readRows(rowGroup: Int, fields names: [String]?, limit: Int?, preview: ValuePreview?,
                  options: ReadOptions) throws -> (rows: [[ParquetValue.Field]], dataPages: Int) {
        let fields = try names.map { try $0.map { name in
            guard let field = schema.field(named: name) else {
                throw ParquetError(.invalidArgument, "no top-level field named '\(name)'", at: .init(file: source.name))
            }
            return field
        } } ?? schema.fields
        if let limit, limit < 0 {
            throw ParquetError(.invalidArgument, "negative row limit \(limit)", at: .init(file: source.name))
        }
        var columns: [ColumnChunkData] = []
        var dataPages = 0
        for field in fields {
            for leaf in field.leafRange {
                let data = try readColumnChunk(rowGroup: rowGroup, column: leaf, options: options, rowLimit: limit)
                dataPages += data.dataPagesRead
                columns.append(data)
            }
        }
        guard rowGroup >= 0, rowGroup < metadata.rowGroups.count else {
            throw ParquetError(.invalidArgument, "row group \(rowGroup) does not exist", at: .init(file: source.name))
        }
        // readColumnChunk checked each column's rows against this count; with no column read, nothing did.
        let declared = Int(metadata.rowGroups[rowGroup].numRows)
        let rowCount = min(declared, limit ?? declared)
        guard !columns.isEmpty || rowCount <= Self.maxRowsWithoutColumns else {
            throw ParquetError(.limitExceeded, "the row group declares \(rowCount) rows and no column was read to confirm them (at most \(Self.maxRowsWithoutColumns) without columns)",
                               at: .init(file: source.name, rowGroup: rowGroup))
        }
        let rows = try withLocation(.init(file: source.name, rowGroup: rowGroup)) {
            try RecordAssembler(schema: schema, columns: columns, preview: preview)
                .rows(fields: fields, rowCount: rowCount, exact: limit == nil)
        }
        return (rows, dataPages)
    }
}
