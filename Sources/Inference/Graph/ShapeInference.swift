public enum ShapeInference {
    /// The per-sample output shape of `node` given its inputs' shapes; throws for inputs or parameters that do not fit.
    public static func output(of node: Node, inputs: [[Int]]) throws -> [Int] {
        func fail(_ why: String) -> InferenceError {
            InferenceError(.invalidGraph, "node \(node.name) (\(node.operation.kindName)): \(why)")
        }
        func expectInputs(_ count: Int) throws {
            guard inputs.count == count else { throw fail("expects \(count) inputs, has \(inputs.count)") }
        }
        switch node.operation {
        case .conv2d(let conv):
            try expectInputs(conv.addsResidual ? 2 : 1)
            let x = inputs[0]
            let w = conv.weight.shape
            guard x.count == 3 else { throw fail("input must be [C, H, W], is \(x)") }
            guard w.count == 4, conv.groups >= 1, w[0] % conv.groups == 0, x[0] == w[1] * conv.groups else {
                throw fail("weight \(w) with \(conv.groups) groups does not fit input \(x)")
            }
            if let b = conv.bias, b.shape != [w[0]] { throw fail("bias \(b.shape) does not match \(w[0]) filters") }
            guard conv.stride.count == 2, conv.padding.count == 2, conv.dilation.count == 2,
                  conv.stride.allSatisfy({ $0 >= 1 }), conv.dilation.allSatisfy({ $0 >= 1 }),
                  conv.padding.allSatisfy({ $0 >= 0 }), conv.trailingPadding.count == 2,
                  conv.trailingPadding.allSatisfy({ $0 >= 0 })
            else { throw fail("bad stride \(conv.stride), padding \(conv.padding) or dilation \(conv.dilation)") }
            var out = [w[0]]
            for axis in 0..<2 {
                let span = x[axis + 1] + conv.padding[axis] + conv.trailingPadding[axis] - conv.dilation[axis] * (w[axis + 2] - 1) - 1
                guard span >= 0 else { throw fail("kernel larger than the padded input \(x)") }
                out.append(span / conv.stride[axis] + 1)
            }
            if conv.addsResidual, inputs[1] != out { throw fail("residual \(inputs[1]) does not match output \(out)") }
            return out
        case .batchNorm(let bn):
            try expectInputs(1)
            let c = inputs[0].first ?? 0
            for p in [bn.weight, bn.bias, bn.mean, bn.variance] where p.shape != [c] {
                throw fail("parameter \(p.shape) does not match \(c) channels")
            }
            return inputs[0]
        case .activation, .softmax:
            try expectInputs(1)
            return inputs[0]
        case .pool(let pool):
            try expectInputs(1)
            let x = inputs[0]
            guard x.count == 3, pool.kernel.count == 2, pool.stride.count == 2, pool.padding.count == 2,
                  pool.dilation.count == 2, pool.stride.allSatisfy({ $0 >= 1 }), pool.kernel.allSatisfy({ $0 >= 1 })
            else { throw fail("bad input \(x) or window") }
            var out = [x[0]]
            for axis in 0..<2 {
                out.append(try pooledExtent(x[axis + 1], kernel: pool.kernel[axis], stride: pool.stride[axis],
                                            padding: pool.padding[axis], dilation: pool.dilation[axis],
                                            ceilMode: pool.ceilMode, fail: fail))
            }
            return out
        case .globalAveragePool:
            try expectInputs(1)
            guard inputs[0].count == 3 else { throw fail("input must be [C, H, W], is \(inputs[0])") }
            return [inputs[0][0], 1, 1]
        case .add:
            try expectInputs(2)
            guard inputs[0] == inputs[1] else { throw fail("shapes \(inputs[0]) and \(inputs[1]) differ") }
            return inputs[0]
        case .flatten:
            try expectInputs(1)
            return [inputs[0].reduce(1, *)]
        case .binary(let binary):
            try expectInputs(binary.constant == nil ? 2 : 1)
            let second = binary.constant?.shape ?? inputs[1]
            guard second.count <= inputs[0].count,
                  zip(inputs[0].reversed(), second.reversed()).allSatisfy({ $1 == $0 || $1 == 1 })
            else { throw fail("\(second) does not broadcast to \(inputs[0])") }
            return inputs[0]
        case .concat(let axis):
            guard let first = inputs.first, axis >= 0, axis < first.count else {
                throw fail("axis \(axis) outside the inputs' \(inputs.first?.count ?? 0) dimensions")
            }
            var out = first
            out[axis] = 0
            for shape in inputs {
                guard shape.count == first.count,
                      shape.indices.allSatisfy({ $0 == axis || shape[$0] == first[$0] })
                else { throw fail("\(shape) does not fit \(first) outside axis \(axis)") }
                out[axis] += shape[axis]
            }
            return out
        case .reshape(let shape):
            try expectInputs(1)
            guard shape.allSatisfy({ $0 >= 1 }), shape.reduce(1, *) == inputs[0].reduce(1, *) else {
                throw fail("cannot reshape \(inputs[0]) to \(shape)")
            }
            return shape
        case .linear(let linear):
            try expectInputs(1)
            let w = linear.weight.shape
            guard w.count == 2, inputs[0].reduce(1, *) == w[1] else {
                throw fail("weight \(w) does not fit input \(inputs[0])")
            }
            if let b = linear.bias, b.shape != [w[0]] { throw fail("bias \(b.shape) does not match \(w[0]) outputs") }
            return [w[0]]
        }
    }

    /// PyTorch's pooling output size, including ceil mode's rule that the last window starts inside the
    /// input or its left padding.
    static func pooledExtent(_ size: Int, kernel: Int, stride: Int, padding: Int, dilation: Int, ceilMode: Bool,
                             fail: (String) -> InferenceError) throws -> Int {
        let span = size + 2 * padding - dilation * (kernel - 1) - 1
        guard span >= 0 else { throw fail("window larger than the padded input") }
        var out = (ceilMode ? (span + stride - 1) / stride : span / stride) + 1
        if ceilMode, (out - 1) * stride >= size + padding { out -= 1 }
        return out
    }
}
