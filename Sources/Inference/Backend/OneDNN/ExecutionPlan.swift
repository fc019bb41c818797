import CDNNLShim

/// A graph compiled for one batch size: primitives in order, each with its arguments bound to the arena,
/// the weight cache or the caller's input.
final class ExecutionPlan {
    /// oneDNN's primitive, or (nil) Sluice's own kernel `own`.
    struct Step {
        let primitive: dnnl_primitive_t?
        let own: (any OwnKernel)?
        var args: [dnnl_exec_arg_t]
    }

    let batch: Int
    let steps: [Step]
    let records: [DispatchRecord]
    let inputMemory: DNNLMemory
    /// Plain float32 [batch, ...outputShape] inside the arena.
    let outputPointer: UnsafeRawPointer
    let arenaBytes: Int
    /// What the activations would take with one buffer each.
    let unplannedBytes: Int
    /// Calibration plans only: every value as plain float32 [batch, ...shape] after a run.
    let captures: [ValueID: UnsafeRawPointer]
    private let arena: TensorStorage
    private let memories: [DNNLMemory]
    /// Owners of the steps' primitive handles.
    private let primitives: [Primitive]

    init(batch: Int, steps: [Step], records: [DispatchRecord], inputMemory: DNNLMemory, outputPointer: UnsafeRawPointer,
         arena: TensorStorage, unplannedBytes: Int, memories: [DNNLMemory], primitives: [Primitive],
         captures: [ValueID: UnsafeRawPointer]) {
        self.primitives = primitives
        self.captures = captures
        self.batch = batch
        self.steps = steps
        self.records = records
        self.inputMemory = inputMemory
        self.outputPointer = outputPointer
        self.arena = arena
        self.arenaBytes = arena.byteCount
        self.unplannedBytes = unplannedBytes
        self.memories = memories
    }

    func execute(stream: dnnl_stream_t) throws {
        for index in steps.indices {
            if let primitive = steps[index].primitive {
                let status = steps[index].args.withUnsafeBufferPointer { args in
                    dnnl_primitive_execute(primitive, stream, Int32(args.count), args.baseAddress)
                }
                try dnnlCheck(status, "executing \(records[min(index, records.count - 1)].layer)")
            } else if let own = steps[index].own {
                // oneDNN's CPU streams execute synchronously: every earlier step's result is in place.
                own.run(source: try dataHandle(steps[index], DNNLArg.src), result: try dataHandle(steps[index], DNNLArg.dst))
            }
        }
        try dnnlCheck(dnnl_stream_wait(stream), "waiting for the stream")
    }

    private func dataHandle(_ step: Step, _ arg: Int32) throws -> UnsafeMutableRawPointer {
        var handle: UnsafeMutableRawPointer?
        if let memory = step.args.first(where: { $0.arg == arg })?.memory {
            try dnnlCheck(dnnl_memory_get_data_handle(memory, &handle), "reading a memory's address")
        }
        guard let handle else { throw InferenceError(.backend, "a kernel step has no argument \(arg)") }
        return handle
    }
}

/// Lowers an optimised graph to an `ExecutionPlan` for one batch size.
final class PlanBuilder {
    /// Where a step's argument lives until the arena is laid out.
    enum ArgRef {
        case view(Int)
        case fixed(DNNLMemory)
    }

    private struct Slot {
        var size: Int
        var firstStep: Int
        var lastStep: Int
    }

    private struct PendingStep {
        let primitive: Primitive?
        let own: (any OwnKernel)?
        let args: [(Int32, ArgRef)]
    }

    private let engine: DNNLEngine
    private let graph: Graph
    private let shapes: [ValueID: [Int]]
    private let batch: Int
    private let act: ElementType
    private let weights: WeightCache

    private var slots: [Slot] = []
    private var views: [(slot: Int, desc: MemoryDesc)] = []
    private var steps: [PendingStep] = []
    private var records: [DispatchRecord] = []
    private var valueViews: [ValueID: Int] = [:]
    /// Copies of a value in another layout, by value; reused while the value's canonical view is unchanged.
    private var materialized: [ValueID: [Int]] = [:]
    /// Values that are a flatten of a 4-D value, consumed by a linear layer directly.
    private var flattenedFrom: [ValueID: ValueID] = [:]
    private let consumers: [ValueID: [Int]]
    private let inputMemory: DNNLMemory
    /// int8: each value's type and scale (quantized = real × scale).
    private let quantization: [ValueID: ActivationQuantization]?
    /// int8: the values kept in int8 between layers (the others are float32).
    private let storedInt8: Set<ValueID>
    /// int8: convolutions and linear layers (by result) the plan keeps in float32.
    private let floatLayers: Set<ValueID>
    private let capture: Bool
    private var captureViews: [ValueID: Int] = [:]
    /// No post-ops; like every attribute here it gives the primitive its scratch space from the arena.
    private let plainAttr: PrimitiveAttr
    private let convolutionAlgorithm: ConvolutionAlgorithm

    init(engine: DNNLEngine, graph: Graph, batch: Int, precision: Precision, weights: WeightCache,
         quantization int8Plan: Int8Plan? = nil, capture: Bool = false,
         convolutionAlgorithm: ConvolutionAlgorithm) throws {
        self.engine = engine
        self.convolutionAlgorithm = convolutionAlgorithm
        // The rewritten graph (`PlanGraph`): int8's from its plan; calibration keeps every value of the graph.
        let graph = precision == .int8 ? int8Plan?.graph ?? graph : capture ? graph : PlanGraph.lowered(graph)
        self.graph = graph
        self.shapes = try graph.inferShapes()
        self.batch = batch
        switch precision {
        case .fp32: act = .f32
        case .bf16: act = .bf16
        case .int8:
            guard int8Plan != nil else { throw InferenceError(.invalidGraph, "int8 plans need calibrated scales") }
            act = .f32
        case .fp16, .tf32:
            throw InferenceError(.unsupported, "--precision \(precision.rawValue) runs on CUDA GPUs (--device cuda); the CPU backend computes in fp32, bf16 or int8")
        }
        self.quantization = precision == .int8 ? int8Plan?.quantization : nil
        self.storedInt8 = precision == .int8 ? int8Plan?.storedInt8 ?? [] : []
        self.floatLayers = precision == .int8 ? int8Plan?.floatLayers ?? [] : []
        self.capture = capture
        self.weights = weights
        self.consumers = graph.consumers()
        plainAttr = try PrimitiveAttr(postOps: [])
        let inputDesc = try MemoryDesc(dims: [batch] + graph.inputShape, type: .f32, layout: Self.plainLayout(graph.inputShape.count + 1))
        inputMemory = try DNNLMemory(inputDesc, engine: engine, pointer: nil)
    }

