import Inference

/// Convolution, pooling and padding: the operators with windows over H and W.
extension Importer {
    /// Begin and end padding for H and W from `pads` [h0, w0, h1, w1] or `auto_pad`.
    func windowPadding(_ c: NodeContext, autoPad: String, pads: [Int]?, input: [Int], kernel: [Int], stride: [Int],
                       dilation: [Int]) throws -> (begin: [Int], end: [Int]) {
        switch autoPad {
        case "NOTSET", "":
            let p = pads ?? [0, 0, 0, 0]
            guard p.count == 4, p.allSatisfy({ $0 >= 0 && $0 <= 1 << 16 }) else {
                throw c.error(.unsupportedAttribute, "pads \(p); four non-negative values for H and W are supported")
            }
            return ([p[0], p[1]], [p[2], p[3]])
        case "VALID":
            return ([0, 0], [0, 0])
        case "SAME_UPPER", "SAME_LOWER":
            var begin: [Int] = [], end: [Int] = []
            for axis in 0..<2 {
                let out = (input[axis] + stride[axis] - 1) / stride[axis]
                let total = max((out - 1) * stride[axis] + (kernel[axis] - 1) * dilation[axis] + 1 - input[axis], 0)
                let small = total / 2
                begin.append(autoPad == "SAME_UPPER" ? small : total - small)
                end.append(autoPad == "SAME_UPPER" ? total - small : small)
            }
            return (begin, end)
        default:
            throw c.error(.unsupportedAttribute, "auto_pad '\(autoPad)'")
        }
    }

    func pair(_ values: [Int]?, _ fallback: Int, _ c: NodeContext, what: String) throws -> [Int] {
        let v = values ?? [fallback, fallback]
        guard v.count == 2, v.allSatisfy({ $0 >= 1 && $0 <= 1 << 16 }) else {
            throw c.error(.unsupportedAttribute, "\(what) \(v); two positive values (H, W) are supported")
        }
        return v
    }

    mutating func convolution(_ c: NodeContext, int: (String, Int) -> Int, ints: (String) -> [Int]?,
                              string: (String, String) -> String) throws {
        let x: ValueID, sample: [Int]
        var extraBegin = [0, 0], extraEnd = [0, 0]
        switch try input(0, c) {
        case .padded(let id, let s, let b, let e):
            (x, sample, extraBegin, extraEnd) = (id, s, b, e)
        case let other:
            (x, sample) = try activation(other, c)
        }
        guard sample.count == 3 else { throw c.error(.unsupportedAttribute, "input of rank \(sample.count + 1); 2-D convolutions (NCHW) are supported") }
        guard case .floats(let weight) = try constantInput(1, c, what: "W"), weight.shape.count == 4 else {
            throw c.error(.unsupportedAttribute, "W must be a float constant [O, I/groups, kH, kW]")
        }
        var bias: Tensor?
        if let b = try optionalInput(2, c) {
            guard case .constant(.floats(let t)) = b, t.shape == [weight.shape[0]] else {
                throw c.error(.shapeMismatch, "B must be a float constant of shape [\(weight.shape[0])]")
            }
            bias = t
        }
        let groups = int("group", 1)
        guard groups >= 1, weight.shape[0] % groups == 0, weight.shape[1] * groups == sample[0] else {
            throw c.error(.shapeMismatch, "W \(weight.shape) with \(groups) groups does not fit \(sample[0]) input channels")
        }
        let kernel = Array(weight.shape[2...])
        if let k = ints("kernel_shape"), k != kernel { throw c.error(.shapeMismatch, "kernel_shape \(k) but W is \(weight.shape)") }
        let stride = try pair(ints("strides"), 1, c, what: "strides")
        let dilation = try pair(ints("dilations"), 1, c, what: "dilations")
        let padded = [sample[1] + extraBegin[0] + extraEnd[0], sample[2] + extraBegin[1] + extraEnd[1]]
        var (begin, end) = try windowPadding(c, autoPad: string("auto_pad", "NOTSET"), pads: ints("pads"), input: padded,
                                             kernel: kernel, stride: stride, dilation: dilation)
        begin = zip(begin, extraBegin).map(+)
        end = zip(end, extraEnd).map(+)
        var conv = Conv2D(weight: weight, bias: bias, stride: stride, padding: begin, dilation: dilation, groups: groups)
        if end != begin { conv.paddingEnd = end }
        define(c, try add(.conv2d(conv), [x], c))
    }

