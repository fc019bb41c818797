import Inference

extension Importer {
    mutating func lower(_ node: Onnx_NodeProto, index: Int) throws {
        let c = NodeContext(node: node, name: uniqueName(node, index: index), file: file, opset: opset)
        let attrs = Self.attributes(node)
        func int(_ name: String, _ fallback: Int) -> Int { attrs[name].map { clampedInt($0.i) } ?? fallback }
        func float(_ name: String, _ fallback: Float) -> Float { attrs[name]?.f ?? fallback }
        func ints(_ name: String) -> [Int]? { attrs[name].map { $0.ints.map(clampedInt) } }
        func string(_ name: String, _ fallback: String) -> String {
            attrs[name].map { String(decoding: $0.s, as: UTF8.self) } ?? fallback
        }

        switch node.opType {
        case "Identity", "Dropout":
            define(c, try input(0, c))
        case "Constant":
            define(c, .constant(try constantAttribute(attrs, c)))

        case "Relu": try activationNode(.relu, c)
        case "Sigmoid": try activationNode(.sigmoid, c)
        case "HardSwish": try activationNode(.hardSwish, c)
        case "LeakyRelu": try activationNode(.leakyRelu(alpha: float("alpha", 0.01)), c)
        case "HardSigmoid": try activationNode(.hardSigmoid(alpha: float("alpha", 0.2), beta: float("beta", 0.5)), c)
        case "Clip":
            let lower = try optionalInput(1, c).map { try scalar($0, c, what: "min") } ?? -Float.greatestFiniteMagnitude
            let upper = try optionalInput(2, c).map { try scalar($0, c, what: "max") } ?? Float.greatestFiniteMagnitude
            try activationNode(lower == 0 && upper == .greatestFiniteMagnitude ? .relu : .clip(lower: lower, upper: upper), c)

        case "Add": try binaryNode(.add, c)
        case "Sub": try binaryNode(.sub, c)
        case "Mul": try binaryNode(.mul, c)
        case "Div": try binaryNode(.div, c)

        case "Conv": try convolution(c, int: int, ints: ints, string: string)
        case "BatchNormalization":
            guard int("training_mode", 0) == 0 else { throw c.error(.unsupportedAttribute, "training_mode = 1") }
            let (x, shape) = try activation(try input(0, c), c)
            var parameters: [Tensor] = []
            for (i, what) in [(1, "scale"), (2, "bias"), (3, "mean"), (4, "variance")] {
                guard case .floats(let t) = try constantInput(i, c, what: what), t.shape == [shape.first ?? 0] else {
                    throw c.error(.shapeMismatch, "\(what) must be a float constant of shape [\(shape.first ?? 0)]")
                }
                parameters.append(t)
            }
            define(c, try add(.batchNorm(BatchNorm(weight: parameters[0], bias: parameters[1], mean: parameters[2],
                                                   variance: parameters[3], epsilon: float("epsilon", 1e-5))), [x], c))
        case "GlobalAveragePool":
            let (x, shape) = try activation(try input(0, c), c)
            guard shape.count == 3 else { throw c.error(.unsupportedAttribute, "input of rank \(shape.count + 1); 4 is supported") }
            define(c, try add(.globalAveragePool, [x], c))
        case "MaxPool", "AveragePool":
            try pooling(c, int: int, ints: ints, string: string)
        case "ReduceMean":
            let (x, shape) = try activation(try input(0, c), c)
            var axes = ints("axes")
            if opset >= 18, let given = try optionalInput(1, c) {
                guard case .constant(let k) = given else { throw c.error(.unsupportedAttribute, "axes must be a constant") }
                axes = try k.integers()
            }
            let rank = shape.count + 1
            let normalized = Set((axes ?? []).map { $0 < 0 ? $0 + rank : $0 })
            guard rank == 4, normalized == [2, 3] else {
                throw c.error(.unsupportedAttribute, "mean over axes \(axes ?? []) of a rank-\(rank) tensor; over H, W (2, 3) of NCHW is supported")
            }
            var result = try add(.globalAveragePool, [x], c)
            if int("keepdims", 1) == 0, case .activation(let id, _) = result {
                result = try add(.reshape([shape[0]]), [id], c)
            }
            define(c, result)

        case "Gemm":
            let (x, shape) = try activation(try input(0, c), c)
            guard shape.count == 1 else { throw c.error(.unsupportedAttribute, "A must be [N, K], is [N] + \(shape)") }
            guard int("transA", 0) == 0 else { throw c.error(.unsupportedAttribute, "transA = 1") }
            guard case .floats(let b) = try constantInput(1, c, what: "B"), b.shape.count == 2 else {
                throw c.error(.unsupportedAttribute, "B must be a 2-D float constant")
            }
            let alpha = float("alpha", 1), beta = float("beta", 1)
            var weight = int("transB", 0) == 1 ? b : try transposed(b)
            if alpha != 1 { weight = try Tensor(shape: weight.shape, values: weight.floats().map { $0 * alpha }) }
            let m = weight.shape[0]
            var bias: Tensor?
            if let cValue = try optionalInput(2, c) {
                guard case .constant(let k) = cValue else { throw c.error(.unsupportedAttribute, "C must be a constant") }
                let values = try k.floatValues()
                guard values.count == m || values.count == 1, k.shape.dropLast().allSatisfy({ $0 == 1 }) else {
                    throw c.error(.shapeMismatch, "C of shape \(k.shape) does not broadcast to [N, \(m)]")
                }
                bias = try Tensor(shape: [m], values: (0..<m).map { values[values.count == 1 ? 0 : $0] * beta })
            }
            define(c, try add(.linear(Linear(weight: weight, bias: bias)), [x], c))
        case "MatMul":
            let (x, shape) = try activation(try input(0, c), c)
            guard shape.count == 1 else { throw c.error(.unsupportedAttribute, "A must be [N, K], is [N] + \(shape)") }
            guard case .floats(let b) = try constantInput(1, c, what: "B"), b.shape.count == 2 else {
                throw c.error(.unsupportedAttribute, "B must be a 2-D float constant")
            }
            define(c, try add(.linear(Linear(weight: try transposed(b))), [x], c))

        case "Flatten":
            let v = try input(0, c)
            let full = shape(of: v)
            let axis = int("axis", 1) < 0 ? int("axis", 1) + full.count : int("axis", 1)
            guard axis >= 0, axis <= full.count else { throw c.error(.unsupportedAttribute, "axis \(int("axis", 1)) for rank \(full.count)") }
            if case .constant = v {
                try reshapeNode(v, to: [full[..<axis].reduce(1, *), full[axis...].reduce(1, *)], c)
            } else {
                guard axis == 1 else { throw c.error(.unsupportedAttribute, "flattening at axis \(axis) merges the batch with other axes") }
                try reshapeNode(v, to: [0, full.dropFirst().reduce(1, *)], c)
            }
        case "Reshape":
            let v = try input(0, c)
            let target = try constantInput(1, c, what: "shape").integers()
            let allowZero = int("allowzero", 0) == 1
            try reshapeNode(v, to: try resolveReshape(shape(of: v), target: target, allowZero: allowZero, c), c)
        case "Squeeze", "Unsqueeze":
            let v = try input(0, c)
            var axes = ints("axes")
            if opset >= 13, let given = try optionalInput(1, c) {
                guard case .constant(let k) = given else { throw c.error(.unsupportedAttribute, "axes must be a constant") }
                axes = try k.integers()
            }
            var full = shape(of: v)
            if node.opType == "Squeeze" {
                let normalized = Set((axes ?? full.indices.filter { full[$0] == 1 && $0 > 0 }).map { $0 < 0 ? $0 + full.count : $0 })
                guard normalized.allSatisfy({ $0 >= 0 && $0 < full.count && full[$0] == 1 }) else {
                    throw c.error(.shapeMismatch, "cannot squeeze axes \(axes ?? []) of \(full)")
                }
                full = full.indices.filter { !normalized.contains($0) }.map { full[$0] }
            } else {
                guard let axes else { throw c.error(.missingValue, "no axes") }
                let rank = full.count + axes.count
                let normalized = Set(axes.map { $0 < 0 ? $0 + rank : $0 })
                guard normalized.count == axes.count, normalized.allSatisfy({ $0 >= 0 && $0 < rank }) else {
                    throw c.error(.shapeMismatch, "cannot unsqueeze axes \(axes) of \(full)")
                }
                var rest = full.makeIterator()
                full = (0..<rank).map { normalized.contains($0) ? 1 : (rest.next() ?? 1) }
            }
            try reshapeNode(v, to: full, c)
        case "Concat":
            let inputs = try node.input.indices.map { try input($0, c) }
            let rank = inputs.first.map { shape(of: $0).count } ?? 0
            let axis = int("axis", 0) < 0 ? int("axis", 0) + rank : int("axis", 0)
            guard axis >= 0, axis < rank else { throw c.error(.unsupportedAttribute, "axis \(int("axis", 0)) for rank \(rank)") }
            let constants = inputs.compactMap { v -> Constant? in if case .constant(let k) = v { return k } else { return nil } }
            if constants.count == inputs.count {
                define(c, .constant(try concatenate(constants, axis: axis, c)))
                return
            }
            guard axis > 0 else { throw c.error(.unsupportedAttribute, "concatenation along the batch axis") }
            let ids = try inputs.map { try activation($0, c).0 }
            define(c, try add(.concat(axis: axis - 1), ids, c))
        case "Pad":
            try pad(c, string: string)
        case "Softmax":
            let (x, shape) = try activation(try input(0, c), c)
            let rank = shape.count + 1
            let given = int("axis", opset >= 13 ? -1 : 1)
            let axis = given < 0 ? given + rank : given
            guard axis == rank - 1 else {
                throw c.error(.unsupportedAttribute, "softmax over axis \(given) of a rank-\(rank) tensor; over the last axis is supported")
            }
            define(c, try add(.softmax, [x], c))

        case "Shape":
            let full = shape(of: try input(0, c))
            let isComputed: Bool = if case .constant = try input(0, c) { false } else { true }
            var dims = full.enumerated().map { i, d in i == 0 && isComputed ? batchMarker : d }
            let rank = dims.count
            if opset >= 15 {
                func clampAxis(_ v: Int) -> Int { min(max(v < 0 ? v + rank : v, 0), rank) }
                let start = clampAxis(int("start", 0)), end = clampAxis(int("end", rank))
                dims = start < end ? Array(dims[start..<end]) : []
            }
            define(c, .constant(.ints(shape: [dims.count], values: dims)))
        case "Gather":
            let data = try constantInput(0, c, what: "data")
            let indices = try constantInput(1, c, what: "indices")
            let rank = data.shape.count
            let axis = int("axis", 0) < 0 ? int("axis", 0) + rank : int("axis", 0)
            guard axis >= 0, axis < rank else { throw c.error(.unsupportedAttribute, "axis \(int("axis", 0)) for rank \(rank)") }
            let extent = data.shape[axis]
            let picked = try indices.integers().map { $0 < 0 ? $0 + extent : $0 }
            guard picked.allSatisfy({ $0 >= 0 && $0 < extent }) else { throw c.error(.shapeMismatch, "indices outside 0..<\(extent)") }
            var axes = data.shape.map { Array(0..<$0) }
            axes[axis] = picked
            let shape = Array(data.shape[..<axis]) + indices.shape + Array(data.shape[(axis + 1)...])
            guard let count = ConstantFolding.count(shape), ConstantFolding.foldable(shape, elements: count) else {
                throw c.error(.shapeMismatch, "gathering \(indices.shape) indices from \(data.shape) makes \(shape), too large to fold")
            }
            switch data {
            case .ints(let s, let v): define(c, .constant(.ints(shape: shape, values: ConstantFolding.gather(v, shape: s, indices: axes))))
            case .floats(let t):
                define(c, .constant(.floats(try Tensor(shape: shape, values: ConstantFolding.gather(try t.floats(), shape: t.shape, indices: axes)))))
            }
        case "ConstantOfShape", "Slice", "Transpose", "Cast":
            define(c, .constant(try foldShapeOperator(node.opType, c, int: int, ints: ints, attrs: attrs)))
        default:
            throw c.error(.unsupportedOperator, "operator \(node.opType) is not supported")
        }
    }