    static func plainLayout(_ rank: Int) -> sldnn_layout {
        switch rank {
        case 1: SLDNN_A
        case 2: SLDNN_AB
        case 3: SLDNN_ABC
        case 5: SLDNN_ABCDE
        default: SLDNN_ABCD
        }
    }

    func build() throws -> ExecutionPlan {
        for (index, node) in graph.nodes.enumerated() {
            try lower(node, index: index)
            if capture, valueViews[node.output] != nil {
                let d = dims(of: node.output)
                captureViews[node.output] = try view(of: node.output, as: MemoryDesc(dims: d, type: .f32, layout: Self.plainLayout(d.count)))
            }
        }
        for v in captureViews.values { slots[views[v].slot].lastStep = steps.count }
        // The output, as plain float32 [N, ...].
        let outShape = [batch] + shapes[graph.output, default: []]
        let plain = try MemoryDesc(dims: outShape, type: .f32, layout: Self.plainLayout(outShape.count))
        let outView = try view(of: graph.output, as: plain)
        slots[views[outView].slot].lastStep = steps.count

        // Lay out the arena and bind every view.
        let requests = slots.map { ArenaPlanner.Request(size: $0.size, firstStep: $0.firstStep, lastStep: $0.lastStep) }
        let (offsets, size) = ArenaPlanner.plan(requests)
        let arena = try TensorStorage(zeroedByteCount: size)
        var memories: [DNNLMemory] = [inputMemory]
        var viewMemories: [DNNLMemory] = []
        for v in views {
            let memory = try DNNLMemory(v.desc, engine: engine, pointer: arena.bytes + offsets[v.slot])
            viewMemories.append(memory)
            memories.append(memory)
        }
        let executable = steps.map { step in
            ExecutionPlan.Step(primitive: step.primitive?.handle, own: step.own, args: step.args.map { arg, ref in
                switch ref {
                case .view(let v): return dnnl_exec_arg_t(arg: arg, memory: viewMemories[v].handle)
                case .fixed(let m):
                    memories.append(m)
                    return dnnl_exec_arg_t(arg: arg, memory: m.handle)
                }
            })
        }
        let unplanned = slots.reduce(0) { $0 + $1.size }
        let captures = captureViews.mapValues { UnsafeRawPointer(arena.bytes + offsets[views[$0].slot]) }
        return ExecutionPlan(batch: batch, steps: executable, records: records, inputMemory: inputMemory,
                             outputPointer: UnsafeRawPointer(arena.bytes + offsets[views[outView].slot]),
                             arena: arena, unplannedBytes: unplanned, memories: memories,
                             primitives: steps.compactMap(\.primitive), captures: captures)
    }

    // MARK: views and slots

    private func newView(_ desc: MemoryDesc) -> Int {
        slots.append(Slot(size: desc.byteSize, firstStep: steps.count, lastStep: steps.count))
        views.append((slots.count - 1, desc))
        return views.count - 1
    }

    /// A second descriptor over an existing view's bytes (in-place results, reshapes).
    private func alias(_ view: Int, as desc: MemoryDesc) -> Int {
        views.append((views[view].slot, desc))
        return views.count - 1
    }

    private func read(_ view: Int) -> ArgRef {
        slots[views[view].slot].lastStep = max(slots[views[view].slot].lastStep, steps.count)
        return .view(view)
    }

    private func write(_ view: Int) -> ArgRef {
        slots[views[view].slot].lastStep = max(slots[views[view].slot].lastStep, steps.count)
        return .view(view)
    }

    private func append(_ pd: PrimitiveDesc, _ args: [(Int32, ArgRef)], layer: String, kind: String, detail: String) throws {
        var args = args
        // Scratch space lives in the arena for this one step, so later steps reuse its bytes.
        let scratchpad = try pd.md(dnnl_query_scratchpad_md)
        if scratchpad.byteSize > 0 { args.append((DNNLArg.scratchpad, write(newView(scratchpad)))) }
        steps.append(PendingStep(primitive: try Primitive(pd), own: nil, args: args))
        records.append(DispatchRecord(layer: layer, kind: kind, implementation: pd.implementation, detail: detail))
    }

    private func appendOwn(_ kernel: any OwnKernel, source: ArgRef, result: ArgRef, layer: String, kind: String, detail: String) {
        steps.append(PendingStep(primitive: nil, own: kernel, args: [(DNNLArg.src, source), (DNNLArg.dst, result)]))
        records.append(DispatchRecord(layer: layer, kind: kind, implementation: kernel.implementation, detail: detail))
    }

    /// `value` in layout `desc`: its own view when that matches, else a reordered copy (made once).
    private func view(of value: ValueID, as desc: MemoryDesc) throws -> Int {
        if let own = valueViews[value], views[own].desc.equals(desc) { return own }
        if let copy = materialized[value]?.first(where: { views[$0].desc.equals(desc) }) { return copy }
        let source: ArgRef
        if let own = valueViews[value] {
            source = read(own)
        } else if value == graph.input {
            source = .fixed(inputMemory)
        } else {
            throw InferenceError(.invalidGraph, "value \(value) is read before it is computed")
        }
        let sourceDesc: MemoryDesc
        switch source {
        case .view(let v): sourceDesc = views[v].desc
        case .fixed(let m): sourceDesc = m.desc
        }
        let target = newView(desc)
        if value == graph.input, let kernel = try RGBToChannelsLast(dims: dims(of: value), from: sourceDesc, to: desc, scale: quantization?[value]?.scale) {
            appendOwn(kernel, source: source, result: write(target), layer: "input", kind: "reorder", detail: "\(dims(of: value))")
            materialized[value, default: []].append(target)
            return target
        }
        let attr = try conversionAttr(value, from: sourceDesc, to: desc)
        let pd = try PrimitiveDesc("reorder of \(value)") { sldnn_reorder_pd($0, engine.engine, sourceDesc.handle, desc.handle, attr.handle) }
        try append(pd, [(DNNLArg.src, source), (DNNLArg.dst, write(target))],
                   layer: value == graph.input ? "input" : "reorder", kind: "reorder", detail: "\(dims(of: value))")
        materialized[value, default: []].append(target)
        return target
    }