    mutating func pooling(_ c: NodeContext, int: (String, Int) -> Int, ints: (String) -> [Int]?,
                          string: (String, String) -> String) throws {
        let (x, sample) = try activation(try input(0, c), c)
        guard sample.count == 3 else { throw c.error(.unsupportedAttribute, "input of rank \(sample.count + 1); NCHW is supported") }
        if c.node.output.count > 1, !c.node.output[1].isEmpty { throw c.error(.unsupportedAttribute, "the Indices output") }
        let kernel = try pair(ints("kernel_shape"), 0, c, what: "kernel_shape")
        let stride = try pair(ints("strides"), 1, c, what: "strides")
        let dilation = try pair(ints("dilations"), 1, c, what: "dilations")
        let (begin, end) = try windowPadding(c, autoPad: string("auto_pad", "NOTSET"), pads: ints("pads"),
                                             input: Array(sample[1...]), kernel: kernel, stride: stride, dilation: dilation)
        guard begin == end else { throw c.error(.unsupportedAttribute, "asymmetric padding \(begin) before, \(end) after") }
        let isMax = c.node.opType == "MaxPool"
        let pool = Pool2D(kind: isMax ? .max : .average, kernel: kernel, stride: stride, padding: begin, dilation: dilation,
                          ceilMode: int("ceil_mode", 0) == 1, countIncludesPadding: int("count_include_pad", 0) == 1)
        define(c, try add(.pool(pool), [x], c))
    }

    /// Zero padding of H and W is kept for the convolution that reads it; other padding is not supported.
    mutating func pad(_ c: NodeContext, string: (String, String) -> String) throws {
        let mode = string("mode", "constant")
        guard mode == "constant" else { throw c.error(.unsupportedAttribute, "mode '\(mode)'; constant is supported") }
        let value = try input(0, c)
        let pads = try constantInput(1, c, what: "pads").integers()
        if let fill = try optionalInput(2, c) {
            guard try scalar(fill, c, what: "constant_value") == 0 else { throw c.error(.unsupportedAttribute, "a non-zero constant_value") }
        }
        if try optionalInput(3, c) != nil { throw c.error(.unsupportedAttribute, "the axes input") }
        let (x, sample) = try activation(value, c)
        let rank = sample.count + 1
        guard pads.count == 2 * rank, pads.allSatisfy({ $0 >= 0 && $0 <= 1 << 16 }) else {
            throw c.error(.unsupportedAttribute, "pads \(pads) for a rank-\(rank) tensor; non-negative values are supported")
        }
        if pads.allSatisfy({ $0 == 0 }) {
            define(c, value)
            return
        }
        guard rank == 4, pads[0] == 0, pads[1] == 0, pads[4] == 0, pads[5] == 0 else {
            throw c.error(.unsupportedAttribute, "pads \(pads); padding of H and W (before a Conv) is supported")
        }
        define(c, .padded(x, sample, begin: [pads[2], pads[3]], end: [pads[6], pads[7]]))
    }

    func constantAttribute(_ attrs: [String: Onnx_AttributeProto], _ c: NodeContext) throws -> Constant {
        if let t = attrs["value"] { return try reader.constant(t.t, node: c.node.name) }
        if let f = attrs["value_float"] { return .floats(try Tensor(shape: [], values: [f.f])) }
        if let f = attrs["value_floats"] { return .floats(try Tensor(shape: [f.floats.count], values: f.floats)) }
        if let i = attrs["value_int"] { return .ints(shape: [], values: [clampedInt(i.i)]) }
        if let i = attrs["value_ints"] { return .ints(shape: [i.ints.count], values: i.ints.map(clampedInt)) }
        throw c.error(.unsupportedAttribute, "a Constant without a tensor, float(s) or int(s) value")
    }