    // MARK: helpers

    func shape(of value: Value) -> [Int] {
        switch value {
        case .activation(_, let s), .padded(_, let s, _, _): [0] + s
        case .constant(let k): k.shape
        }
    }

    func scalar(_ value: Value, _ c: NodeContext, what: String) throws -> Float {
        guard case .constant(let k) = value, k.elementCount == 1 else { throw c.error(.unsupportedAttribute, "\(what) must be a constant scalar") }
        return try k.floatValues()[0]
    }

    func transposed(_ t: Tensor) throws -> Tensor {
        let (values, shape) = ConstantFolding.transpose(try t.floats(), shape: t.shape, perm: [1, 0])
        return try Tensor(shape: shape, values: values)
    }

    mutating func activationNode(_ activation: Activation, _ c: NodeContext) throws {
        let (x, _) = try self.activation(try input(0, c), c)
        define(c, try add(.activation(activation), [x], c))
    }

    /// A constant's shape right-aligned to an activation's rank (batch first), as the per-sample shape of a
    /// broadcast operand.
    func broadcastShape(_ constant: [Int], to sample: [Int], _ c: NodeContext) throws -> [Int] {
        let rank = sample.count + 1
        guard constant.count <= rank else { throw c.error(.shapeMismatch, "a constant of shape \(constant) broadcasts the batch") }
        let padded = [Int](repeating: 1, count: rank - constant.count) + constant
        guard padded[0] == 1 else { throw c.error(.shapeMismatch, "a constant of shape \(constant) varies along the batch") }
        let perSample = Array(padded.dropFirst())
        guard zip(perSample, sample).allSatisfy({ $0 == $1 || $0 == 1 }) else {
            throw c.error(.shapeMismatch, "a constant of shape \(constant) does not broadcast to [N] + \(sample)")
        }
        return perSample
    }

