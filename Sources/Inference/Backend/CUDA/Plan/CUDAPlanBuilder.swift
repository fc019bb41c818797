/// Lowers an optimised graph to a `CUDAPlan`, node by node in graph order.
struct CUDAPlanBuilder {
    let graph: Graph
    let shapes: [ValueID: [Int]]
    let consumers: [ValueID: [Int]]
    let batch: Int
    let precision: Precision
    let computeType: CUDADataType
    let inputEncoding: ModelInputEncoding
    let options: CUDAPlanOptions

    var tensors: [CUDATensor] = []
    var steps: [CUDAStep] = []
    var launches: [CUDALaunch] = []
    var weights: [CUDAWeight] = []
    var payloads: [CUDAWeightPayload] = []
    var weightsEnd = 0
    /// The tensor holding each graph value (several values share one after a no-op flatten or an in-place step).
    var valueTensors: [ValueID: CUDATensorID] = [:]
    var tensorValues: [CUDATensorID: [ValueID]] = [:]
    /// Copies of a tensor in another element type, made once.
    var conversions: [CUDATensorID: [CUDADataType: CUDATensorID]] = [:]
    /// Activation nodes already applied by the step before them.
    var fusedNodes: Set<Int> = []
    var inputTensor = CUDATensorID(0)

    init(graph: Graph, batch: Int, precision: Precision, computeType: CUDADataType, inputEncoding: ModelInputEncoding,
         options: CUDAPlanOptions) throws {
        self.graph = graph
        self.shapes = try graph.inferShapes()
        self.consumers = graph.consumers()
        self.batch = batch
        self.precision = precision
        self.computeType = computeType
        self.inputEncoding = inputEncoding
        self.options = options
    }

    mutating func build() throws -> CUDAPlan {
        guard !graph.nodes.isEmpty, graph.output != graph.input else {
            throw CUDAPlanError(.unsupportedNode(node: "output", operation: "none", why: "the graph computes nothing"))
        }
        try lowerInput()
        for (index, node) in graph.nodes.enumerated() where !fusedNodes.contains(index) {
            try lower(node, index: index)
        }
        let output = try finishOutput()
        let arenaSize = try placeTensors(output: output)
        return CUDAPlan(batchSize: batch, precision: precision, computeType: computeType, inputEncoding: inputEncoding,
                        inputShape: graph.inputShape, outputShape: shapes[graph.output] ?? [], tensors: tensors,
                        input: inputTensor, output: output, steps: steps, launches: launches, weights: weights,
                        weightsByteCount: weightsEnd, arenaByteCount: arenaSize, payloads: payloads)
    }

    // MARK: tensors and weights

    static func product(_ factors: [Int], _ what: @autoclosure () -> String) throws -> Int {
        var result = 1
        for factor in factors {
            let (p, overflow) = result.multipliedReportingOverflow(by: factor)
            guard !overflow else { throw CUDAPlanError(.sizeOverflow(what: what())) }
            result = p
        }
        return result
    }

    /// A new tensor. Its elements must fit cuDNN's and the kernels' 32-bit element indices.
    mutating func newTensor(_ name: String, _ shape: CUDAShape, _ dtype: CUDADataType,
                            _ layout: CUDATensorLayout = .nhwc) throws -> CUDATensorID {
        let elements = try Self.product([shape.n, shape.h, shape.w, shape.c], "tensor \(name) of \(shape)")
        guard elements <= Int(Int32.max) else {
            throw CUDAPlanError(.sizeOverflow(what: "tensor \(name) of \(shape) (\(elements) elements; cuDNN takes at most 2³¹ − 1)"))
        }
        let id = CUDATensorID(tensors.count)
        tensors.append(CUDATensor(id: id, name: name, shape: shape, dtype: dtype, layout: layout,
                                  byteCount: elements * dtype.byteSize, storage: .arena(offset: 0)))
        return id
    }

    mutating func bind(_ value: ValueID, to tensor: CUDATensorID) {
        valueTensors[value] = tensor
        tensorValues[tensor, default: []].append(value)
    }

    mutating func addWeight(_ name: String, _ dtype: CUDADataType, _ layout: CUDAWeightLayout,
                            _ payload: CUDAWeightPayload) throws -> CUDAWeightID {
        let bytes = try Self.product([layout.elementCount, dtype.byteSize], "weight \(name)")
        let alignment = CUDAPlan.weightAlignment
        let (end, overflow) = weightsEnd.addingReportingOverflow(bytes)
        guard !overflow, end <= Int.max - alignment else { throw CUDAPlanError(.sizeOverflow(what: "the weights buffer")) }
        let id = CUDAWeightID(weights.count)
        weights.append(CUDAWeight(id: id, name: name, dtype: dtype, layout: layout, byteCount: bytes, offset: weightsEnd))
        payloads.append(payload)
        weightsEnd = (end + alignment - 1) / alignment * alignment
        return id
    }

