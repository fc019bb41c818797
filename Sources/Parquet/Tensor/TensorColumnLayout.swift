import Foundation

/// What a column holds, as far as reading images or tensors from it goes, decided from the schema and the
/// footer's metadata alone (no page is read).
public enum TensorColumnLayout: Sendable, Equatable, CustomStringConvertible {
    /// Ray's or Arrow's tensor extension type: shape and element type in the Arrow schema.
    case taggedTensor(TensorType, storage: TensorStorage)
    /// One flattened tensor per row in a `list`, `large_list` or `fixed_size_list` of numbers (pyarrow from
    /// numpy, Spark's `array<…>`); `fixedLength` when the Arrow schema says (`fixed_size_list<…>[n]`).
    case flatList(storage: TensorStorage, fixedLength: Int?)
    /// Lists nested `depth` deep (`list<list<list<uint8>>>`, Hugging Face `datasets`' Array3D); `shape` from
    /// the footer's `huggingface` metadata when it has one.
    case nestedList(storage: TensorStorage, depth: Int, shape: [Int]?)
    /// Encoded images (JPEG, PNG): a binary column, or a struct's `bytes` field (Hugging Face `Image`).
    case binaryImages(leaf: Int)
    /// Nothing this reader can take images from; `reason` says what the column is.
    case other(reason: String)

    /// The shape the file gives, if it gives one.
    public var shape: [Int]? {
        switch self {
        case let .taggedTensor(type, _): type.shape
        case let .nestedList(_, _, shape): shape
        case .flatList, .binaryImages, .other: nil
        }
    }

    /// The storage of a numeric tensor column (nil for encoded images and other columns).
    public var storage: TensorStorage? {
        switch self {
        case let .taggedTensor(_, storage), let .flatList(storage, _), let .nestedList(storage, _, _): storage
        case .binaryImages, .other: nil
        }
    }

    /// True for a tensor column of floating-point numbers: already-preprocessed model input.
    public var holdsFloats: Bool { storage?.isFloatingPoint ?? false }

    /// The element type a tensor extension type names (nil when none does).
    var taggedElement: TensorElement? {
        if case let .taggedTensor(type, _) = self { return TensorElement(arrow: type.elementType) }
        return nil
    }

    public var description: String {
        switch self {
        case let .taggedTensor(type, _): "tensor \(type.shape) \(TensorElement(arrow: type.elementType).map { "\($0)" } ?? type.elementType.description) (\(type.extensionName))"
        case let .flatList(storage, length?): "fixed_size_list<\(storage)>[\(length)]"
        case let .flatList(storage, nil): "list<\(storage)>"
        case let .nestedList(storage, depth, shape):
            String(repeating: "list<", count: depth) + storage.description + String(repeating: ">", count: depth)
                + (shape.map { " shape \($0) (huggingface metadata)" } ?? "")
        case .binaryImages: "encoded image bytes"
        case let .other(reason): reason
        }
    }

    /// How the top-level field `name` of `file` stores its data.
    public static func describe(file: ParquetFileReader, field name: String) throws -> TensorColumnLayout {
        let at = ParquetError.Location(file: file.source.name, column: name)
        guard let field = file.schema.field(named: name) else {
            throw ParquetError(.invalidArgument, "no top-level field named '\(name)'", at: at)
        }
        if let leaf = encodedLeaf(field) { return .binaryImages(leaf: leaf) }
        // First: a tensor type this reader cannot read (variable shapes, pickled metadata) is an error that says why.
        let tagged = try TensorColumnReader.describedTensor(file: file, field: name)
        guard field.leafRange.count == 1 else {
            return .other(reason: "\(field.leafRange.count) leaf columns")
        }
        let leaf = file.schema.columns[field.leafRange.lowerBound]
        guard leaf.maxRepetitionLevel >= 1 else { return .other(reason: "not a list (\(leaf.physicalType))") }
        guard let storage = TensorStorage(leaf: leaf) else {
            return .other(reason: "a list of \(leaf.physicalType) values that are not numbers")
        }
        if let tensor = tagged {
            return .taggedTensor(tensor, storage: storage)
        }
        if leaf.maxRepetitionLevel == 1 {
            var length: Int?
            if case let .fixedSizeList(size)? = try file.arrowField(named: name)?.type { length = size }
            return .flatList(storage: storage, fixedLength: length)
        }
        let shape = huggingFaceShape(file.metadata.metadataValue("huggingface"), field: name)
        return .nestedList(storage: storage, depth: leaf.maxRepetitionLevel, shape: shape)
    }

    /// Leaf index of encoded image bytes: a binary (not UTF-8) column, or a struct with a `bytes` field.
    static func encodedLeaf(_ field: SchemaNode) -> Int? {
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

    /// `{"info": {"features": {name: {"_type": "Array3D", "shape": [h, w, c], "dtype": …}}}}`, as `datasets`
    /// writes it; nil when absent, malformed, or not an ArrayND feature with positive dimensions.
    static func huggingFaceShape(_ json: String?, field name: String) -> [Int]? {
        guard let json, json.utf8.count <= 1 << 24,
              let root = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
              let info = root["info"] as? [String: Any], let features = info["features"] as? [String: Any],
              let feature = features[name] as? [String: Any],
              let type = feature["_type"] as? String, type.hasPrefix("Array"),
              let dimensions = feature["shape"] as? [Any] else { return nil }
        let shape = dimensions.compactMap { ($0 as? NSNumber)?.intValue }
        guard shape.count == dimensions.count, !shape.isEmpty, shape.count <= 8, shape.allSatisfy({ $0 > 0 }),
              TensorType.product(shape) != nil else { return nil }
        return shape
    }
}