    mutating func binaryNode(_ kind: BinaryKind, _ c: NodeContext) throws {
        let a = try input(0, c), b = try input(1, c)
        let commutative = kind == .add || kind == .mul
        switch (a, b) {
        case (.constant(let x), .constant(let y)):
            let op: (Double, Double) -> Double = switch kind {
            case .add: (+)
            case .sub: (-)
            case .mul: (*)
            case .div: { $1 == 0 ? 0 : $0 / $1 }
            }
            guard let (values, shape) = ConstantFolding.elementwise(try x.floatValues().map(Double.init), x.shape,
                                                                     try y.floatValues().map(Double.init), y.shape, op)
            else { throw c.error(.unsupportedAttribute, "folding constants of shapes \(x.shape) and \(y.shape)") }
            if case .ints = x, case .ints = y {
                define(c, .constant(.ints(shape: shape, values: values.map { Int(clamping: Int64(exactly: $0.rounded()) ?? 0) })))
            } else {
                define(c, .constant(.floats(try Tensor(shape: shape, values: values.map { Float($0) }))))
            }
        case (.constant(let k), _) where commutative, (_, .constant(let k)):
            let other = if case .constant = a { b } else { a }
            let (x, sample) = try activation(other, c)
            let perSample = try broadcastShape(k.shape, to: sample, c)
            let tensor = try Tensor(shape: perSample, values: try k.floatValues())
            define(c, try add(.binary(Binary(kind, constant: tensor)), [x], c))
        case (.constant, _):
            throw c.error(.unsupportedAttribute, "\(kind) with a constant first operand")
        default:
            let (x, xs) = try activation(a, c), (y, ys) = try activation(b, c)
            if xs == ys, kind == .add {
                define(c, try add(.add, [x, y], c))
            } else if (try? broadcastShape([1] + ys, to: xs, c)) != nil {
                define(c, try add(.binary(Binary(kind)), [x, y], c))
            } else if commutative, (try? broadcastShape([1] + xs, to: ys, c)) != nil {
                define(c, try add(.binary(Binary(kind)), [y, x], c))
            } else {
                throw c.error(.shapeMismatch, "operands [N] + \(xs) and [N] + \(ys) do not broadcast to the first's shape")
            }
        }
    }

