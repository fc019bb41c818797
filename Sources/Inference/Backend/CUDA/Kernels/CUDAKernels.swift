/// The entry points of `CUDAKernelSource` with their parameter lists, and the launches the plan makes of them.
public enum CUDAKernels {
    public enum ParameterType: String, Sendable, Equatable {
        /// A device address (CUdeviceptr, 8 bytes): `CUDAKernelArgument.tensor` or `.weight`.
        case pointer
        /// `int` (4 bytes): `.int32`.
        case int32
        /// `long long` (8 bytes): `.int64`.
        case int64
        /// `float` (4 bytes): `.float32`.
        case float32
    }

    public struct EntryPoint: Sendable, Equatable {
        public let name: String
        public let parameters: [(name: String, type: ParameterType)]

        public static func == (a: Self, b: Self) -> Bool {
            a.name == b.name && a.parameters.map(\.name) == b.parameters.map(\.name)
                && a.parameters.map(\.type) == b.parameters.map(\.type)
        }
    }

    /// The activation codes of `sluice_activation_*` and `sluice_scale_shift_*` (`kind`, `alpha`, `beta`).
    public static func activationCode(_ activation: Activation) -> (kind: Int32, alpha: Float, beta: Float) {
        switch activation {
        case .relu: (0, 0, 0)
        case .clip(let lower, let upper): (1, lower, upper)
        case .leakyRelu(let alpha): (2, alpha, 0)
        case .sigmoid: (3, 0, 0)
        case .hardSigmoid(let alpha, let beta): (4, alpha, beta)
        case .hardSwish: (5, 0, 0)
        case .swish: (6, 0, 0)
        }
    }

    /// The `op` codes of `sluice_binary_*`.
    public static func binaryCode(_ kind: BinaryKind) -> Int32 {
        switch kind {
        case .add: 0
        case .sub: 1
        case .mul: 2
        case .div: 3
        }
    }

    static let storageTypes: [CUDADataType] = [.float16, .bfloat16, .float32]

    /// Every entry point of the source, in its order.
    public static let entryPoints: [EntryPoint] = {
        func p(_ names: String, _ type: ParameterType) -> [(String, ParameterType)] {
            names.split(separator: " ").map { (String($0), type) }
        }
        var points: [EntryPoint] = []
        for type in storageTypes {
            let s = type.kernelSuffix
            points += [
                EntryPoint(name: "sluice_normalize_u8_\(s)", parameters: p("src dst", .pointer) + p("pixels", .int64)
                    + p("srcChannels dstChannels", .int32) + p("s0 s1 s2 s3 h0 h1 h2 h3", .float32)),
                EntryPoint(name: "sluice_nchw_f32_to_nhwc_\(s)", parameters: p("src dst", .pointer) + p("batch hw", .int64)
                    + p("srcChannels dstChannels", .int32)),
                EntryPoint(name: "sluice_activation_\(s)", parameters: p("x y", .pointer) + p("count", .int64) + p("kind", .int32)
                    + p("alpha beta", .float32)),
                EntryPoint(name: "sluice_scale_shift_\(s)", parameters: p("x y scale shift", .pointer) + p("count", .int64)
                    + p("channels kind", .int32) + p("alpha beta", .float32)),
                EntryPoint(name: "sluice_binary_\(s)", parameters: p("a b y", .pointer) + p("count", .int64)
                    + p("op d1 d2 d3", .int32) + p("s0 s1 s2 s3", .int64)),
                EntryPoint(name: "sluice_transpose_\(s)", parameters: p("src dst", .pointer) + p("rows cols", .int32)),
                EntryPoint(name: "sluice_copy_channels_\(s)", parameters: p("src dst", .pointer) + p("pixels", .int64)
                    + p("srcChannels dstChannels offset", .int32)),
            ]
        }
        for name in ["f16_to_f32", "bf16_to_f32", "f32_to_f16", "f32_to_bf16"] {
            points.append(EntryPoint(name: "sluice_convert_\(name)", parameters: p("src dst", .pointer) + p("count", .int64)))
        }
        points.append(EntryPoint(name: "sluice_softmax_f32", parameters: p("x y", .pointer) + p("rows cols", .int32)))
        return points
    }()

    public static func entryPoint(named name: String) -> EntryPoint? { entryPoints.first { $0.name == name } }

    // MARK: launch geometry

    static let threadsPerBlock = 256
    /// Enough blocks to fill any current GPU several times over; the kernels stride over the rest.
    static let maximumBlocks = 65_536

    static func elementwise(_ kernel: String, count: Int, _ arguments: [CUDAKernelArgument]) -> CUDAKernelLaunch {
        let blocks = max(1, min((count + threadsPerBlock - 1) / threadsPerBlock, maximumBlocks))
        return CUDAKernelLaunch(kernel: kernel, grid: [blocks, 1, 1], block: [threadsPerBlock, 1, 1], sharedMemoryBytes: 0,
                                arguments: arguments)
    }

