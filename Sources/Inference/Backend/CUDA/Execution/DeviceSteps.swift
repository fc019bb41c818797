/// One launch of a forward pass, with everything it needs resolved at compile time (descriptors, device
/// addresses, algorithm, workspace), so that enqueueing it allocates nothing and never synchronises: safe
/// inside a CUDA-graph capture.
protocol DeviceStep: AnyObject {
    var record: DispatchRecord { get }
    func enqueue(on stream: OpaquePointer?) throws
}

/// Host-side scalars cuDNN and cuBLASLt read through pointers (float for half, bfloat16 and float data:
/// double only for double data, which this backend never uses). Kept at stable addresses for the model's life.
final class Scalars {
    let one: UnsafeMutablePointer<Float>
    let zero: UnsafeMutablePointer<Float>

    init() {
        one = .allocate(capacity: 1)
        one.initialize(to: 1)
        zero = .allocate(capacity: 1)
        zero.initialize(to: 0)
    }

    deinit {
        one.deallocate()
        zero.deallocate()
    }
}

/// A convolution: cudnnConvolutionBiasActivationForward (y = act(conv(x) + z + bias)) where the step has a bias,
/// a residual or an activation, else cudnnConvolutionForward.
final class ConvolutionStep: DeviceStep {
    struct Fusion {
        var bias: TensorDescriptor
        var biasAddress: UnsafeMutableRawPointer?
        var residual: TensorDescriptor?
        var residualAddress: UnsafeMutableRawPointer?
        var activation: ActivationDescriptor
        /// A clipped ReLU cuDNN's fused call cannot take: applied by cudnnActivationForward in place afterwards.
        var clip: ActivationDescriptor?
    }

    let cudnn: CUDNN
    let handle: OpaquePointer
    let x: TensorDescriptor, w: FilterDescriptor, convolution: ConvolutionDescriptor, y: TensorDescriptor
    let xAddress: UnsafeMutableRawPointer?, wAddress: UnsafeMutableRawPointer?, yAddress: UnsafeMutableRawPointer?
    let fusion: Fusion?
    private(set) var choice: ConvolutionChoice
    private(set) var record: DispatchRecord
    let workspace: UnsafeMutableRawPointer?
    let workspaceLimit: Int
    let scalars: Scalars

    init(record: DispatchRecord, cudnn: CUDNN, handle: OpaquePointer, x: TensorDescriptor, xAddress: UnsafeMutableRawPointer?,
         w: FilterDescriptor, wAddress: UnsafeMutableRawPointer?, convolution: ConvolutionDescriptor, y: TensorDescriptor,
         yAddress: UnsafeMutableRawPointer?, fusion: Fusion?, choice: ConvolutionChoice, workspace: UnsafeMutableRawPointer?,
         workspaceLimit: Int, scalars: Scalars) {
        self.record = record
        self.cudnn = cudnn
        self.handle = handle
        (self.x, self.xAddress, self.w, self.wAddress, self.convolution, self.y, self.yAddress) = (x, xAddress, w, wAddress, convolution, y, yAddress)
        self.fusion = fusion
        self.choice = choice
        self.workspace = workspace
        self.workspaceLimit = workspaceLimit
        self.scalars = scalars
    }

    /// The workspace cudnnConvolutionForward and the fused call need for `algorithm` (with the descriptor's math type).
    static func workspaceSize(cudnn: CUDNN, handle: OpaquePointer, x: TensorDescriptor, w: FilterDescriptor,
                              convolution: ConvolutionDescriptor, y: TensorDescriptor, algorithm: Int32, layer: String) throws -> Int {
        var bytes = 0
        try cudnn.check(cudnn.cudnnGetConvolutionForwardWorkspaceSize(handle, x.handle, w.handle, convolution.handle, y.handle, algorithm, &bytes),
                        "cudnnGetConvolutionForwardWorkspaceSize (\(layer), \(CUDNNNames.forwardAlgorithm(algorithm)))")
        return bytes
    }

    /// Whether `error` is cuDNN refusing this algorithm for the fused call (CUDNN_STATUS_NOT_SUPPORTED and its
    /// sub-codes, 3000–3999), which a measured choice for plain convolution can meet.
    static func isNotSupported(_ error: any Error) -> Bool {
        guard case CUDAError.call(let api, _, let code, _) = error, api == CUDNN.apiName else { return false }
        return code / 1000 == 3
    }