    /// The value's current layout, or (for the graph input) the plain layout in the compute type.
    private func naturalDesc(of value: ValueID) throws -> MemoryDesc {
        if let own = valueViews[value] { return views[own].desc }
        let d = dims(of: value)
        return try MemoryDesc(dims: d, type: type(of: value), layout: Self.plainLayout(d.count))
    }

    /// The element type a value is stored in: under int8 its quantized type where the plan keeps it in
    /// int8, else float32; the precision's otherwise.
    private func type(of value: ValueID) -> ElementType {
        guard let q = quantization?[value], storedInt8.contains(value) else { return act }
        return q.type
    }

    /// Whether a convolution or linear layer computes in int8 (the int8 plan may keep some in float32).
    private func computesInInt8(_ node: Node) -> Bool { quantization != nil && !floatLayers.contains(node.output) }

    /// What layers without int8 compute in: float32 under int8, else the precision's type.
    private var floatType: ElementType { quantization != nil ? .f32 : act }

    /// The type an int8 layer (convolution, linear) reads `value` in; the precision's otherwise.
    private func quantizedType(of value: ValueID) -> ElementType { quantization?[value]?.type ?? act }

    /// The value's current layout in `type` (a quantising or dequantising reorder where it is stored otherwise).
    private func desc(of value: ValueID, in type: ElementType) throws -> MemoryDesc {
        try naturalDesc(of: value).converted(to: type)
    }

    /// What operations without an int8 kernel read: int8 values dequantised to float32.
    private func floatDesc(of value: ValueID) throws -> MemoryDesc {
        let natural = try naturalDesc(of: value)
        return natural.elementType?.isInteger == true ? try natural.retyped(.f32) : natural
    }

    /// A reorder's attributes from `source` to `target` for `value`: int8 scales where one side is int8 and
    /// the other is not (quantized = real × scale).
    private func conversionAttr(_ value: ValueID, from source: MemoryDesc, to target: MemoryDesc) throws -> PrimitiveAttr {
        guard let q = quantization?[value], let from = source.elementType, let to = target.elementType,
              from.isInteger != to.isInteger else { return plainAttr }
        return try PrimitiveAttr(postOps: [], outputScales: [to.isInteger ? q.scale : 1 / q.scale])
    }

    private func dims(of value: ValueID) -> [Int] { [batch] + shapes[value, default: []] }

    private func isLastUse(of value: ValueID, at nodeIndex: Int) -> Bool {
        value != graph.output && value != graph.input && (consumers[value] ?? []).allSatisfy { $0 <= nodeIndex }
    }

    /// `sumScale` scales the previous destination (int8: the residual's scale to the output's);
    /// `outputScale` is the scale the post-ops see their input in (int8: clip bounds are quantized).
    private func postOps(sum: Bool, activation: Activation?, sumScale: Float = 1, outputScale: Float = 1) -> [sldnn_post_op] {
        var ops: [sldnn_post_op] = []
        if sum { ops.append(sldnn_post_op(is_sum: 1, eltwise: SLDNN_RELU, alpha: 0, beta: 0, scale: sumScale, sum_dtype: -1)) }
        if let activation { ops += Self.eltwiseOps(activation, outputScale: outputScale) }
        return ops
    }

    /// oneDNN's eltwise operations for an activation, applied in order. `outputScale`: int8 clip bounds
    /// are given in quantized units.
    static func eltwiseOps(_ activation: Activation, outputScale: Float = 1) -> [sldnn_post_op] {
        func op(_ kind: sldnn_eltwise, _ alpha: Float, _ beta: Float) -> sldnn_post_op {
            sldnn_post_op(is_sum: 0, eltwise: kind, alpha: alpha, beta: beta, scale: 1, sum_dtype: -1)
        }
        switch activation {
        case .relu: return [op(SLDNN_RELU, 0, 0)]
        case .clip(let lower, let upper): return [op(SLDNN_CLIP, lower * outputScale, upper * outputScale)]
        case .leakyRelu(let alpha): return [op(SLDNN_RELU, alpha, 0)]
        case .sigmoid: return [op(SLDNN_LOGISTIC, 0, 0)]
        case .hardSigmoid(let alpha, let beta): return [op(SLDNN_LINEAR, alpha, beta), op(SLDNN_CLIP, 0, 1)]
        case .hardSwish: return [op(SLDNN_HARDSWISH, 1.0 / 6.0, 0.5)]
        case .swish: return [op(SLDNN_SWISH, 1, 0)]
        }
    }

