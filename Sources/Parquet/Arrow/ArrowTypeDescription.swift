// Type names as pyarrow prints them (`str(pa.list_(pa.uint8()))` is "list<item: uint8>").

extension ArrowType: CustomStringConvertible {
    /// The pyarrow name of this type. A nested type's children live in `ArrowField.children`, so
    /// here it prints without them ("list", "struct"); `ArrowField.typeDescription` prints them.
    public var description: String {
        switch self {
        case .null: return "null"
        case .bool: return "bool"
        case .int(let bitWidth, let signed): return (signed ? "int" : "uint") + String(bitWidth)
        case .floatingPoint(.half): return "halffloat"
        case .floatingPoint(.single): return "float"
        case .floatingPoint(.double): return "double"
        case .binary: return "binary"
        case .largeBinary: return "large_binary"
        case .utf8: return "string"
        case .largeUtf8: return "large_string"
        case .fixedSizeBinary(let byteWidth): return "fixed_size_binary[\(byteWidth)]"
        case .decimal(let precision, let scale, let bitWidth): return "decimal\(bitWidth)(\(precision), \(scale))"
        case .date(.day): return "date32[day]"
        case .date(.millisecond): return "date64[ms]"
        case .time(let unit, let bitWidth): return "time\(bitWidth)[\(unit.abbreviation)]"
        case .timestamp(let unit, let timezone):
            if let timezone, !timezone.isEmpty { return "timestamp[\(unit.abbreviation), tz=\(timezone)]" }
            return "timestamp[\(unit.abbreviation)]"
        case .duration(let unit): return "duration[\(unit.abbreviation)]"
        case .interval(.yearMonth): return "month_interval"
        case .interval(.dayTime): return "day_time_interval"
        case .interval(.monthDayNano): return "month_day_nano_interval"
        case .list: return "list"
        case .largeList: return "large_list"
        case .fixedSizeList(let listSize): return "fixed_size_list[\(listSize)]"
        case .structType: return "struct"
        case .map: return "map"
        case .union(.sparse, _): return "sparse_union"
        case .union(.dense, _): return "dense_union"
        case .binaryView: return "binary_view"
        case .utf8View: return "string_view"
        case .listView: return "list_view"
        case .largeListView: return "large_list_view"
        case .runEndEncoded: return "run_end_encoded"
        case .dictionary(_, let indexBitWidth, let indexSigned, let ordered, let valueType):
            let index = ArrowType.int(bitWidth: indexBitWidth, signed: indexSigned)
            return "dictionary<values=\(valueType), indices=\(index), ordered=\(ordered ? 1 : 0)>"
        case .unknown(let typeID): return "unknown<type id \(typeID)>"
        }
    }
}

extension ArrowType.TimeUnit {
    var abbreviation: String {
        switch self {
        case .second: return "s"
        case .millisecond: return "ms"
        case .microsecond: return "us"
        case .nanosecond: return "ns"
        }
    }
}

extension ArrowField: CustomStringConvertible {
    /// "name: type", with " not null" for a non-nullable field, as pyarrow prints a field.
    public var description: String {
        "\(name): \(typeDescription)" + (nullable ? "" : " not null")
    }

    /// The field's type with its children, as pyarrow prints it: "list<item: uint8>",
    /// "fixed_size_list<item: float>[12]", "map<string, int64>".
    public var typeDescription: String {
        ArrowField.describe(type, children: children)
    }

    private static func describe(_ type: ArrowType, children: [ArrowField]) -> String {
        switch type {
        case .list where children.count == 1:
            return "list<\(children[0])>"
        case .largeList where children.count == 1:
            return "large_list<\(children[0])>"
        case .listView where children.count == 1:
            return "list_view<\(children[0])>"
        case .largeListView where children.count == 1:
            return "large_list_view<\(children[0])>"
        case .fixedSizeList(let listSize) where children.count == 1:
            return "fixed_size_list<\(children[0])>[\(listSize)]"
        case .structType:
            return "struct<" + children.map(\.description).joined(separator: ", ") + ">"
        case .map(let keysSorted) where children.count == 1 && children[0].children.count == 2:
            let key = children[0].children[0]
            let item = children[0].children[1]
            var text = "map<" + key.typeDescription + (key.name == "key" ? "" : " ('\(key.name)')")
            text += ", " + item.typeDescription + (item.name == "value" ? "" : " ('\(item.name)')")
            return text + (keysSorted ? ", keys_sorted>" : ">")
        case .union(let mode, let typeIds):
            let codes = typeIds ?? Array(children.indices)
            let members = children.enumerated().map { index, child in
                "\(child)=" + (index < codes.count ? String(codes[index]) : "?")
            }
            return (mode == .sparse ? "sparse_union<" : "dense_union<") + members.joined(separator: ", ") + ">"
        case .runEndEncoded where children.count == 2:
            return "run_end_encoded<run_ends: \(children[0].typeDescription), values: \(children[1].typeDescription)>"
        case .dictionary(_, let indexBitWidth, let indexSigned, let ordered, let valueType):
            let index = ArrowType.int(bitWidth: indexBitWidth, signed: indexSigned)
            return "dictionary<values=\(describe(valueType, children: children)), indices=\(index), ordered=\(ordered ? 1 : 0)>"
        default:
            return type.description
        }
    }
}

extension ArrowSchema: CustomStringConvertible {
    /// One field per line, as the first part of pyarrow's `str(schema)`.
    public var description: String {
        fields.map(\.description).joined(separator: "\n")
    }
}