    /// ConstantOfShape, Slice, Transpose and Cast of constants (what exporters emit to compute pads).
    mutating func foldShapeOperator(_ op: String, _ c: NodeContext, int: (String, Int) -> Int, ints: (String) -> [Int]?,
                                    attrs: [String: Onnx_AttributeProto]) throws -> Constant {
        switch op {
        case "ConstantOfShape":
            let shape = try constantInput(0, c, what: "shape").integers()
            guard let count = ConstantFolding.count(shape), ConstantFolding.foldable(shape, elements: count) else {
                throw c.error(.shapeMismatch, "shape \(shape) is too large")
            }
            let fill = try attrs["value"].map { try reader.constant($0.t, node: c.node.name) } ?? .floats(try Tensor(shape: [1], values: [0]))
            guard fill.elementCount == 1 else { throw c.error(.shapeMismatch, "value must have one element") }
            if case .ints(_, let v) = fill { return .ints(shape: shape, values: Array(repeating: v[0], count: count)) }
            return .floats(try Tensor(shape: shape, values: Array(repeating: try fill.floatValues()[0], count: count)))
        case "Slice":
            let data = try constantInput(0, c, what: "data")
            let starts = try constantInput(1, c, what: "starts").integers()
            let ends = try constantInput(2, c, what: "ends").integers()
            let rank = data.shape.count
            let axes = try optionalInput(3, c).map { v -> [Int] in
                guard case .constant(let k) = v else { throw c.error(.unsupportedAttribute, "axes must be a constant") }
                return try k.integers().map { $0 < 0 ? $0 + rank : $0 }
            } ?? Array(0..<starts.count)
            let steps = try optionalInput(4, c).map { v -> [Int] in
                guard case .constant(let k) = v else { throw c.error(.unsupportedAttribute, "steps must be a constant") }
                return try k.integers()
            } ?? Array(repeating: 1, count: starts.count)
            guard starts.count == ends.count, axes.count == starts.count, steps.count == starts.count,
                  axes.allSatisfy({ $0 >= 0 && $0 < rank }), steps.allSatisfy({ $0 != 0 && $0 >= -(1 << 30) && $0 <= 1 << 30 })
            else { throw c.error(.shapeMismatch, "slice starts \(starts), ends \(ends), axes \(axes), steps \(steps) of \(data.shape)") }
            var indices = data.shape.map { Array(0..<$0) }
            for (i, axis) in axes.enumerated() {
                indices[axis] = ConstantFolding.sliceIndices(extent: data.shape[axis], start: starts[i], end: ends[i], step: steps[i])
            }
            let shape = indices.map(\.count)
            switch data {
            case .ints(let s, let v): return .ints(shape: shape, values: ConstantFolding.gather(v, shape: s, indices: indices))
            case .floats(let t):
                return .floats(try Tensor(shape: shape, values: ConstantFolding.gather(try t.floats(), shape: t.shape, indices: indices)))
            }
        case "Transpose":
            let data = try constantInput(0, c, what: "data")
            let rank = data.shape.count
            let perm = ints("perm") ?? Array((0..<rank).reversed())
            guard perm.sorted() == Array(0..<rank) else { throw c.error(.shapeMismatch, "perm \(perm) for rank \(rank)") }
            switch data {
            case .ints(let s, let v):
                let (values, shape) = ConstantFolding.transpose(v, shape: s, perm: perm)
                return .ints(shape: shape, values: values)
            case .floats(let t):
                let (values, shape) = ConstantFolding.transpose(try t.floats(), shape: t.shape, perm: perm)
                return .floats(try Tensor(shape: shape, values: values))
            }
        default: // Cast
            let data = try constantInput(0, c, what: "input")
            switch int("to", 0) {
            case Int(Onnx_TensorProto.DataType.float.rawValue), Int(Onnx_TensorProto.DataType.double.rawValue):
                return .floats(try Tensor(shape: data.shape, values: try data.floatValues()))
            case Int(Onnx_TensorProto.DataType.int64.rawValue), Int(Onnx_TensorProto.DataType.int32.rawValue):
                return .ints(shape: data.shape, values: try data.floatValues().map { Int(clamping: Int64(exactly: $0.rounded(.towardZero)) ?? 0) })
            default:
                throw c.error(.unsupportedAttribute, "cast to element type \(int("to", 0))")
            }
        }
    }
}
