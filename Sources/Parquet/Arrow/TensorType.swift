import Foundation

/// A tensor column's description, from a field's extension metadata
/// (`ARROW:extension:name` and `ARROW:extension:metadata`).
public struct TensorType: Sendable, Equatable {
    /// The physical (row-major) shape of one row's tensor.
    public var shape: [Int]
    /// The type of one tensor element (never a nested type).
    public var elementType: ArrowType
    /// `ray.data.arrow_tensor`, `ray.data.arrow_tensor_v2` or `arrow.fixed_shape_tensor`.
    public var extensionName: String
    /// `arrow.fixed_shape_tensor`'s optional names of the physical dimensions.
    public var dimensionNames: [String]?
    /// `arrow.fixed_shape_tensor`'s optional logical order: logical dimension `i` is physical
    /// dimension `permutation[i]`. It does not change how the elements are stored.
    public var permutation: [Int]?

    public init(shape: [Int], elementType: ArrowType, extensionName: String,
                dimensionNames: [String]? = nil, permutation: [Int]? = nil) {
        self.shape = shape
        self.elementType = elementType
        self.extensionName = extensionName
        self.dimensionNames = dimensionNames
        self.permutation = permutation
    }

    /// The number of elements in one tensor: the product of `shape` (detection guarantees it
    /// fits in an `Int`; a hand-made shape that overflows saturates at `Int.max`).
    public var elementCount: Int {
        TensorType.product(shape) ?? Int.max
    }

    /// The product of `dimensions`, or nil when it overflows.
    static func product(_ dimensions: [Int]) -> Int? {
        var result = 1
        for dimension in dimensions {
            let (next, overflow) = result.multipliedReportingOverflow(by: dimension)
            if overflow { return nil }
            result = next
        }
        return result
    }
}

public enum TensorTypeDetection: Sendable, Equatable {
    /// The field carries no tensor extension type.
    case notATensor
    case tensor(TensorType)
    /// The field is a tensor column this reader cannot interpret; `reason` says why and what to do.
    case unsupported(reason: String)
}

extension ArrowField {
    /// Whether this field is a tensor column, from its extension metadata:
    /// - `ray.data.arrow_tensor` / `ray.data.arrow_tensor_v2`: JSON shape (`[256, 256, 3]`),
    ///   storage `list<element>` / `large_list<element>`;
    /// - `arrow.fixed_shape_tensor`: JSON `{"shape": [...], "dim_names": [...], "permutation": [...]}`,
    ///   storage `fixed_size_list<element>[product of shape]`.
    public var tensorType: TensorTypeDetection {
        guard let name = extensionName else { return .notATensor }
        let metadata = metadataBytes(ArrowField.extensionMetadataKey) ?? []
        switch name {
        case TensorExtensionName.rayTensor, TensorExtensionName.rayTensorV2:
            return detectRayTensor(name: name, metadata: metadata)
        case TensorExtensionName.fixedShapeTensor:
            return detectFixedShapeTensor(metadata: metadata)
        case TensorExtensionName.rayVariableShapedTensor:
            return .unsupported(reason: "column '\(self.name)' holds variable-shaped tensors (\(name)): each row "
                + "stores its own shape beside its data (struct<data: large_list<element>, shape: list<int64>>); "
                + "reading it needs per-row shape handling, which is not implemented. Give every row the same "
                + "shape (resize or pad) so that Ray writes a fixed-shape tensor column")
        case TensorExtensionName.variableShapeTensor:
            return .unsupported(reason: "column '\(self.name)' holds variable-shaped tensors (\(name)): each row "
                + "stores its own shape (struct<data: list<element>, shape: fixed_size_list<int32>[ndim]>); "
                + "reading it needs per-row shape handling, which is not implemented. Write the column as "
                + "arrow.fixed_shape_tensor instead")
        case TensorExtensionName.pythonPickledType:
            // Ray 2.8 and earlier built its tensor types on pyarrow.PyExtensionType, which stores
            // the whole Python type as a pickle; the class name is visible in the pickle.
            guard contains(metadata, "TensorType") else { return .notATensor }
            return .unsupported(reason: "column '\(self.name)' is a tensor column written by Ray 2.8 or earlier, "
                + "which stores its type as a Python pickle (\(name)) that cannot be read safely outside Python. "
                + "Re-write the data with Ray 2.9 or later (which stores the shape as JSON)")
        default:
            return .notATensor
        }
    }