    mutating func append(_ layer: String, _ kind: CUDAStep.Kind, _ launch: CUDALaunch.Kind) {
        steps.append(CUDAStep(layer: layer, kind: kind))
        launches.append(CUDALaunch(step: steps.count - 1, kind: launch))
    }

    /// A value's extent: [C, H, W] → (N, H, W, C), in NHWC; any other per-sample shape is stored flat in its
    /// row-major (NCHW) order as (N, 1, 1, elements).
    func extent(of value: ValueID, _ node: Node) throws -> CUDAShape {
        let s = shapes[value] ?? []
        if s.count == 3 { return CUDAShape(n: batch, h: s[1], w: s[2], c: s[0]) }
        return CUDAShape(n: batch, h: 1, w: 1, c: try Self.product(s, "a value of \(node.name)"))
    }

    func tensor(of value: ValueID, _ node: Node) throws -> CUDATensorID {
        guard let t = valueTensors[value] else {
            throw CUDAPlanError.node(node, "reads \(value) before it is computed")
        }
        return t
    }

    /// The value in the compute type (converted once where a float32 step produced it).
    mutating func computed(_ value: ValueID, _ node: Node) throws -> CUDATensorID {
        try converted(try tensor(of: value, node), to: computeType, node)
    }

    mutating func converted(_ source: CUDATensorID, to type: CUDADataType, _ node: Node) throws -> CUDATensorID {
        let from = tensors[source.index].dtype
        if from == type { return source }
        if let copy = conversions[source]?[type] { return copy }
        guard from == .float32 || type == .float32, from != .uint8, type != .uint8 else {
            throw CUDAPlanError.node(node, "no conversion from \(from) to \(type)")
        }
        let t = tensors[source.index]
        let copy = try newTensor(t.name + ".\(type.kernelSuffix)", t.shape, type, t.layout)
        let step = CUDAConvertStep(input: source, output: copy, from: from, to: type)
        append(node.name, .convert(step), .kernel(CUDAKernels.convert(step, count: t.shape.elementCount)))
        conversions[source, default: [:]][type] = copy
        return copy
    }

    /// Whether a step at node `index` may overwrite `tensor`: nothing reads any value it holds afterwards.
    func canOverwrite(_ tensor: CUDATensorID, at index: Int) -> Bool {
        guard tensor != inputTensor else { return false }
        return (tensorValues[tensor] ?? []).allSatisfy { value in
            value != graph.output && (consumers[value] ?? []).allSatisfy { $0 <= index }
        }
    }

    // MARK: input and output

    mutating func lowerInput() throws {
        let s = graph.inputShape
        guard s.count == 3 else {
            throw CUDAPlanError(.unsupportedNode(node: "input", operation: "input",
                                                 why: "per-sample input shape \(s); CUDA lowers [C, H, W]"))
        }
        let (c, h, w) = (s[0], s[1], s[2])
        // Padding the channels is only invisible where every reader is a convolution, whose filter gets zero
        // channels to match.
        let readers = consumers[graph.input] ?? []
        let onlyConvolutions = !readers.isEmpty && readers.allSatisfy { index in
            guard case .conv2d(let conv) = graph.nodes[index].operation else { return false }
            return conv.groups == 1 && graph.nodes[index].inputs.dropFirst().allSatisfy { $0 != graph.input }
        }
        // cuDNN's tensor-core convolutions want the channels of NHWC fp16/bf16 tensors to be a multiple of 8 (the
        // documented condition for Tensor Core operations); tf32 and float32 need 4 (16-byte pixels).
        let multiple = max(1, options.inputChannelMultiple ?? (computeType.byteSize == 2 ? 8 : 4))
        let padded = onlyConvolutions ? (c + multiple - 1) / multiple * multiple : c
        let outShape = CUDAShape(n: batch, h: h, w: w, c: padded)
        switch inputEncoding {
        case .uint8NHWC(let normalization):
            guard c <= 4, padded <= 8 else {
                throw CUDAPlanError(.unsupportedNode(node: "input", operation: "normalize_input",
                                                     why: "\(c) channels padded to \(padded); the normaliser reads at most 4 and writes at most 8"))
            }
            let (scale, shift) = try CUDAInputNormalizerReference.coefficients(normalization, channels: c)
            inputTensor = try newTensor("input", CUDAShape(n: batch, h: h, w: w, c: c), .uint8)
            let out = try newTensor("input.normalized", outShape, computeType)
            let step = CUDANormalizeInputStep(input: inputTensor, output: out, inputChannels: c, outputChannels: padded,
                                              scale: scale, shift: shift)
            append("input", .normalizeInput(step),
                   .kernel(CUDAKernels.normalize(step, pixels: batch * h * w, type: computeType)))
            bind(graph.input, to: out)
        case .float32NCHW:
            inputTensor = try newTensor("input", CUDAShape(n: batch, h: h, w: w, c: c), .float32, .nchw)
            let out = try newTensor("input.nhwc", outShape, computeType)
            let step = CUDAInputLayoutStep(input: inputTensor, output: out, inputChannels: c, outputChannels: padded)
            append("input", .inputLayout(step),
                   .kernel(CUDAKernels.inputLayout(step, batch: batch, hw: h * w, type: computeType)))
            bind(graph.input, to: out)
        }
    }