    static func normalize(_ step: CUDANormalizeInputStep, pixels: Int, type: CUDADataType) -> CUDAKernelLaunch {
        let scale = (0..<4).map { $0 < step.scale.count ? step.scale[$0] : 0 }
        let shift = (0..<4).map { $0 < step.shift.count ? step.shift[$0] : 0 }
        return elementwise("sluice_normalize_u8_\(type.kernelSuffix)", count: pixels,
                           [.tensor(step.input), .tensor(step.output), .int64(Int64(pixels)),
                            .int32(Int32(step.inputChannels)), .int32(Int32(step.outputChannels))]
                           + scale.map { .float32($0) } + shift.map { .float32($0) })
    }

    static func inputLayout(_ step: CUDAInputLayoutStep, batch: Int, hw: Int, type: CUDADataType) -> CUDAKernelLaunch {
        elementwise("sluice_nchw_f32_to_nhwc_\(type.kernelSuffix)", count: batch * hw,
                    [.tensor(step.input), .tensor(step.output), .int64(Int64(batch)), .int64(Int64(hw)),
                     .int32(Int32(step.inputChannels)), .int32(Int32(step.outputChannels))])
    }

    static func activation(_ step: CUDAActivationStep, count: Int, type: CUDADataType) -> CUDAKernelLaunch {
        let code = activationCode(step.activation)
        return elementwise("sluice_activation_\(type.kernelSuffix)", count: count,
                           [.tensor(step.input), .tensor(step.output), .int64(Int64(count)), .int32(code.kind),
                            .float32(code.alpha), .float32(code.beta)])
    }

    static func scaleShift(_ step: CUDAScaleShiftStep, count: Int, channels: Int, type: CUDADataType) -> CUDAKernelLaunch {
        let code = step.activation.map(activationCode) ?? (kind: -1, alpha: 0, beta: 0)
        return elementwise("sluice_scale_shift_\(type.kernelSuffix)", count: count,
                           [.tensor(step.input), .tensor(step.output), .weight(step.scale), .weight(step.shift),
                            .int64(Int64(count)), .int32(Int32(channels)), .int32(code.kind), .float32(code.alpha),
                            .float32(code.beta)])
    }

    static func binary(_ step: CUDABinaryStep, type: CUDADataType) -> CUDAKernelLaunch {
        let count = step.dims.reduce(1, *)
        let b: CUDAKernelArgument = switch step.b {
        case .tensor(let t): .tensor(t)
        case .weight(let w): .weight(w)
        }
        return elementwise("sluice_binary_\(type.kernelSuffix)", count: count,
                           [.tensor(step.a), b, .tensor(step.output), .int64(Int64(count)), .int32(binaryCode(step.kind))]
                           + step.dims.dropFirst().map { .int32(Int32($0)) } + step.bStrides.map { .int64(Int64($0)) })
    }

    static func transpose(_ step: CUDATransposeStep, type: CUDADataType) -> CUDAKernelLaunch {
        CUDAKernelLaunch(kernel: "sluice_transpose_\(type.kernelSuffix)",
                         grid: [(step.columns + 31) / 32, (step.rows + 31) / 32, step.batch], block: [32, 8, 1],
                         sharedMemoryBytes: 0,
                         arguments: [.tensor(step.input), .tensor(step.output), .int32(Int32(step.rows)), .int32(Int32(step.columns))])
    }

    static func copyChannels(from source: CUDATensorID, to target: CUDATensorID, pixels: Int, sourceChannels: Int,
                             targetChannels: Int, offset: Int, type: CUDADataType) -> CUDAKernelLaunch {
        elementwise("sluice_copy_channels_\(type.kernelSuffix)", count: pixels * sourceChannels,
                    [.tensor(source), .tensor(target), .int64(Int64(pixels)), .int32(Int32(sourceChannels)),
                     .int32(Int32(targetChannels)), .int32(Int32(offset))])
    }

    static func convert(_ step: CUDAConvertStep, count: Int) -> CUDAKernelLaunch {
        elementwise("sluice_convert_\(step.from.kernelSuffix)_to_\(step.to.kernelSuffix)", count: count,
                    [.tensor(step.input), .tensor(step.output), .int64(Int64(count))])
    }

    static func softmax(_ step: CUDASoftmaxStep) -> CUDAKernelLaunch {
        CUDAKernelLaunch(kernel: "sluice_softmax_f32", grid: [max(1, min(step.rows, maximumBlocks)), 1, 1],
                         block: [threadsPerBlock, 1, 1], sharedMemoryBytes: 0,
                         arguments: [.tensor(step.input), .tensor(step.output), .int32(Int32(step.rows)),
                                     .int32(Int32(step.columns))])
    }
}
