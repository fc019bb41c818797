/// Shredding of common column shapes into levels and values, for the writer.
extension ColumnWriteData {
    /// A required top-level column: every row one value.
    public static func required(_ values: ColumnValues) -> ColumnWriteData {
        ColumnWriteData(values: values)
    }

    /// An optional top-level column: nil rows are nulls.
    public static func optional<T>(_ rows: [T?], _ makeValues: ([T]) -> ColumnValues) -> ColumnWriteData {
        ColumnWriteData(values: makeValues(rows.compactMap { $0 }), definitionLevels: rows.map { $0 == nil ? 0 : 1 })
    }

    /// A three-level list column (`FieldSpec.list`): nil rows are null lists, nil items null elements.
    public static func lists<T>(_ rows: [[T?]?], nullableList: Bool = true, nullableElement: Bool = true,
                                _ makeValues: ([T]) -> ColumnValues) -> ColumnWriteData {
        let listDefined: Int16 = nullableList ? 1 : 0
        let elementSlot = listDefined + 1
        let present = elementSlot + (nullableElement ? 1 : 0)
        var definition: [Int16] = []
        var repetition: [Int16] = []
        var values: [T] = []
        for row in rows {
            guard let row else {
                definition.append(0)
                repetition.append(0)
                continue
            }
            if row.isEmpty {
                definition.append(listDefined)
                repetition.append(0)
                continue
            }
            for (i, item) in row.enumerated() {
                repetition.append(i == 0 ? 0 : 1)
                if let item {
                    definition.append(present)
                    values.append(item)
                } else {
                    definition.append(elementSlot)
                }
            }
        }
        return ColumnWriteData(values: makeValues(values), definitionLevels: definition, repetitionLevels: repetition)
    }
}

extension BinaryValues {
    /// Values from byte arrays or strings.
    public init<S: Sequence>(_ items: S) where S.Element: Sequence, S.Element.Element == UInt8 {
        self.init()
        for item in items {
            let bytes = Array(item)
            bytes.withUnsafeBytes { append($0) }
        }
    }

    public init(strings: [String]) {
        self.init(strings.map { Array($0.utf8) })
    }
}