    /// ONNX Reshape's target (0 copies a dimension unless allowzero, −1 is inferred) for a value whose
    /// first dimension is the batch when it is computed; the result includes that first dimension.
    func resolveReshape(_ full: [Int], target: [Int], allowZero: Bool, _ c: NodeContext) throws -> [Int] {
        var target = target
        if full.first == 0, target.first == batchMarker { target[0] = 0 }
        guard target.count <= 64, target.filter({ $0 == -1 }).count <= 1, target.allSatisfy({ $0 >= -1 }) else {
            throw c.error(.shapeMismatch, "reshape target \(target)")
        }
        var resolved = target.enumerated().map { i, d in d == 0 && !allowZero && i < full.count ? full[i] : d }
        guard let total = ConstantFolding.count(full.map { max($0, 1) }) else { throw c.error(.shapeMismatch, "shape \(full) too large") }
        let batchIsComputed = full.first == 0  // an activation: the batch is not known here
        if batchIsComputed {
            // The first target dimension stands for the batch (0, −1 or the exported batch size).
            let perSample = total / max(full.first.map { max($0, 1) } ?? 1, 1)
            var rest = Array(resolved.dropFirst())
            if let hole = rest.firstIndex(of: -1) {
                guard let known = ConstantFolding.count(rest.filter { $0 != -1 }), known > 0, perSample % known == 0 else { throw c.error(.shapeMismatch, "cannot reshape [N] + \(full.dropFirst()) to \(target)") }
                rest[hole] = perSample / known
            }
            guard ConstantFolding.count(rest) == perSample else {
                throw c.error(.shapeMismatch, "cannot reshape [N] + \(full.dropFirst()) to \(target)")
            }
            return [0] + rest
        }
        if let hole = resolved.firstIndex(of: -1) {
            guard let known = ConstantFolding.count(resolved.filter { $0 != -1 }), known > 0, total % known == 0 else { throw c.error(.shapeMismatch, "cannot reshape \(full) to \(target)") }
            resolved[hole] = total / known
        }
        guard ConstantFolding.count(resolved) == total else { throw c.error(.shapeMismatch, "cannot reshape \(full) to \(target)") }
        return resolved
    }