    /// Switches to IMPLICIT_PRECOMP_GEMM, which the fused call supports for every configuration; for the warm-up
    /// pass, before capture, when cuDNN refused the chosen algorithm.
    func fallBackToImplicitPrecompGemm() throws {
        let algorithm = CUDNNValue.algorithmImplicitPrecompGemm
        let bytes = try Self.workspaceSize(cudnn: cudnn, handle: handle, x: x, w: w, convolution: convolution, y: y, algorithm: algorithm,
                                           layer: record.layer)
        guard bytes <= workspaceLimit else {
            throw InferenceError(.unsupported, "\(record.layer): cuDNN refused \(choice.algorithmName) in the fused call and IMPLICIT_PRECOMP_GEMM needs \(bytes) bytes of workspace (limit \(workspaceLimit))")
        }
        choice = ConvolutionChoice(algorithm: algorithm, mathType: choice.mathType, workspaceBytes: bytes, milliseconds: nil, source: .required)
        record = DispatchRecord(layer: record.layer, kind: record.kind, implementation: "cudnn:\(choice.algorithmName)",
                                detail: record.detail + " (fused call refused the measured algorithm)")
    }

    /// The warm-up (uncaptured) run of the step. Where cuDNN refuses the fused call (CUDNN_STATUS_NOT_SUPPORTED:
    /// the legacy fused call covers fewer configurations than plain convolution, e.g. some grouped, bf16 or NHWC
    /// shapes), it retries with IMPLICIT_PRECOMP_GEMM, then as separate calls (convolution, bias and residual
    /// adds, activation), so that one refused layer does not fail the whole model.
    func warmUp(on stream: OpaquePointer?) throws {
        while true {
            do {
                return try enqueue(on: stream)
            } catch let error where Self.isNotSupported(error) && fusion != nil && !separateCalls {
                if choice.algorithm != CUDNNValue.algorithmImplicitPrecompGemm, (try? fallBackToImplicitPrecompGemm()) != nil {
                    continue
                }
                try fallBackToSeparateCalls(refusal: error)
            }
        }
    }

    /// Whether the fusion is applied by separate cuDNN calls (after cuDNN refused the fused call).
    private(set) var separateCalls = false

    /// Plain cudnnConvolutionForward with an algorithm cuDNN's heuristics give for it (or the measured one, which
    /// Find measured for plain convolution), then cudnnAddTensor for the bias and residual and
    /// cudnnActivationForward in place.
    func fallBackToSeparateCalls(refusal: any Error) throws {
        if choice.source != .measured {
            var results = [CUDNNConvolutionForwardAlgorithmPerformance](repeating: .init(), count: 16)
            var returned: Int32 = 0
            try cudnn.check(cudnn.cudnnGetConvolutionForwardAlgorithm_v7(handle, x.handle, w.handle, convolution.handle, y.handle,
                                                                         Int32(results.count), &returned, &results),
                            "cudnnGetConvolutionForwardAlgorithm_v7 (\(record.layer))")
            let keepsToFMA = choice.mathType == CUDNNValue.fmaMath
            let usable = results.prefix(Int(max(0, min(returned, Int32(results.count))))).filter { perf in
                perf.status == CUDNNValue.statusSuccess && perf.memory <= workspaceLimit && perf.algorithm >= 0
                    && (!keepsToFMA || perf.mathType == CUDNNValue.defaultMath || perf.mathType == CUDNNValue.fmaMath)
            }
            guard let best = usable.first else {
                throw InferenceError(.unsupported, "\(record.layer): cuDNN refused the fused convolution (\(refusal)) and has no algorithm for a plain one within \(workspaceLimit) bytes of workspace")
            }
            let mathType = keepsToFMA ? CUDNNValue.fmaMath : best.mathType
            try convolution.setMathType(mathType, step: record.layer)
            choice = ConvolutionChoice(algorithm: best.algorithm, mathType: mathType, workspaceBytes: best.memory, milliseconds: nil,
                                       source: .heuristic)
        }
        separateCalls = true
        record = DispatchRecord(layer: record.layer, kind: record.kind, implementation: "cudnn:\(choice.algorithmName)",
                                detail: record.detail + " (fused call refused: separate convolution, add, activation)")
    }

    func enqueue(on stream: OpaquePointer?) throws {
        guard let fusion, !separateCalls else {
            try cudnn.check(cudnn.cudnnConvolutionForward(handle, scalars.one, x.handle, xAddress, w.handle, wAddress, convolution.handle,
                                                          choice.algorithm, workspace, choice.workspaceBytes, scalars.zero, y.handle, yAddress),
                            "cudnnConvolutionForward (\(record.layer))")
            if let fusion { try enqueueSeparateFusion(fusion) }
            return
        }
        // alpha2 = 0 without a residual: z is then y itself, which cuDNN does not read.
        let alpha2 = fusion.residual == nil ? scalars.zero : scalars.one
        try cudnn.check(cudnn.cudnnConvolutionBiasActivationForward(
            handle, scalars.one, x.handle, xAddress, w.handle, wAddress, convolution.handle, choice.algorithm, workspace,
            choice.workspaceBytes, alpha2, (fusion.residual ?? y).handle, fusion.residualAddress ?? yAddress, fusion.bias.handle,
            fusion.biasAddress, fusion.activation.handle, y.handle, yAddress),
            "cudnnConvolutionBiasActivationForward (\(record.layer))")
        if let clip = fusion.clip {
            try cudnn.check(cudnn.cudnnActivationForward(handle, clip.handle, scalars.one, y.handle, yAddress, scalars.zero, y.handle, yAddress),
                            "cudnnActivationForward (\(record.layer) clip)")
        }
    }
}

