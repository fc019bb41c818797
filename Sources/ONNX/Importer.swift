import Inference

/// Lowers a checked ONNX graph into Sluice's graph IR, node by node. ONNX shapes carry the batch first;
/// the IR's are per sample, so an activation's IR shape is its ONNX shape without the first dimension.
struct Importer {
    enum Value {
        /// Computed per batch: the IR value and its per-sample shape.
        case activation(ValueID, [Int])
        case constant(Constant)
        /// A Pad waiting for the convolution it feeds: spatial padding before and after (H, W).
        case padded(ValueID, [Int], begin: [Int], end: [Int])
    }

    let file: String
    let opset: Int
    let reader: TensorReader
    var graph = Graph(inputShape: [])
    var shapes: [ValueID: [Int]] = [:]
    var values: [String: Value] = [:]
    var initializers: [String: Onnx_TensorProto] = [:]
    var usedNames: Set<String> = []

    init(file: String, opset: Int, reader: TensorReader) {
        self.file = file
        self.opset = opset
        self.reader = reader
    }

    mutating func run(_ proto: Onnx_GraphProto) throws -> ONNXModel {
        for tensor in proto.initializer { initializers[tensor.name] = tensor }
        let inputs = proto.input.filter { initializers[$0.name] == nil }
        guard inputs.count == 1, let inputProto = inputs.first else {
            throw ONNXError(.unsupportedAttribute, file: file,
                            "the graph has \(inputs.count) inputs (\(inputs.map(\.name).joined(separator: ", "))); a classifier has one")
        }
        let input = try tensorInfo(inputProto, role: "input")
        guard input.elementType == "float32" else {
            throw ONNXError(.dtypeMismatch, file: file, "input '\(input.name)' is \(input.elementType); float32 is supported")
        }
        guard input.shape.count == 4, input.shape.dropFirst().allSatisfy({ ($0 ?? 0) > 0 }) else {
            throw ONNXError(.shapeMismatch, file: file,
                            "input '\(input.name)' has shape \(input); an image classifier takes [N, C, H, W] with C, H, W given")
        }
        let sample = input.sampleShape
        guard let count = ConstantFolding.count(sample), count > 0 else {
            throw ONNXError(.shapeMismatch, file: file, "input '\(input.name)' shape \(input) is too large")
        }
        graph = Graph(inputShape: sample)
        shapes[graph.input] = sample
        values[input.name] = .activation(graph.input, sample)

        for (index, node) in proto.node.enumerated() {
            try lower(node, index: index)
        }

        guard let outputProto = proto.output.first else {
            throw ONNXError(.missingValue, file: file, "the graph has no output")
        }
        guard case .activation(let id, let outShape)? = values[outputProto.name] else {
            throw ONNXError(.unsupportedAttribute, file: file, "the graph's output '\(outputProto.name)' does not depend on the input")
        }
        graph.output = id
        do { _ = try graph.inferShapes() } catch {
            throw ONNXError(.shapeMismatch, file: file, "the imported graph does not check: \(error)")
        }
        let output = ONNXTensorInfo(name: outputProto.name, elementType: "float32", shape: [input.shape[0]] + outShape.map { $0 })
        return ONNXModel(graph: graph, input: input, output: output, opset: opset)
    }

    private func tensorInfo(_ proto: Onnx_ValueInfoProto, role: String) throws -> ONNXTensorInfo {
        guard case .tensorType(let tensor)? = proto.type.value else {
            throw ONNXError(.dtypeMismatch, file: file, "\(role) '\(proto.name)' is not a tensor")
        }
        let type: String = switch Int(tensor.elemType) {
        case Onnx_TensorProto.DataType.float.rawValue: "float32"
        case Onnx_TensorProto.DataType.float16.rawValue: "float16"
        case Onnx_TensorProto.DataType.uint8.rawValue: "uint8"
        default: "type \(tensor.elemType)"
        }
        let shape: [Int?] = tensor.shape.dim.map { dim in
            if case .dimValue(let v)? = dim.value, v > 0, v <= 1 << 20 { return Int(v) }
            return nil
        }
        return ONNXTensorInfo(name: proto.name, elementType: type, shape: shape)
    }