    private func detectRayTensor(name: String, metadata: [UInt8]) -> TensorTypeDetection {
        if metadata.first == 0x80 {
            return .unsupported(reason: "the shape of tensor column '\(self.name)' (\(name)) is a Python pickle: "
                + "Ray 2.49 to 2.54 serialized tensor extension metadata with cloudpickle by default, which cannot "
                + "be read safely outside Python. Re-write the data with a Ray that stores the shape as JSON: a "
                + "current release (2.60 does by default), 2.48 or earlier, or 2.49 to 2.54 with "
                + "RAY_DATA_ARROW_EXTENSION_SERIALIZATION_LEGACY_JSON_FORMAT=1 set while writing")
        }
        let shape: [Int]
        if let list = try? JSONDecoder().decode([Int].self, from: Data(metadata)) {
            shape = list
        } else if let object = try? JSONDecoder().decode(ShapeObject.self, from: Data(metadata)) {
            shape = object.shape
        } else {
            return .unsupported(reason: "the extension metadata of tensor column '\(self.name)' (\(name)) is not "
                + "a JSON list of integers such as [256, 256, 3]: \(preview(metadata))")
        }
        switch type {
        case .list, .largeList:
            break
        default:
            return .unsupported(reason: "tensor column '\(self.name)' (\(name)) has storage type \(typeDescription), "
                + "expected list<element> or large_list<element>")
        }
        return makeTensor(name: name, shape: shape, dimensionNames: nil, permutation: nil)
    }

    private func detectFixedShapeTensor(metadata: [UInt8]) -> TensorTypeDetection {
        let name = TensorExtensionName.fixedShapeTensor
        guard let parameters = try? JSONDecoder().decode(FixedShapeTensorParameters.self, from: Data(metadata)) else {
            return .unsupported(reason: "the extension metadata of tensor column '\(self.name)' (\(name)) is not "
                + "a JSON object with an integer list \"shape\": \(preview(metadata))")
        }
        guard case .fixedSizeList(let listSize) = type else {
            return .unsupported(reason: "tensor column '\(self.name)' (\(name)) has storage type \(typeDescription), "
                + "expected fixed_size_list<element>[n]")
        }
        let dimensions = parameters.shape.count
        if let names = parameters.dim_names, names.count != dimensions {
            return .unsupported(reason: "tensor column '\(self.name)' (\(name)) has \(names.count) dim_names "
                + "for a \(dimensions)-dimensional shape \(parameters.shape)")
        }
        if let permutation = parameters.permutation, permutation.sorted() != Array(0..<dimensions) {
            return .unsupported(reason: "tensor column '\(self.name)' (\(name)) has permutation \(permutation), "
                + "which is not a permutation of 0..<\(dimensions)")
        }
        let detection = makeTensor(name: name, shape: parameters.shape,
                                   dimensionNames: parameters.dim_names, permutation: parameters.permutation)
        if case .tensor(let tensor) = detection, tensor.elementCount != listSize {
            return .unsupported(reason: "tensor column '\(self.name)' (\(name)) has shape \(parameters.shape) "
                + "(\(tensor.elementCount) elements) but its storage holds \(listSize) elements per row")
        }
        return detection
    }

    /// Checks the shape and the element (the storage list's only child) shared by both kinds.
    private func makeTensor(name: String, shape: [Int], dimensionNames: [String]?, permutation: [Int]?) -> TensorTypeDetection {
        if let bad = shape.first(where: { $0 <= 0 }) {
            return .unsupported(reason: "tensor column '\(self.name)' (\(name)) has shape \(shape) with a "
                + "non-positive dimension \(bad)")
        }
        guard TensorType.product(shape) != nil else {
            return .unsupported(reason: "tensor column '\(self.name)' (\(name)) has shape \(shape) whose "
                + "element count overflows a 64-bit integer")
        }
        guard children.count == 1 else {
            return .unsupported(reason: "tensor column '\(self.name)' (\(name)) has \(children.count) storage "
                + "children, expected 1")
        }
        let element = children[0]
        guard element.children.isEmpty else {
            return .unsupported(reason: "tensor column '\(self.name)' (\(name)) has nested elements of type "
                + "\(element.typeDescription); only flat element types are supported")
        }
        return .tensor(TensorType(shape: shape, elementType: element.type, extensionName: name,
                                  dimensionNames: dimensionNames, permutation: permutation))
    }

    private func contains(_ bytes: [UInt8], _ text: String) -> Bool {
        let needle = Array(text.utf8)
        guard !needle.isEmpty, bytes.count >= needle.count else { return false }
        for start in 0...(bytes.count - needle.count) where bytes[start..<(start + needle.count)].elementsEqual(needle) {
            return true
        }
        return false
    }

    private func preview(_ bytes: [UInt8]) -> String {
        if bytes.isEmpty { return "(empty)" }
        let text = String(decoding: bytes.prefix(80), as: UTF8.self)
        return "'" + text + (bytes.count > 80 ? "…'" : "'")
    }
}

enum TensorExtensionName {
    static let rayTensor = "ray.data.arrow_tensor"
    static let rayTensorV2 = "ray.data.arrow_tensor_v2"
    static let rayVariableShapedTensor = "ray.data.arrow_variable_shaped_tensor"
    static let fixedShapeTensor = "arrow.fixed_shape_tensor"
    static let variableShapeTensor = "arrow.variable_shape_tensor"
    static let pythonPickledType = "arrow.py_extension_type"
}

/// Some Ray versions may store the shape as an object rather than a bare list.
private struct ShapeObject: Decodable {
    var shape: [Int]
}

/// `arrow.fixed_shape_tensor`'s serialized parameters (canonical extension types spec).
private struct FixedShapeTensorParameters: Decodable {
    var shape: [Int]
    var dim_names: [String]?
    var permutation: [Int]?
}