extension ConvolutionStep {
    /// y = act(y + bias + z), in place on y, as the fused call would have computed it.
    fileprivate func enqueueSeparateFusion(_ fusion: Fusion) throws {
        try cudnn.check(cudnn.cudnnAddTensor(handle, scalars.one, fusion.bias.handle, fusion.biasAddress, scalars.one, y.handle, yAddress),
                        "cudnnAddTensor (\(record.layer) bias)")
        if let residual = fusion.residual {
            try cudnn.check(cudnn.cudnnAddTensor(handle, scalars.one, residual.handle, fusion.residualAddress, scalars.one, y.handle, yAddress),
                            "cudnnAddTensor (\(record.layer) residual)")
        }
        if fusion.activation.mode != CUDNNValue.activationIdentity {
            try cudnn.check(cudnn.cudnnActivationForward(handle, fusion.activation.handle, scalars.one, y.handle, yAddress, scalars.zero,
                                                         y.handle, yAddress),
                            "cudnnActivationForward (\(record.layer))")
        }
        if let clip = fusion.clip {
            try cudnn.check(cudnn.cudnnActivationForward(handle, clip.handle, scalars.one, y.handle, yAddress, scalars.zero, y.handle, yAddress),
                            "cudnnActivationForward (\(record.layer) clip)")
        }
    }
}

/// Max or average pooling (global average pooling is a window over the whole feature map).
final class PoolingStep: DeviceStep {
    let record: DispatchRecord
    let cudnn: CUDNN
    let handle: OpaquePointer
    let pooling: PoolingDescriptor
    let x: TensorDescriptor, y: TensorDescriptor
    let xAddress: UnsafeMutableRawPointer?, yAddress: UnsafeMutableRawPointer?
    let scalars: Scalars

    init(record: DispatchRecord, cudnn: CUDNN, handle: OpaquePointer, pooling: PoolingDescriptor, x: TensorDescriptor,
         xAddress: UnsafeMutableRawPointer?, y: TensorDescriptor, yAddress: UnsafeMutableRawPointer?, scalars: Scalars) {
        (self.record, self.cudnn, self.handle, self.pooling) = (record, cudnn, handle, pooling)
        (self.x, self.xAddress, self.y, self.yAddress, self.scalars) = (x, xAddress, y, yAddress, scalars)
    }

    func enqueue(on stream: OpaquePointer?) throws {
        try cudnn.check(cudnn.cudnnPoolingForward(handle, pooling.handle, scalars.one, x.handle, xAddress, scalars.zero, y.handle, yAddress),
                        "cudnnPoolingForward (\(record.layer))")
    }
}

/// One of Sluice's NVRTC-compiled kernels, with its arguments packed once.
final class KernelStep: DeviceStep {
    enum Argument {
        case pointer(UInt64)
        case int32(Int32)
        case int64(Int64)
        case float(Float)
    }

    let record: DispatchRecord
    let driver: CUDADriver
    let function: OpaquePointer
    let grid: (UInt32, UInt32, UInt32)
    let block: (UInt32, UInt32, UInt32)
    let sharedBytes: UInt32
    /// Each argument's bytes, 8 apart, and the array of their addresses cuLaunchKernel takes.
    private let values: UnsafeMutableRawPointer
    private let addresses: UnsafeMutablePointer<UnsafeMutableRawPointer?>
    private let count: Int

    init(record: DispatchRecord, driver: CUDADriver, function: OpaquePointer, grid: (UInt32, UInt32, UInt32),
         block: (UInt32, UInt32, UInt32), sharedBytes: UInt32 = 0, arguments: [Argument]) {
        self.record = record
        self.driver = driver
        self.function = function
        self.grid = grid
        self.block = block
        self.sharedBytes = sharedBytes
        count = arguments.count
        values = .allocate(byteCount: max(1, arguments.count) * 8, alignment: 8)
        addresses = .allocate(capacity: max(1, arguments.count))
        for (index, argument) in arguments.enumerated() {
            let slot = values + index * 8
            switch argument {
            case .pointer(let address): slot.storeBytes(of: address, as: UInt64.self)
            case .int32(let value): slot.storeBytes(of: value, as: Int32.self)
            case .int64(let value): slot.storeBytes(of: value, as: Int64.self)
            case .float(let value): slot.storeBytes(of: value, as: Float.self)
            }
            addresses[index] = slot
        }
    }

    deinit {
        values.deallocate()
        addresses.deallocate()
    }

    func enqueue(on stream: OpaquePointer?) throws {
        try driver.check(driver.cuLaunchKernel(function, grid.0, grid.1, grid.2, block.0, block.1, block.2, sharedBytes, stream,
                                               addresses, nil),
                         "cuLaunchKernel (\(record.layer))")
    }
}
