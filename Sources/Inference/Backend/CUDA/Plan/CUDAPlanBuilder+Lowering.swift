extension CUDAPlanBuilder {
    mutating func lower(_ node: Node, index: Int) throws {
        switch node.operation {
        case .conv2d(let conv):
            try lowerConvolution(conv, node)
        case .pool(let pool):
            try lowerPooling(pool, node)
        case .globalAveragePool:
            let x = try computed(node.inputs[0], node)
            let shape = tensors[x.index].shape
            let y = try newTensor(node.name, try extent(of: node.output, node), computeType)
            let step = CUDAPoolingStep(input: x, output: y, mode: .averageExcludingPadding, window: [shape.h, shape.w],
                                       padding: [0, 0], stride: [shape.h, shape.w], isGlobal: true)
            append(node.name, .pooling(step), .cudnnPooling)
            bind(node.output, to: y)
        case .add:
            try lowerBinary(.add, constant: nil, node)
        case .binary(let binary):
            try lowerBinary(binary.kind, constant: binary.constant, node)
        case .activation(let activation):
            let x = try tensor(of: node.inputs[0], node)
            let y = canOverwrite(x, at: index)
                ? x : try newTensor(node.name, tensors[x.index].shape, tensors[x.index].dtype)
            try appendActivation(activation, x, y, node)
            bind(node.output, to: y)
        case .batchNorm(let bn):
            try lowerBatchNorm(bn, node, index: index)
        case .flatten:
            bind(node.output, to: try flattened(node.inputs[0], node))
        case .reshape(let target):
            try lowerReshape(target, node)
        case .linear(let linear):
            try lowerLinear(linear, node)
        case .softmax:
            try lowerSoftmax(node)
        case .concat(let axis):
            try lowerConcat(axis: axis, node)
        }
    }

    mutating func appendActivation(_ activation: Activation, _ x: CUDATensorID, _ y: CUDATensorID, _ node: Node) throws {
        let step = CUDAActivationStep(input: x, output: y, activation: activation)
        let t = tensors[x.index]
        append(node.name, .activation(step), .kernel(CUDAKernels.activation(step, count: t.shape.elementCount, type: t.dtype)))
    }

    /// Whether cuDNN's legacy symmetric padding gives the graph's output extent (then it reads the same inputs).
    static func symmetricExtent(input: Int, kernel: Int, padding: Int, stride: Int, dilation: Int) -> Int? {
        let span = input + 2 * padding - dilation * (kernel - 1) - 1
        return span >= 0 ? span / stride + 1 : nil
    }

    mutating func lowerConvolution(_ conv: Conv2D, _ node: Node) throws {
        let x = try computed(node.inputs[0], node)
        let input = tensors[x.index].shape
        let out = try extent(of: node.output, node)
        let w = conv.weight.shape
        for axis in 0..<2 where conv.padding[axis] != conv.trailingPadding[axis] {
            let symmetric = Self.symmetricExtent(input: axis == 0 ? input.h : input.w, kernel: w[axis + 2],
                                                 padding: conv.padding[axis], stride: conv.stride[axis],
                                                 dilation: conv.dilation[axis])
            guard symmetric == (axis == 0 ? out.h : out.w) else {
                throw CUDAPlanError.node(node, "padding \(conv.padding) before and \(conv.trailingPadding) after; cuDNN pads both sides alike")
            }
        }
        var channels = w[1]
        if conv.groups == 1, input.c > w[1] {
            channels = input.c  // the stem, reading channel-padded input: zero filter channels to match
        } else {
            guard input.c == w[1] * conv.groups else {
                throw CUDAPlanError.node(node, "input of \(input.c) channels for \(conv.groups) groups of \(w[1])")
            }
        }
        let filter = try addWeight("\(node.name).weight", computeType, .filterKRSC(k: w[0], r: w[2], s: w[3], c: channels),
                                   CUDAWeightPayload(values: .tensor(conv.weight),
                                                     arrangement: .filterKRSC(k: w[0], c: w[1], r: w[2], s: w[3], paddedC: channels)))
        let bias = try addWeight("\(node.name).bias", computeType, .vector(count: w[0]),
                                 CUDAWeightPayload(values: conv.bias.map { .tensor($0) } ?? .zeros, arrangement: .asIs))
        var residual: CUDATensorID?
        if conv.addsResidual {
            let z = try computed(node.inputs[1], node)
            guard tensors[z.index].shape == out else {
                throw CUDAPlanError.node(node, "residual of \(tensors[z.index].shape) for an output of \(out)")
            }
            residual = z
        }
        var fused = CUDAConvolutionActivation.identity
        var separate: Activation?
        switch conv.activation {
        case nil: break
        case .relu?: fused = .relu
        case .clip(let lower, let upper)? where lower == 0 && upper > 0:
            fused = upper.isInfinite ? .relu : .clippedRelu(ceiling: upper)
        case let other?: separate = other
        }
        let mathMode: CUDAMathMode = switch precision {
        case .tf32: .tf32
        case .fp32: .fma
        default: .tensorOp
        }
        let y = try newTensor(node.name, out, computeType)
        let step = CUDAConvolutionStep(
            input: x, output: y, residual: residual, filter: filter, bias: bias, k: w[0], r: w[2], s: w[3], c: channels,
            padding: conv.padding, stride: conv.stride, dilation: conv.dilation, groups: conv.groups, activation: fused,
            dataType: computeType, mathMode: mathMode, algorithms: fused == .identity ? .implicitPrecompGemm : .any)
        append(node.name, .convolution(step), .cudnnConvolution)
        if let separate { try appendActivation(separate, y, y, node) }
        bind(node.output, to: y)
    }

    mutating func lowerPooling(_ pool: Pool2D, _ node: Node) throws {
        guard pool.dilation == [1, 1] else {
            throw CUDAPlanError.node(node, "dilation \(pool.dilation); cuDNN pools without dilation")
        }
        let x = try computed(node.inputs[0], node)
        let input = tensors[x.index].shape
        let out = try extent(of: node.output, node)
        for axis in 0..<2 {
            let symmetric = Self.symmetricExtent(input: axis == 0 ? input.h : input.w, kernel: pool.kernel[axis],
                                                 padding: pool.padding[axis], stride: pool.stride[axis], dilation: 1)
            guard symmetric == (axis == 0 ? out.h : out.w) else {
                throw CUDAPlanError.node(node, "ceil mode gives \(out.h)x\(out.w), which needs padding after the input; cuDNN pads both sides alike")
            }
        }
        let mode: CUDAPoolingMode = pool.kind == .max ? .max
            : (pool.countIncludesPadding ? .averageIncludingPadding : .averageExcludingPadding)
        let y = try newTensor(node.name, out, computeType)
        let step = CUDAPoolingStep(input: x, output: y, mode: mode, window: pool.kernel, padding: pool.padding,
                                   stride: pool.stride, isGlobal: false)
        append(node.name, .pooling(step), .cudnnPooling)
        bind(node.output, to: y)
    }

    /// a ∘ b with b (a value or a constant) broadcast NumPy-style to a's per-sample shape.
    mutating func lowerBinary(_ kind: BinaryKind, constant: Tensor?, _ node: Node) throws {
        let a = try computed(node.inputs[0], node)
        let first = shapes[node.inputs[0]] ?? []
        let second = constant?.shape ?? shapes[node.inputs[1]] ?? []
        let out = tensors[a.index].shape
        let perSample: Int
        let strides: [Int]
        let layout: CUDAWeightLayout
        let arrangement: CUDAWeightPayload.Arrangement
        switch first.count {
        case 3:
            let p = Array(repeating: 1, count: max(0, 3 - second.count)) + second
            let (c, h, w) = (p[0], p[1], p[2])
            perSample = c * h * w
            strides = [0, h == 1 ? 0 : w * c, w == 1 ? 0 : c, c == 1 ? 0 : 1]
            layout = .constant(h: h, w: w, c: c)
            arrangement = .chwToHWC(c: c, h: h, w: w)
        case 1:
            let k = second.last ?? 1
            perSample = k
            strides = [0, 0, 0, k == 1 ? 0 : 1]
            layout = .constant(h: 1, w: 1, c: k)
            arrangement = .asIs
        default:
            _ = try extent(of: node.inputs[0], node)
            return
        }
        let b: CUDABinaryOperand
        var bStrides = strides
        if let constant {
            b = .weight(try addWeight("\(node.name).constant", computeType, layout,
                                      CUDAWeightPayload(values: .tensor(constant), arrangement: arrangement)))
        } else {
            let t = try computed(node.inputs[1], node)
            guard tensors[t.index].shape.elementCount == batch * perSample else {
                throw CUDAPlanError.node(node, "operand of \(tensors[t.index].shape) does not broadcast to \(out)")
            }
            b = .tensor(t)
            bStrides[0] = perSample
        }
        let y = try newTensor(node.name, out, computeType)
        let step = CUDABinaryStep(a: a, b: b, output: y, kind: kind, dims: [out.n, out.h, out.w, out.c], bStrides: bStrides)
        append(node.name, .binary(step), .kernel(CUDAKernels.binary(step, type: computeType)))
        bind(node.output, to: y)
    }

    /// An unfolded batch-norm as x · scale + shift per channel, with the activation after it when only that reads it.
    mutating func lowerBatchNorm(_ bn: BatchNorm, _ node: Node, index: Int) throws {
        let x = try computed(node.inputs[0], node)
        let shape = tensors[x.index].shape
        let gamma = try bn.weight.floats(), beta = try bn.bias.floats()
        let mean = try bn.mean.floats(), variance = try bn.variance.floats()
        guard [gamma.count, beta.count, mean.count, variance.count].allSatisfy({ $0 == shape.c }) else {
            throw CUDAPlanError.node(node, "parameters of \(gamma.count) channels for an input of \(shape.c)")
        }
        let scale = (0..<shape.c).map { Double(gamma[$0]) / (Double(variance[$0]) + Double(bn.epsilon)).squareRoot() }
        let shift = (0..<shape.c).map { Double(beta[$0]) - Double(mean[$0]) * scale[$0] }
        let scaleWeight = try addWeight("\(node.name).scale", .float32, .vector(count: shape.c),
                                        CUDAWeightPayload(values: .floats(scale.map { Float($0) }), arrangement: .asIs))
        let shiftWeight = try addWeight("\(node.name).shift", .float32, .vector(count: shape.c),
                                        CUDAWeightPayload(values: .floats(shift.map { Float($0) }), arrangement: .asIs))
        var activation: Activation?
        var result = node.output
        if node.output != graph.output, let readers = consumers[node.output], readers.count == 1,
           case .activation(let a) = graph.nodes[readers[0]].operation {
            activation = a
            fusedNodes.insert(readers[0])
            result = graph.nodes[readers[0]].output
        }
        let y = try newTensor(node.name, shape, computeType)
        let step = CUDAScaleShiftStep(input: x, output: y, scale: scaleWeight, shift: shiftWeight, activation: activation)
        append(node.name, .scaleShift(step),
               .kernel(CUDAKernels.scaleShift(step, count: shape.elementCount, channels: shape.c, type: computeType)))
        bind(node.output, to: y)
        if result != node.output { bind(result, to: y) }
    }

    mutating func lowerReshape(_ target: [Int], _ node: Node) throws {
        switch target.count {
        case 1:
            bind(node.output, to: try flattened(node.inputs[0], node))
        case 3:
            let flat = try flattened(node.inputs[0], node)
            guard target[1] * target[2] > 1 else {
                bind(node.output, to: flat)
                return
            }
            let t = tensors[flat.index]
            let y = try newTensor(node.name, CUDAShape(n: batch, h: target[1], w: target[2], c: target[0]), t.dtype)
            try appendTranspose(node.name, from: flat, to: y, rows: target[0], columns: target[1] * target[2], node)
            bind(node.output, to: y)
        default:
            throw CUDAPlanError.node(node, "a reshape to per-sample shape \(target); CUDA lowers [C, H, W] and [K]")
        }
    }

    /// y = x · Wᵀ + b by cublasLtMatmul; float32 output where it is the model's output or only softmax reads it.
    mutating func lowerLinear(_ linear: Linear, _ node: Node) throws {
        let x = try converted(try flattened(node.inputs[0], node), to: computeType, node)
        let (m, k) = (linear.weight.shape[0], linear.weight.shape[1])
        guard tensors[x.index].shape.elementCount == batch * k else {
            throw CUDAPlanError.node(node, "input of \(tensors[x.index].shape) for \(k) inputs")
        }
        let readers = consumers[node.output] ?? []
        let onlySoftmax = !readers.isEmpty && readers.allSatisfy {
            if case .softmax = graph.nodes[$0].operation { true } else { false }
        }
        let outputType: CUDADataType = node.output == graph.output || onlySoftmax ? .float32 : computeType
        let weight = try addWeight("\(node.name).weight", computeType, .matrix(rows: m, cols: k),
                                   CUDAWeightPayload(values: .tensor(linear.weight), arrangement: .asIs))
        let bias = try linear.bias.map {
            try addWeight("\(node.name).bias", outputType, .vector(count: m), CUDAWeightPayload(values: .tensor($0), arrangement: .asIs))
        }
        var separate: Activation?
        let relu: Bool
        switch linear.activation {
        case nil: relu = false
        case .relu?: relu = true
        case let other?: relu = false; separate = other
        }
        let epilogue: CUDAMatmulEpilogue = switch (bias != nil, relu) {
        case (true, true): .reluBias
        case (true, false): .bias
        case (false, true): .relu
        case (false, false): .none
        }
        let y = try newTensor(node.name, CUDAShape(n: batch, h: 1, w: 1, c: m), outputType)
        let step = CUDAMatmulStep(input: x, output: y, weight: weight, bias: bias, m: m, n: batch, k: k, epilogue: epilogue,
                                  inputType: computeType, outputType: outputType, allowsTF32: precision == .tf32)
        append(node.name, .matmul(step), .cublasLtMatmul)
        if let separate { try appendActivation(separate, y, y, node) }
        bind(node.output, to: y)
    }

    /// Softmax over the last axis, in float32: rows of [K], or of W where C = 1 (NHWC then keeps W contiguous).
    mutating func lowerSoftmax(_ node: Node) throws {
        let s = shapes[node.inputs[0]] ?? []
        let (rows, columns): (Int, Int)
        switch s.count {
        case 1: (rows, columns) = (batch, s[0])
        case 3 where s[0] == 1: (rows, columns) = (batch * s[1], s[2])
        default:
            throw CUDAPlanError.node(node, "softmax over the last axis of \(s); CUDA lowers [K] and [1, H, W]")
        }
        let x = try converted(try tensor(of: node.inputs[0], node), to: .float32, node)
        let y = try newTensor(node.name, tensors[x.index].shape, .float32)
        let step = CUDASoftmaxStep(input: x, output: y, rows: rows, columns: columns)
        append(node.name, .softmax(step), .kernel(CUDAKernels.softmax(step)))
        bind(node.output, to: y)
    }

    /// Concatenation along channels: each input copied into its slice of the NHWC output.
    mutating func lowerConcat(axis: Int, _ node: Node) throws {
        let out = try extent(of: node.output, node)
        guard axis == 0 else {
            throw CUDAPlanError.node(node, "concatenation along per-sample axis \(axis); CUDA lowers channels (axis 0)")
        }
        var inputs: [CUDATensorID] = [], offsets: [Int] = []
        var offset = 0
        for value in node.inputs {
            let t = try computed(value, node)
            inputs.append(t)
            offsets.append(offset)
            offset += tensors[t.index].shape.c
        }
        guard offset == out.c else {
            throw CUDAPlanError.node(node, "inputs of \(offset) channels for an output of \(out.c)")
        }
        let y = try newTensor(node.name, out, computeType)
        let step = CUDAConcatStep(inputs: inputs, output: y, channelOffsets: offsets)
        steps.append(CUDAStep(layer: node.name, kind: .concat(step)))
        let pixels = out.n * out.h * out.w
        for (t, start) in zip(inputs, offsets) {
            launches.append(CUDALaunch(step: steps.count - 1, kind: .kernel(CUDAKernels.copyChannels(
                from: t, to: y, pixels: pixels, sourceChannels: tensors[t.index].shape.c, targetChannels: out.c,
                offset: start, type: computeType))))
        }
        bind(node.output, to: y)
    }
}
