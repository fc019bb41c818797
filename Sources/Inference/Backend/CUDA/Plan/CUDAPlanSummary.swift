extension CUDATensor: CustomStringConvertible {
    public var description: String {
        let place = switch storage {
        case .input: "input"
        case .output: "output"
        case .arena(let offset): "@\(offset)"
        }
        return "\(id) \(dtype.kernelSuffix) \(shape) \(layout.rawValue) \(place)"
    }
}

extension CUDAPlan {
    /// One line per step: index, kind, layer, what it reads and writes, and its parameters (for `--verbose`
    /// and tests); then the arena and the weights.
    public var summary: String {
        var lines = steps.enumerated().map { index, step in
            let reads = step.reads.map { tensor($0).description }.joined(separator: ", ")
            return "\(index) \(step.kindName) \(step.layer): \(reads) → \(tensor(step.writes))\(detail(step))"
        }
        lines.append("arena \(arenaByteCount) bytes, weights \(weightsByteCount) bytes in \(weights.count) tensors, "
                     + "\(launches.count) launches")
        return lines.joined(separator: "\n")
    }

    private func detail(_ step: CUDAStep) -> String {
        switch step.kind {
        case .normalizeInput(let s):
            " channels \(s.inputChannels)→\(s.outputChannels)"
        case .inputLayout(let s):
            " channels \(s.inputChannels)→\(s.outputChannels)"
        case .convolution(let s):
            " k\(s.r)x\(s.s) s\(s.stride[0]) p\(s.padding[0])"
                + (s.groups > 1 ? " g\(s.groups)" : "") + (s.residual != nil ? " +z" : "")
                + " +\(s.activation)" + (s.algorithms == .implicitPrecompGemm ? " [implicit_precomp_gemm]" : "")
                + " \(s.mathMode.rawValue)"
        case .pooling(let s):
            " \(s.mode.rawValue) k\(s.window[0])x\(s.window[1]) s\(s.stride[0]) p\(s.padding[0])"
        case .matmul(let s):
            " m\(s.m) n\(s.n) k\(s.k) epilogue \(s.epilogue.rawValue)" + (s.allowsTF32 ? " tf32" : "")
        case .activation(let s):
            " \(s.activation)" + (s.input == s.output ? " in place" : "")
        case .scaleShift(let s):
            s.activation.map { " +\($0)" } ?? ""
        case .binary(let s):
            " dims \(s.dims) b strides \(s.bStrides)"
        case .concat(let s):
            " channel offsets \(s.channelOffsets)"
        case .softmax(let s):
            " \(s.rows)x\(s.columns)"
        case .transpose(let s):
            " \(s.batch)x[\(s.rows), \(s.columns)]"
        case .convert(let s):
            " \(s.from.rawValue)→\(s.to.rawValue)"
        }
    }
}