    // MARK: values

    /// Errors about one node name it, its operator and the opset.
    struct NodeContext {
        let node: Onnx_NodeProto
        let name: String
        let file: String
        let opset: Int

        func error(_ kind: ONNXError.Kind, _ why: String) -> ONNXError {
            ONNXError(kind, file: file, node: node.name.isEmpty ? name : node.name, op: node.opType, opset: opset, why)
        }
    }

    /// The value named `name`, converting an initializer on first use.
    mutating func value(_ name: String, _ context: NodeContext) throws -> Value {
        if let v = values[name] { return v }
        if let proto = initializers[name] {
            let v = Value.constant(try reader.constant(proto, node: context.node.name))
            values[name] = v
            return v
        }
        throw context.error(.missingValue, "reads '\(name)', which nothing defines")
    }

    /// Input `index` of the node, or nil where it is absent or empty (optional inputs).
    mutating func optionalInput(_ index: Int, _ context: NodeContext) throws -> Value? {
        guard index < context.node.input.count, !context.node.input[index].isEmpty else { return nil }
        return try value(context.node.input[index], context)
    }

    mutating func input(_ index: Int, _ context: NodeContext) throws -> Value {
        guard let v = try optionalInput(index, context) else {
            throw context.error(.missingValue, "input \(index) is missing")
        }
        return v
    }

    mutating func constantInput(_ index: Int, _ context: NodeContext, what: String) throws -> Constant {
        guard case .constant(let c) = try input(index, context) else {
            throw context.error(.unsupportedAttribute, "\(what) (input \(index)) must be a constant")
        }
        return c
    }

    func activation(_ value: Value, _ context: NodeContext) throws -> (ValueID, [Int]) {
        switch value {
        case .activation(let id, let shape): return (id, shape)
        case .padded: throw context.error(.unsupportedAttribute, "reads the result of a Pad; only Conv takes a padded input")
        case .constant: throw context.error(.unsupportedAttribute, "computes on constants only, which this operator does not fold")
        }
    }

    /// The most elements one sample's activation may hold (a 64×224×224 layer holds 3.2 M). Growth is possible
    /// (padding adds up to 2^17 per layer, a Concat of a value with itself doubles it), and shape inference
    /// multiplies and adds extents unchecked: bounding every value keeps the next node's arithmetic in range.
    static let maximumActivationElements = 1 << 31

    /// Appends an IR node and returns its value with its per-sample shape.
    mutating func add(_ operation: Operation, _ inputs: [ValueID], _ context: NodeContext) throws -> Value {
        let id = graph.add(operation, inputs, name: context.name)
        let shape: [Int]
        do {
            shape = try ShapeInference.output(of: graph.nodes[graph.nodes.count - 1], inputs: inputs.map { shapes[$0] ?? [] })
        } catch {
            throw context.error(.shapeMismatch, "\(error)")
        }
        var elements = 1
        for extent in shape {
            let (product, overflow) = elements.multipliedReportingOverflow(by: extent)
            guard extent >= 0, !overflow, product <= Self.maximumActivationElements else {
                throw context.error(.shapeMismatch, "output [N] + \(shape) is larger than \(Self.maximumActivationElements) elements per sample")
            }
            elements = product
        }
        shapes[id] = shape
        return .activation(id, shape)
    }

    mutating func define(_ context: NodeContext, _ value: Value) {
        if let name = context.node.output.first, !name.isEmpty { values[name] = value }
    }

    /// A unique IR node name (weights are cached by it).
    mutating func uniqueName(_ node: Onnx_NodeProto, index: Int) -> String {
        var name = node.name.isEmpty ? "\(node.opType)_\(index)" : node.name
        if usedNames.contains(name) { name += "#\(index)" }
        usedNames.insert(name)
        return name
    }

    // MARK: attributes

    static func attributes(_ node: Onnx_NodeProto) -> [String: Onnx_AttributeProto] {
        var result: [String: Onnx_AttributeProto] = [:]
        for a in node.attribute { result[a.name] = a }
        return result
    }
}