    /// The graph's output as float32 in its NCHW element order, in the `.output` buffer.
    mutating func finishOutput() throws -> CUDATensorID {
        let last = graph.nodes[graph.nodes.count - 1]
        var out = try converted(try tensor(of: graph.output, last), to: .float32, last)
        let s = shapes[graph.output] ?? []
        if s.count == 3, s[1] * s[2] > 1 {
            let t = tensors[out.index]
            let nchw = try newTensor(t.name + ".nchw", t.shape, .float32, .nchw)
            try appendTranspose(last.name, from: out, to: nchw, rows: s[1] * s[2], columns: s[0], last)
            out = nchw
        }
        tensors[out.index].storage = .output
        return out
    }

    /// Offsets in one arena for every tensor but the input and output buffers.
    mutating func placeTensors(output: CUDATensorID) throws -> Int {
        var first = [Int](repeating: Int.max, count: tensors.count), last = [Int](repeating: -1, count: tensors.count)
        for (index, step) in steps.enumerated() {
            for t in step.reads + [step.writes] {
                first[t.index] = min(first[t.index], index)
                last[t.index] = max(last[t.index], index)
            }
        }
        let placed = tensors.indices.filter { i in
            guard case .arena = tensors[i].storage else { return false }
            return tensors[i].id != inputTensor && last[i] >= 0
        }
        let requests = placed.map { ArenaPlanner.Request(size: tensors[$0].byteCount, firstStep: first[$0], lastStep: last[$0]) }
        let (offsets, size) = ArenaPlanner.plan(requests)
        for (i, offset) in zip(placed, offsets) { tensors[i].storage = .arena(offset: offset) }
        tensors[inputTensor.index].storage = .input
        return size
    }

    mutating func appendTranspose(_ layer: String, from source: CUDATensorID, to target: CUDATensorID, rows: Int,
                                  columns: Int, _ node: Node) throws {
        guard batch <= 65_535 else {
            throw CUDAPlanError.node(node, "a transpose of \(batch) samples; its grid takes at most 65535")
        }
        // Grid y is one block per 32 rows, and CUDA caps grid y at 65535 (cuLaunchKernel would refuse it at run time).
        guard (rows + 31) / 32 <= 65_535 else {
            throw CUDAPlanError.node(node, "a transpose of \(rows) rows; its grid takes at most 65535 × 32")
        }
        let step = CUDATransposeStep(input: source, output: target, batch: batch, rows: rows, columns: columns)
        append(layer, .transpose(step), .kernel(CUDAKernels.transpose(step, type: tensors[source.index].dtype)))
    }

    /// The value's elements in the NCHW order a flatten of [C, H, W] means, as (N, 1, 1, C·H·W): the tensor
    /// itself where H·W = 1 or the value is stored flat already, else a transposed copy.
    mutating func flattened(_ value: ValueID, _ node: Node) throws -> CUDATensorID {
        let source = try tensor(of: value, node)
        let s = shapes[value] ?? []
        guard s.count == 3, s[1] * s[2] > 1 else { return source }
        let t = tensors[source.index]
        let flat = try newTensor(node.name, CUDAShape(n: batch, h: 1, w: 1, c: s[0] * s[1] * s[2]), t.dtype)
        try appendTranspose(node.name, from: source, to: flat, rows: s[1] * s[2], columns: s[0], node)
        return flat
    }
}