    /// int8 attributes and bias for a layer with weight scales `weightScales` (per output channel):
    /// oneDNN 2.x computes dst = post-ops(scale·(Σ src·w + bias)), so the bias is given in accumulator units.
    /// A float32 result gets real values. An int8 result: where the activation commutes with scaling (ReLU,
    /// clip with scaled bounds) the output scale includes the result's quantization; otherwise (swish,
    /// sigmoid, hard-swish...) the post-ops see real values and a final linear post-op quantizes.
    /// `residual`: the value the sum post-op accumulates onto, as `residualType` in the destination's layout.
    private func int8Parameters(input: ValueID, output: ValueID, outputType: ElementType, weightScales: [Float],
                                bias: Tensor?, residual: (value: ValueID, type: ElementType)?,
                                activation: Activation?) throws -> (PrimitiveAttr, Tensor?) {
        guard let qIn = quantization?[input] else { throw InferenceError(.invalidGraph, "no int8 scale for \(input)") }
        var outScale: Float = 1
        if outputType.isInteger {
            guard let qOut = quantization?[output] else { throw InferenceError(.invalidGraph, "no int8 scale for \(output)") }
            outScale = qOut.scale
        }
        let scaledInside = activation?.isPiecewiseLinearThroughZero ?? true
        let outputScale = scaledInside ? outScale : 1
        var ops: [sldnn_post_op] = []
        if let residual {
            var residualScale: Float = 1
            if residual.type.isInteger {
                guard let qRes = quantization?[residual.value] else { throw InferenceError(.invalidGraph, "no int8 scale for \(residual.value)") }
                residualScale = qRes.scale
            }
            let sumType = residual.type == outputType ? -1 : Int32(residual.type.shim.rawValue)
            ops.append(sldnn_post_op(is_sum: 1, eltwise: SLDNN_RELU, alpha: 0, beta: 0, scale: outputScale / residualScale,
                                     sum_dtype: sumType))
        }
        if let activation { ops += Self.eltwiseOps(activation, outputScale: outputScale) }
        if outputScale != outScale {
            ops.append(sldnn_post_op(is_sum: 0, eltwise: SLDNN_LINEAR, alpha: outScale, beta: 0, scale: 1, sum_dtype: -1))
        }
        let attr = try PrimitiveAttr(postOps: ops, outputScales: weightScales.map { outputScale / (qIn.scale * $0) })
        let scaledBias = try bias.map { b -> Tensor in
            let values = try b.floats()
            return try Tensor(shape: b.shape, values: values.indices.map { values[$0] * qIn.scale * weightScales[$0] })
        }
        return (attr, scaledBias)
    }

    // MARK: lowering

    private func lower(_ node: Node, index: Int) throws {
        let outDims = dims(of: node.output)
        switch node.operation {
        case .conv2d(let conv):
            try lowerConvolution(conv, node: node, index: index, outDims: outDims)
        case .pool(let pool):
            let inDims = dims(of: node.inputs[0])
            let dilation = pool.dilation.map { $0 - 1 }
            var paddingR: [Int64] = []
            for axis in 0..<2 {
                let extent = pool.dilation[axis] * (pool.kernel[axis] - 1) + 1
                let needed = (outDims[axis + 2] - 1) * pool.stride[axis] + extent - inDims[axis + 2] - pool.padding[axis]
                paddingR.append(Int64(max(pool.padding[axis], needed)))
            }
            let kind: sldnn_pooling = pool.kind == .max ? SLDNN_POOL_MAX
                : (pool.countIncludesPadding ? SLDNN_POOL_AVG_INCLUDE_PADDING : SLDNN_POOL_AVG_EXCLUDE_PADDING)
            try lowerPooling(node, kind: kind, kernel: pool.kernel, stride: pool.stride, padding: pool.padding,
                             paddingR: paddingR, dilation: dilation, outDims: outDims)
        case .globalAveragePool:
            let inDims = dims(of: node.inputs[0])
            try lowerPooling(node, kind: SLDNN_POOL_AVG_EXCLUDE_PADDING, kernel: [inDims[2], inDims[3]], stride: [1, 1],
                             padding: [0, 0], paddingR: [0, 0], dilation: [0, 0], outDims: outDims)
        case .flatten:
            let source = node.inputs[0]
            let onlyLinear = (consumers[node.output] ?? []).allSatisfy {
                if case .linear = graph.nodes[$0].operation { return true } else { return false }
            }
            let sourceDims = dims(of: source)
            let flat = try MemoryDesc(dims: outDims, type: type(of: source), layout: SLDNN_AB)
            if onlyLinear, node.output != graph.output, sourceDims.count == 4 {
                // [N, C, 1, 1] in channels-last is [N, C] byte for byte: the linear layer reads it as a matrix,
                // for which oneDNN has its brgemm kernels (a 4-D source gets the gemm one, about twice as slow
                // on MobileNet-V3's classifier in bf16).
                if sourceDims[2] * sourceDims[3] == 1, let own = valueViews[source],
                   views[own].desc.equals(try MemoryDesc(dims: sourceDims, type: type(of: source), layout: SLDNN_ACDB)) {
                    valueViews[node.output] = alias(own, as: flat)
                } else {
                    flattenedFrom[node.output] = source
                }
                return
            }
            let plain = try MemoryDesc(dims: sourceDims, type: type(of: source), layout: Self.plainLayout(sourceDims.count))
            valueViews[node.output] = alias(try view(of: source, as: plain), as: flat)
        case .linear(let linear):
            try lowerLinear(linear, node: node, outDims: outDims)
        case .batchNorm(let bn):
            func create(_ desc: MemoryDesc) throws -> PrimitiveDesc {
                try PrimitiveDesc("batch-norm \(node.name)") {
                    sldnn_batch_norm_pd($0, engine.engine, desc.handle, desc.handle, bn.epsilon, plainAttr.handle)
                }
            }
            // A batch norm that could not be folded (DenseNet's, after each Concat, whose output is plain) gets
            // oneDNN's generic kernel in the plain layout: in bf16 it took half of DenseNet-121's time.
            // Channels-last has a jit kernel, for one reorder.
            let (pd, desc) = try withFastLayout(node.inputs[0], in: try floatDesc(of: node.inputs[0]), rank: outDims.count,
                                                isSlow: { !$0.implementation.contains("jit") }, create)
            let src = try view(of: node.inputs[0], as: desc)
            let out = newView(desc)
            try append(pd, [(DNNLArg.src, read(src)), (DNNLArg.mean, .fixed(weights.plainVector(bn.mean))),
                            (DNNLArg.variance, .fixed(weights.plainVector(bn.variance))),
                            (DNNLArg.scale, .fixed(weights.plainVector(bn.weight))),
                            (DNNLArg.shift, .fixed(weights.plainVector(bn.bias))), (DNNLArg.dst, write(out))],
                       layer: node.name, kind: "batch_norm", detail: "\(outDims)")
            valueViews[node.output] = out
        case .activation(let activation):
            let src = try view(of: node.inputs[0], as: try floatDesc(of: node.inputs[0]))
            let desc = views[src].desc
            // The first operation is the primitive, the rest its post-ops (hard sigmoid: linear, then clip).
            let ops = Self.eltwiseOps(activation)
            let first = ops[0]
            let attr = ops.count > 1 ? try PrimitiveAttr(postOps: Array(ops.dropFirst())) : plainAttr
            let pd = try PrimitiveDesc("eltwise \(node.name)") {
                sldnn_eltwise_pd($0, engine.engine, first.eltwise, first.alpha, first.beta, desc.handle, desc.handle, attr.handle)
            }
            let out = newView(desc)
            try append(pd, [(DNNLArg.src, read(src)), (DNNLArg.dst, write(out))], layer: node.name,
                       kind: node.operation.kindName, detail: "\(outDims)")
            valueViews[node.output] = out
        case .binary(let binary):
            try lowerBinary(binary, node: node, outDims: outDims)
        case .concat(let axis):
            try lowerConcat(node, axis: axis + 1, outDims: outDims)
        case .reshape:
            let source = node.inputs[0]
            let sourceDims = dims(of: source)
            let plain = try MemoryDesc(dims: sourceDims, type: type(of: source), layout: Self.plainLayout(sourceDims.count))
            let copy = try view(of: source, as: plain)
            valueViews[node.output] = alias(copy, as: try MemoryDesc(dims: outDims, type: type(of: source),
                                                                      layout: Self.plainLayout(outDims.count)))
        case .add:
            let a = try view(of: node.inputs[0], as: try floatDesc(of: node.inputs[0]))
            let desc = views[a].desc
            let b = try view(of: node.inputs[1], as: desc)
            let pd = try PrimitiveDesc("binary add \(node.name)") {
                sldnn_binary_pd($0, engine.engine, SLDNN_BINARY_ADD, desc.handle, desc.handle, desc.handle, plainAttr.handle)
            }
            let out = newView(desc)
            try append(pd, [(DNNLArg.src, read(a)), (DNNLArg.src1, read(b)), (DNNLArg.dst, write(out))],
                       layer: node.name, kind: "add", detail: "\(outDims)")
            valueViews[node.output] = out
        case .softmax:
            let src = try view(of: node.inputs[0], as: try floatDesc(of: node.inputs[0]))
            let desc = views[src].desc
            let pd = try PrimitiveDesc("softmax \(node.name)") {
                sldnn_softmax_pd($0, engine.engine, desc.handle, desc.handle, Int32(outDims.count - 1), plainAttr.handle)
            }
            let out = newView(desc)
            try append(pd, [(DNNLArg.src, read(src)), (DNNLArg.dst, write(out))], layer: node.name, kind: "softmax",
                       detail: "\(outDims)")
            valueViews[node.output] = out
        }
    }

