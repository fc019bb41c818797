/// Describes a column to write, from which the writer derives the Parquet schema elements and the
/// Arrow schema (so pyarrow and Ray read the columns back with their Arrow types and tensor shapes).
public indirect enum FieldSpec: Sendable {
    case primitive(name: String, type: PhysicalType, logical: LogicalType? = nil, typeLength: Int? = nil, nullable: Bool = true)
    /// A three-level LIST: `<name> (LIST) { repeated group list { <element> } }`.
    case list(name: String, element: FieldSpec, nullable: Bool = true)
    case group(name: String, fields: [FieldSpec], nullable: Bool = true)
    /// A fixed-shape tensor column stored as Ray Data stores it (a LIST of numbers, shape in the Arrow schema).
    case tensor(name: String, element: TensorElement, shape: [Int], layout: TensorLayout = .rayV2)

    public var name: String {
        switch self {
        case let .primitive(name, _, _, _, _), let .list(name, _, _), let .group(name, _, _), let .tensor(name, _, _, _): name
        }
    }

    public static func string(_ name: String, nullable: Bool = true) -> FieldSpec {
        .primitive(name: name, type: .byteArray, logical: .string, nullable: nullable)
    }
}

/// How the Arrow schema labels a tensor column (the Parquet layout is the same for all three).
public enum TensorLayout: String, Sendable, CaseIterable {
    /// `ray.data.arrow_tensor`: list<element>, metadata `[d0, d1, ...]`.
    case rayV1 = "ray.data.arrow_tensor"
    /// `ray.data.arrow_tensor_v2`: large_list<element>, metadata `[d0, d1, ...]`.
    case rayV2 = "ray.data.arrow_tensor_v2"
    /// Arrow's canonical `arrow.fixed_shape_tensor`: fixed_size_list<element>[n], metadata `{"shape":[...]}`.
    case fixedShape = "arrow.fixed_shape_tensor"
}

extension FieldSpec {
    /// The equivalent plain Parquet field (a tensor is a list of its elements).
    var storage: FieldSpec {
        guard case let .tensor(name, element, _, _) = self else { return self }
        return .list(name: name, element: .primitive(name: "element", type: element.physicalType, logical: element.logicalType, nullable: true))
    }

    /// Depth-first schema elements for this field.
    func schemaElements() -> [SchemaElement] {
        switch storage {
        case let .primitive(name, type, logical, typeLength, nullable):
            var element = SchemaElement(name: name)
            element.type = type
            element.repetition = nullable ? .optional : .required
            element.logicalType = logical
            element.convertedType = logical.flatMap(Self.convertedType)
            if case let .decimal(precision, scale)? = logical {
                element.precision = precision
                element.scale = scale
            }
            if let typeLength { element.typeLength = Int32(typeLength) }
            return [element]
        case let .list(name, elementSpec, nullable):
            var outer = SchemaElement(name: name)
            outer.repetition = nullable ? .optional : .required
            outer.numChildren = 1
            outer.logicalType = .list
            outer.convertedType = .list
            var middle = SchemaElement(name: "list")
            middle.repetition = .repeated
            middle.numChildren = 1
            return [outer, middle] + elementSpec.schemaElements()
        case let .group(name, fields, nullable):
            var element = SchemaElement(name: name)
            element.repetition = nullable ? .optional : .required
            element.numChildren = Int32(fields.count)
            return [element] + fields.flatMap { $0.schemaElements() }
        case .tensor:
            return []  // unreachable: storage is never a tensor
        }
    }

    private static func convertedType(_ logical: LogicalType) -> ConvertedType? {
        switch logical {
        case .string: .utf8
        case .decimal: .decimal
        case .date: .date
        case let .integer(bits, signed):
            switch (bits, signed) {
            case (8, true): .int8
            case (16, true): .int16
            case (32, true): .int32
            case (64, true): .int64
            case (8, false): .uint8
            case (16, false): .uint16
            case (32, false): .uint32
            default: .uint64
            }
        case .timestamp(_, .millis): .timestampMillis
        case .timestamp(_, .micros): .timestampMicros
        case .time(_, .millis): .timeMillis
        case .time(_, .micros): .timeMicros
        case .json: .json
        case .bson: .bson
        case .enumeration: .enumeration
        default: nil
        }
    }

    /// The Arrow field pyarrow would read this column as.
    func arrowField() -> ArrowField {
        switch self {
        case let .tensor(name, element, shape, layout):
            let item = ArrowField(name: "item", nullable: true, type: element.arrowType, children: [], metadata: [])
            // Exactly what Ray 2.x writes: "[256, 256, 3]", the metadata key before the name.
            let dims = shape.map(String.init).joined(separator: ", ")
            let (type, metadata): (ArrowType, String) = switch layout {
            case .rayV1: (.list, "[\(dims)]")
            case .rayV2: (.largeList, "[\(dims)]")
            case .fixedShape: (.fixedSizeList(listSize: shape.reduce(1, *)),
                               "{\"shape\":[\(shape.map(String.init).joined(separator: ","))],\"permutation\":[\((0..<shape.count).map(String.init).joined(separator: ","))]}")
            }
            return ArrowField(name: name, nullable: true, type: type, children: [item],
                              metadata: [ArrowKeyValue(key: "ARROW:extension:metadata", value: metadata),
                                         ArrowKeyValue(key: "ARROW:extension:name", value: layout.rawValue)])
        case let .list(name, element, nullable):
            var item = element.arrowField()
            item.name = "element"
            return ArrowField(name: name, nullable: nullable, type: .list, children: [item], metadata: [])
        case let .group(name, fields, nullable):
            return ArrowField(name: name, nullable: nullable, type: .structType, children: fields.map { $0.arrowField() }, metadata: [])
        case let .primitive(name, type, logical, typeLength, nullable):
            return ArrowField(name: name, nullable: nullable, type: Self.arrowType(type, logical, typeLength), children: [], metadata: [])
        }
    }

    private static func arrowType(_ type: PhysicalType, _ logical: LogicalType?, _ typeLength: Int?) -> ArrowType {
        switch (type, logical) {
        case (_, .string?): return .utf8
        case let (_, .integer(bits, signed)?): return .int(bitWidth: Int(bits), signed: signed)
        case let (_, .decimal(precision, scale)?): return .decimal(precision: Int(precision), scale: Int(scale), bitWidth: precision > 38 ? 256 : 128)
        case (_, .date?): return .date(.day)
        case let (_, .timestamp(utc, unit)?):
            return .timestamp(arrowUnit(unit), timezone: utc ? "UTC" : nil)
        case (.boolean, _): return .bool
        case (.int32, _): return .int(bitWidth: 32, signed: true)
        case (.int64, _): return .int(bitWidth: 64, signed: true)
        case (.float, _): return .floatingPoint(.single)
        case (.double, _): return .floatingPoint(.double)
        case (.fixedLenByteArray, _): return .fixedSizeBinary(byteWidth: typeLength ?? 0)
        default: return .binary
        }
    }

    private static func arrowUnit(_ unit: TimeUnit) -> ArrowType.TimeUnit {
        switch unit {
        case .millis: .millisecond
        case .micros: .microsecond
        case .nanos: .nanosecond
        }
    }
}