    /// `value` with ONNX shape `full` (the batch first; its value is ignored for activations).
    mutating func reshapeNode(_ value: Value, to full: [Int], _ c: NodeContext) throws {
        if case .constant(let k) = value {
            guard ConstantFolding.count(full) == k.elementCount, ConstantFolding.foldable(full, elements: k.elementCount) else {
                throw c.error(.shapeMismatch, "cannot reshape \(k.shape) to \(full)")
            }
            define(c, .constant(try k.reshaped(full)))
            return
        }
        let (x, sample) = try activation(value, c)
        let target = Array(full.dropFirst())
        guard !full.isEmpty, ConstantFolding.count(target) == ConstantFolding.count(sample) else {
            throw c.error(.shapeMismatch, "cannot reshape [N] + \(sample) to [N] + \(target)")
        }
        if target == sample {
            define(c, value)
        } else if target.count == 1 {
            define(c, try add(.flatten, [x], c))
        } else {
            define(c, try add(.reshape(target), [x], c))
        }
    }

    func concatenate(_ parts: [Constant], axis: Int, _ c: NodeContext) throws -> Constant {
        guard let first = parts.first else { throw c.error(.missingValue, "no inputs") }
        var shape = first.shape
        shape[axis] = 0
        for p in parts {
            guard p.shape.count == first.shape.count,
                  p.shape.indices.allSatisfy({ $0 == axis || p.shape[$0] == first.shape[$0] })
            else { throw c.error(.shapeMismatch, "\(p.shape) does not fit \(first.shape) outside axis \(axis)") }
            shape[axis] += p.shape[axis]
        }
        guard ConstantFolding.count(shape) != nil else { throw c.error(.shapeMismatch, "concatenation too large") }
        let outer = first.shape[..<axis].reduce(1, *)
        func join<T>(_ arrays: [[T]]) -> [T] {
            var result: [T] = []
            for o in 0..<outer {
                for (i, array) in arrays.enumerated() {
                    let chunk = parts[i].shape[axis...].reduce(1, *)
                    result += array[(o * chunk)..<((o + 1) * chunk)]
                }
            }
            return result
        }
        if parts.allSatisfy({ if case .ints = $0 { true } else { false } }) {
            return .ints(shape: shape, values: join(try parts.map { try $0.integers() }))
        }
        return .floats(try Tensor(shape: shape, values: join(try parts.map { try $0.floatValues() })))
    }
}