    /// 0: oneDNN's reference kernel; 1: a jit kernel below AVX-512 (or gemm); 2: AVX-512's.
    static func kernelRank(_ pd: PrimitiveDesc) -> Int {
        let name = pd.implementation
        return name.hasPrefix("ref") ? 0 : name.contains("avx512") ? 2 : 1
    }

    /// The operation `create` makes for `value` in layout `desc` or, where that gets only a kernel `isSlow`
    /// rejects and channels-last gets one it accepts (built, not only described), in channels-last of the same
    /// type: one reorder costs far less than a reference or generic kernel.
    private func withFastLayout(_ value: ValueID, in desc: MemoryDesc, rank: Int, isSlow: (PrimitiveDesc) -> Bool,
                                _ create: (MemoryDesc) throws -> PrimitiveDesc) throws -> (PrimitiveDesc, MemoryDesc) {
        let pd = try create(desc)
        guard isSlow(pd), rank == 4, let type = desc.elementType else { return (pd, desc) }
        let nhwc = try MemoryDesc(dims: dims(of: value), type: type, layout: SLDNN_ACDB)
        guard let better = try? create(nhwc), !isSlow(better), (try? Primitive(better)) != nil else { return (pd, desc) }
        return (better, nhwc)
    }

    private func lowerBinary(_ binary: Binary, node: Node, outDims: [Int]) throws {
        // The second operand in a plain layout with its own (broadcast) dimensions, aligned to the right.
        let second: ArgRef
        let secondDesc: MemoryDesc
        if let constant = binary.constant {
            let d = [1] + Array(repeating: 1, count: outDims.count - 1 - constant.shape.count) + constant.shape
            secondDesc = try MemoryDesc(dims: d, type: .f32, layout: Self.plainLayout(d.count))
            second = .fixed(try weights.plainTensor(constant, desc: secondDesc))
        } else {
            let own = dims(of: node.inputs[1])
            let d = [batch] + Array(repeating: 1, count: outDims.count - own.count) + Array(own.dropFirst())
            let plain = try MemoryDesc(dims: own, type: act, layout: Self.plainLayout(own.count))
            let b = try view(of: node.inputs[1], as: plain)
            secondDesc = try MemoryDesc(dims: d, type: act, layout: Self.plainLayout(d.count))
            second = read(alias(b, as: secondDesc))
        }
        let kind: sldnn_binary = switch binary.kind {
        case .add: SLDNN_BINARY_ADD
        case .sub: SLDNN_BINARY_SUB
        case .mul: SLDNN_BINARY_MUL
        case .div: SLDNN_BINARY_DIV
        }
        func create(_ desc: MemoryDesc) throws -> PrimitiveDesc {
            try PrimitiveDesc("binary \(binary.kind) \(node.name)") {
                sldnn_binary_pd($0, engine.engine, kind, desc.handle, secondDesc.handle, desc.handle, plainAttr.handle)
            }
        }
        // The jit kernels take AVX-512's 16-channel blocks, not the 8-channel ones a grouped convolution can leave
        // (RegNet's squeeze-and-excitation Mul ran the reference kernel there): channels-last costs one reorder.
        let (pd, desc) = try withFastLayout(node.inputs[0], in: try floatDesc(of: node.inputs[0]), rank: outDims.count,
                                            isSlow: { $0.implementation.hasPrefix("ref") }, create)
        let a = try view(of: node.inputs[0], as: desc)
        let out = newView(desc)
        try append(pd, [(DNNLArg.src, read(a)), (DNNLArg.src1, second), (DNNLArg.dst, write(out))],
                   layer: node.name, kind: binary.kind.rawValue, detail: "\(outDims)")
        valueViews[node.output] = out
    }

    /// Concatenation: in the sources' own layout where oneDNN has a fast kernel for it (channel blocks that line
    /// up, as in DenseNet, whose 58 concatenations cost about a thousand reorders per batch in plain layouts),
    /// else in a plain layout (every source reordered once if it is not in it): images channels-last, which
    /// oneDNN's convolutions read as they are, unless every source is in the plain channels-first layout already.
    /// (DenseNet-121 fp32 concatenated channels-first, and each batch norm after it reordered the whole result
    /// to channels-last: 10% of its time.)
    private func lowerConcat(_ node: Node, axis: Int, outDims: [Int]) throws {
        if try lowerConcatInPlace(node, axis: axis, outDims: outDims) { return }
        // int8: the sources share the result's scale (see `Quantizer.plan`), so the copy needs none.
        let dstType = self.type(of: node.output)
        let channelsLast = try outDims.count == 4 && !node.inputs.allSatisfy {
            try naturalDesc(of: $0).equals(try MemoryDesc(dims: dims(of: $0), type: dstType, layout: SLDNN_ABCD))
        }
        let layout = channelsLast ? SLDNN_ACDB : Self.plainLayout(outDims.count)
        var sources: [Int] = []
        for input in node.inputs {
            sources.append(try view(of: input, as: try MemoryDesc(dims: dims(of: input), type: dstType, layout: layout)))
        }
        let dstDesc = try MemoryDesc(dims: outDims, type: dstType, layout: layout)
        let handles: [sldnn_md?] = sources.map { views[$0].desc.handle }
        let pd = try PrimitiveDesc("concat \(node.name)") { pd in
            handles.withUnsafeBufferPointer { sldnn_concat_pd(pd, engine.engine, dstDesc.handle, Int32(handles.count), Int32(axis), $0.baseAddress, plainAttr.handle) }
        }
        var args: [(Int32, ArgRef)] = []
        for (i, source) in sources.enumerated() { args.append((DNNLArg.multipleSource + Int32(i), read(source))) }
        let out = newView(dstDesc)
        args.append((DNNLArg.dst, write(out)))
        try append(pd, args, layer: node.name, kind: "concat", detail: "\(node.inputs.count)→\(outDims)")
        valueViews[node.output] = out
    }

    /// The concatenation in its sources' layout (one shared blocked layout, of the result's type), when oneDNN
    /// has a kernel other than its reference one for it; false when not.
    private func lowerConcatInPlace(_ node: Node, axis: Int, outDims: [Int]) throws -> Bool {
        let natural = try node.inputs.map { try naturalDesc(of: $0) }
        let dstType = self.type(of: node.output)
        guard outDims.count == 4, natural.allSatisfy({ $0.elementType == dstType }),
              node.inputs.allSatisfy({ valueViews[$0] != nil }) else { return false }
        let handles: [sldnn_md?] = natural.map(\.handle)
        let dstAny = try MemoryDesc(dims: outDims, type: dstType, layout: SLDNN_ANY)
        guard let pd = try? PrimitiveDesc("concat \(node.name)", { pd in
            handles.withUnsafeBufferPointer { sldnn_concat_pd(pd, engine.engine, dstAny.handle, Int32(handles.count), Int32(axis), $0.baseAddress, plainAttr.handle) }
        }), !pd.implementation.hasPrefix("ref"), (try? Primitive(pd)) != nil else { return false }
        var args: [(Int32, ArgRef)] = []
        for (i, input) in node.inputs.enumerated() {
            args.append((DNNLArg.multipleSource + Int32(i), read(try view(of: input, as: natural[i]))))
        }
        let out = newView(try pd.md(dnnl_query_dst_md))
        args.append((DNNLArg.dst, write(out)))
        try append(pd, args, layer: node.name, kind: "concat", detail: "\(node.inputs.count)→\(outDims) \(pd.implementation)")
        valueViews[node.output] = out
        return true
    }

    private func lowerConvolution(_ conv: Conv2D, node: Node, index: Int, outDims: [Int]) throws {
        if try lowerChannelScaleShift(conv, node: node, outDims: outDims) { return }
        let input = node.inputs[0]
        let inDims = dims(of: input)
        let w = conv.weight.shape
        let grouped = conv.groups > 1
        let weightDims = grouped ? [conv.groups, w[0] / conv.groups, w[1], w[2], w[3]] : w
        let int8 = computesInInt8(node)
        let weightsAny = try MemoryDesc(dims: weightDims, type: int8 ? .s8 : act, layout: SLDNN_ANY)
        let biasDesc = try MemoryDesc(dims: [w[0]], type: .f32, layout: SLDNN_A)
        let outType = type(of: node.output)
        let dstAny = try MemoryDesc(dims: outDims, type: outType, layout: SLDNN_ANY)
        // The residual the sum post-op reads: int8 in its own scale under an int8 result (s8 under u8 is
        // fine), real values under a float32 one.
        let residual = conv.addsResidual ? node.inputs[1] : nil
        let residualType: ElementType = switch (residual, int8) {
        case (nil, _): outType
        case (let r?, true): outType.isInteger ? quantizedType(of: r) : .f32
        case (let r?, false): quantization != nil ? .f32 : type(of: r)
        }
        var weightTensor = conv.weight, bias = conv.bias
        let attr: PrimitiveAttr
        if int8 {
            let (quantized, scales) = try Quantizer.quantizeWeights(conv.weight)
            weightTensor = quantized
            (attr, bias) = try int8Parameters(input: input, output: node.output, outputType: outType, weightScales: scales,
                                              bias: conv.bias, residual: residual.map { ($0, residualType) },
                                              activation: conv.activation)
        } else {
            attr = try PrimitiveAttr(postOps: postOps(sum: conv.addsResidual, activation: conv.activation))
        }
        let strides = conv.stride.map(Int64.init), dilates = conv.dilation.map { Int64($0 - 1) }
        let padding = conv.padding.map(Int64.init), paddingEnd = conv.trailingPadding.map(Int64.init)
        let hasBias = bias != nil

        func create(src: MemoryDesc, _ algorithm: sldnn_conv_algorithm) throws -> PrimitiveDesc {
            try PrimitiveDesc("convolution \(node.name)") {
                sldnn_convolution_pd($0, engine.engine, algorithm, src.handle, weightsAny.handle, hasBias ? biasDesc.handle : nil,
                                     dstAny.handle, strides, dilates, padding, paddingEnd, attr.handle)
            }
        }
        // Keep the producer's layout when the convolution accepts it (no reorder between layers); let
        // oneDNN choose for the graph input, which is reordered once per batch anyway.
        let srcType = int8 ? quantizedType(of: input) : floatType
        let anySrc = try MemoryDesc(dims: inDims, type: srcType, layout: SLDNN_ANY)
        // (A producer's layout retyped is not always one the int8 kernels can be generated for: a value stored
        // in another type is reordered to the layout oneDNN chooses, quantized on the way.)
        let producerSrc = valueViews[input].map { views[$0].desc }.flatMap { $0.elementType == srcType ? $0 : nil }
        let algorithms = winogradEligible(conv, int8: int8, outDims: outDims) ? [SLDNN_CONV_WINOGRAD, SLDNN_CONV_DIRECT] : [SLDNN_CONV_DIRECT]
        // oneDNN takes every layout, falling back to its reference kernel or a narrower ISA's: the producer's
        // layout is kept only where it gets as good a kernel as oneDNN's own choice, since one reorder costs far
        // less (RegNet's grouped 3×3 convolutions of 8 channels per group ran the reference kernel in the
        // 16-channel blocks their 1×1 producer left, and the 1×1s after them AVX2 kernels in their 8-channel blocks;
        // int8's reference kernels are far slower still). A descriptor counts once its primitive can be generated
        // (oneDNN 2.7 accepts some it then fails to generate code for, e.g. bf16 grouped convolutions of 4
        // channels per group); creating the primitive again later hits oneDNN's cache.
        var found: PrimitiveDesc?
        for algorithm in algorithms {
            for src in [producerSrc, anySrc].compactMap({ $0 }) where found.map(Self.kernelRank) ?? -1 < 2 {
                guard let candidate = try? create(src: src, algorithm), (try? Primitive(candidate)) != nil else { continue }
                if Self.kernelRank(candidate) > found.map(Self.kernelRank) ?? -1 { found = candidate }
            }
        }
        if int8, quantization != nil, found == nil { throw Int8LayerUnavailable(layer: node.output) }
        let pd = try found ?? create(src: anySrc, SLDNN_CONV_DIRECT)  // fails again, with oneDNN's reason
        let src = try view(of: input, as: try pd.md(dnnl_query_src_md))
        let weightMemory = try weights.memory(key: "\(node.name).weight\(int8 ? ".s8" : "")", tensor: weightTensor, dims: weightDims,
                                              layout: grouped ? .abcde : .abcd, desc: try pd.md(dnnl_query_weights_md))
        let dstDesc = try pd.md(dnnl_query_dst_md)

        var out: Int
        if let residual {
            let residualDesc = try dstDesc.converted(to: residualType)
            if let own = valueViews[residual], views[own].desc.equals(residualDesc), isLastUse(of: residual, at: index),
               residual != input {
                // Accumulate in place onto the residual's bytes: nothing is copied (unless the convolution
                // also reads them as its input).
                out = alias(own, as: dstDesc)
                materialized[residual] = nil
            } else {
                let source = try view(of: residual, as: try naturalDesc(of: residual))
                let copy = newView(residualDesc)
                let copyAttr = try conversionAttr(residual, from: views[source].desc, to: residualDesc)
                let reorder = try PrimitiveDesc("residual copy") {
                    sldnn_reorder_pd($0, engine.engine, views[source].desc.handle, residualDesc.handle, copyAttr.handle)
                }
                try append(reorder, [(DNNLArg.src, read(source)), (DNNLArg.dst, write(copy))], layer: node.name,
                           kind: "residual_copy", detail: "\(outDims)")
                out = alias(copy, as: dstDesc)
            }
        } else {
            out = newView(dstDesc)
        }
        var args: [(Int32, ArgRef)] = [(DNNLArg.src, read(src)), (DNNLArg.weights, .fixed(weightMemory))]
        if let bias { args.append((DNNLArg.bias, .fixed(try weights.plainVector(bias)))) }
        args.append((DNNLArg.dst, write(out)))
        var detail = "\(inDims)→\(outDims) k\(w[2])x\(w[3]) s\(conv.stride[0])"
        if conv.addsResidual { detail += " +sum" }
        if let a = conv.activation { detail += " +\(a)" }
        try append(pd, args, layer: node.name, kind: "conv", detail: detail)
        valueViews[node.output] = out
    }

    /// An int8 depthwise 1×1 convolution between int8 values as `ChannelScaleShift`, where its source is
    /// channels-last already (DenseNet's concatenations); false when it is not one.
    private func lowerChannelScaleShift(_ conv: Conv2D, node: Node, outDims: [Int]) throws -> Bool {
        let input = node.inputs[0]
        guard computesInInt8(node), outDims.count == 4, let qIn = quantization?[input], let qOut = quantization?[node.output],
              type(of: input).isInteger, type(of: node.output).isInteger, let own = valueViews[input],
              views[own].desc.equals(try MemoryDesc(dims: dims(of: input), type: qIn.type, layout: SLDNN_ACDB)),
              let kernel = ChannelScaleShift(conv, input: qIn, output: qOut, pixels: outDims[0] * outDims[2] * outDims[3])
        else { return false }
        let out = newView(try MemoryDesc(dims: outDims, type: qOut.type, layout: SLDNN_ACDB))
        appendOwn(kernel, source: read(own), result: write(out), layer: node.name, kind: "conv",
                  detail: "\(outDims) depthwise 1×1\(kernel.relu ? " +relu" : "")")
        valueViews[node.output] = out
        return true
    }

    /// Winograd F(4×4, 3×3) does a quarter of the multiplications of a direct 3×3 convolution, but reads
    /// four times the weights (transformed to 6×6) for every tile of 4×4 outputs. Measured on ResNet-50 here
    /// (one thread, batch 16 in micro-batches of 4): 12% more images/s with Winograd where a micro-batch has
    /// at least 64 tiles (layers 1–3), less with it in layer 4 too; with single samples it is slower (the
    /// layout it needs costs more than it saves). oneDNN 2.x has it for float32 on AVX-512; where creating
    /// it fails, the direct algorithm is used. The tiles are counted for 4 samples whatever the micro-batch,
    /// so that the algorithm does not change with `--micro-batch` or the thread count (on 16 threads the
    /// micro-batch is 32, which made layer 4 Winograd too).
    private func winogradEligible(_ conv: Conv2D, int8: Bool, outDims: [Int]) -> Bool {
        let tiles = 4 * ((outDims[2] + 3) / 4) * ((outDims[3] + 3) / 4)
        return convolutionAlgorithm == .fastest && act == .f32 && !int8 && batch >= 2 && tiles >= 64
            && conv.groups == 1 && conv.weight.shape[2...3] == [3, 3] && conv.stride == [1, 1] && conv.dilation == [1, 1]
    }

    private func lowerPooling(_ node: Node, kind: sldnn_pooling, kernel: [Int], stride: [Int], padding: [Int],
                              paddingR: [Int64], dilation: [Int], outDims: [Int]) throws {
        let dstAny = try MemoryDesc(dims: outDims, type: type(of: node.output), layout: SLDNN_ANY)
        let s = stride.map(Int64.init), k = kernel.map(Int64.init), d = dilation.map(Int64.init)
        let pl = padding.map(Int64.init)
        func create(_ srcDesc: MemoryDesc) throws -> PrimitiveDesc {
            try PrimitiveDesc("pooling \(node.name)") {
                sldnn_pooling_pd($0, engine.engine, kind, srcDesc.handle, dstAny.handle, s, k, d, pl, paddingR, plainAttr.handle)
            }
        }
        // As for binary operations: bf16 pooling has no jit kernel in 8-channel blocks (RegNet's squeeze-and-
        // excitation pools ran the reference kernel there); channels-last costs one reorder.
        let (pd, srcDesc) = try withFastLayout(node.inputs[0], in: try naturalDesc(of: node.inputs[0]), rank: outDims.count,
                                               isSlow: { $0.implementation.hasPrefix("ref") }, create)
        let src = try view(of: node.inputs[0], as: srcDesc)
        let out = newView(try pd.md(dnnl_query_dst_md))
        try append(pd, [(DNNLArg.src, read(src)), (DNNLArg.dst, write(out))], layer: node.name,
                   kind: node.operation.kindName, detail: "\(dims(of: node.inputs[0]))→\(outDims)")
        valueViews[node.output] = out
    }

    private func lowerLinear(_ linear: Linear, node: Node, outDims: [Int]) throws {
        let w = linear.weight.shape
        let source = flattenedFrom[node.inputs[0]] ?? node.inputs[0]
        let sourceDims = dims(of: source)
        // A linear layer after a flatten reads the 4-D tensor directly, with 4-D weights [O, C, H, W].
        let weightDims = sourceDims.count == 4 ? [w[0]] + Array(sourceDims.dropFirst()) : w
        let int8 = computesInInt8(node)
        let src = try view(of: source, as: try desc(of: source, in: int8 ? quantizedType(of: source) : floatType))
        let srcDesc = views[src].desc
        let weightsAny = try MemoryDesc(dims: weightDims, type: int8 ? .s8 : act, layout: SLDNN_ANY)
        let biasDesc = try MemoryDesc(dims: [w[0]], type: .f32, layout: SLDNN_A)
        let dstType: ElementType = node.output == graph.output ? .f32 : type(of: node.output)
        let dstDesc = try MemoryDesc(dims: outDims, type: dstType, layout: SLDNN_AB)
        var weightTensor = try linear.weight.reshaped(weightDims), bias = linear.bias
        let attr: PrimitiveAttr
        if int8 {
            let (quantized, scales) = try Quantizer.quantizeWeights(weightTensor)
            weightTensor = quantized
            (attr, bias) = try int8Parameters(input: source, output: node.output, outputType: dstType, weightScales: scales,
                                              bias: linear.bias, residual: nil, activation: linear.activation)
        } else {
            attr = try PrimitiveAttr(postOps: postOps(sum: false, activation: linear.activation))
        }
        let hasBias = bias != nil
        let pd = try PrimitiveDesc("inner product \(node.name)") {
            sldnn_inner_product_pd($0, engine.engine, srcDesc.handle, weightsAny.handle, hasBias ? biasDesc.handle : nil,
                                   dstDesc.handle, attr.handle)
        }
        let weightMemory = try weights.memory(key: "\(node.name).weight\(int8 ? ".s8" : "")", tensor: weightTensor, dims: weightDims,
                                              layout: weightDims.count == 4 ? .abcd : .ab, desc: try pd.md(dnnl_query_weights_md))
        let out = newView(dstDesc)
        var args: [(Int32, ArgRef)] = [(DNNLArg.src, read(src)), (DNNLArg.weights, .fixed(weightMemory))]
        if let bias { args.append((DNNLArg.bias, .fixed(try weights.plainVector(bias)))) }
        args.append((DNNLArg.dst, write(out)))
        try append(pd, args, layer: node.name, kind: "linear", detail: "\(sourceDims)→\(outDims)")
        valueViews[node.output] = out
    }
}
