/// The device buffers one forward pass reads and writes.
struct ForwardMemory {
    let input: DeviceMemory
    let output: DeviceMemory
    let arena: DeviceMemory
    let weights: DeviceMemory
    let workspace: DeviceMemory
}

/// How convolution algorithms are chosen on first sight of a shape (then cached in the `CUDAWeightCache`).
public enum CUDAAlgorithmSearch: String, Sendable, CaseIterable {
    /// cudnnFindConvolutionForwardAlgorithmEx: every applicable algorithm timed on the model's own buffers.
    case measure
    /// cudnnGetConvolutionForwardAlgorithm_v7: cuDNN's heuristics, nothing run.
    case heuristic
}

/// Resolves a plan's capture list into `DeviceStep`s bound to the model's buffers, choosing each convolution's
/// algorithm (once per shape, through the cache).
struct ForwardBuilder {
    let session: CUDASession
    let plan: CUDAPlan
    let memory: ForwardMemory
    let module: KernelModule
    let cudnn: CUDNNHandle
    let cublasLt: CUBLASLtHandle
    let cache: CUDAWeightCache
    let search: CUDAAlgorithmSearch
    let scalars: Scalars

    private var tensors: [CUDATensorID: CUDATensor] = [:]
    private var weights: [CUDAWeightID: CUDAWeight] = [:]

    init(session: CUDASession, plan: CUDAPlan, memory: ForwardMemory, module: KernelModule, cudnn: CUDNNHandle,
         cublasLt: CUBLASLtHandle, cache: CUDAWeightCache, search: CUDAAlgorithmSearch, scalars: Scalars) {
        (self.session, self.plan, self.memory, self.module) = (session, plan, memory, module)
        (self.cudnn, self.cublasLt, self.cache, self.search, self.scalars) = (cudnn, cublasLt, cache, search, scalars)
        for tensor in plan.tensors { tensors[tensor.id] = tensor }
        for weight in plan.weights { weights[weight.id] = weight }
    }

    func build() throws -> [any DeviceStep] {
        try plan.launches.map { launch in
            guard plan.steps.indices.contains(launch.step) else {
                throw InferenceError(.invalidGraph, "CUDA plan: launch \(launch) names step \(launch.step) of \(plan.steps.count)")
            }
            let step = plan.steps[launch.step]
            switch (launch.kind, step.kind) {
            case (.kernel(let kernel), _): return try kernelStep(kernel, step: step)
            case (.cudnnConvolution, .convolution(let convolution)): return try convolutionStep(convolution, layer: step.layer)
            case (.cudnnPooling, .pooling(let pooling)): return try poolingStep(pooling, layer: step.layer)
            case (.cublasLtMatmul, .matmul(let matmul)): return try matmulStep(matmul, layer: step.layer)
            default:
                throw InferenceError(.invalidGraph, "CUDA plan: launch \(launch) does not fit step \(step.layer) (\(step.kindName))")
            }
        }
    }

    // MARK: addresses

    func tensor(_ id: CUDATensorID) throws -> CUDATensor {
        guard let tensor = tensors[id] else { throw InferenceError(.invalidGraph, "CUDA plan: no tensor \(id)") }
        return tensor
    }

    func address(of id: CUDATensorID) throws -> UInt64 {
        let tensor = try tensor(id)
        switch tensor.storage {
        case .input: return try checked(memory.input, offset: 0, bytes: tensor.byteCount, what: "input \(id)")
        case .output: return try checked(memory.output, offset: 0, bytes: tensor.byteCount, what: "output \(id)")
        case .arena(let offset): return try checked(memory.arena, offset: offset, bytes: tensor.byteCount, what: "tensor \(id) (\(tensor.name))")
        }
    }

    func address(of id: CUDAWeightID) throws -> UInt64 {
        guard let weight = weights[id] else { throw InferenceError(.invalidGraph, "CUDA plan: no weight \(id)") }
        return try checked(memory.weights, offset: weight.offset, bytes: weight.byteCount, what: "weight \(weight.name)")
    }

    /// A device address inside `buffer`, or the plan's inconsistency named (never an access out of bounds).
    private func checked(_ buffer: DeviceMemory, offset: Int, bytes: Int, what: String) throws -> UInt64 {
        let (end, overflow) = offset.addingReportingOverflow(bytes)
        guard offset >= 0, bytes >= 0, !overflow, end <= buffer.byteCount else {
            throw InferenceError(.invalidGraph, "CUDA plan: \(what) at \(offset)+\(bytes) bytes lies outside its \(buffer.byteCount)-byte buffer")
        }
        return buffer.address + UInt64(offset)
    }

    private func pointer(_ address: UInt64) -> UnsafeMutableRawPointer? { UnsafeMutableRawPointer(bitPattern: UInt(address)) }

    private func element(_ type: CUDADataType, _ what: String) throws -> DeviceElement { try DeviceElement(type, what) }

    private func nhwc(_ tensor: CUDATensor) throws -> NHWCShape { try NHWCShape(tensor) }

    // MARK: kernels

    private func kernelStep(_ launch: CUDAKernelLaunch, step: CUDAStep) throws -> any DeviceStep {
        func dimension(_ values: [Int], _ what: String) throws -> (UInt32, UInt32, UInt32) {
            let padded = values + Array(repeating: 1, count: max(0, 3 - values.count))
            guard values.count <= 3, let x = UInt32(exactly: padded[0]), let y = UInt32(exactly: padded[1]),
                  let z = UInt32(exactly: padded[2]), x > 0, y > 0, z > 0 else {
                throw InferenceError(.invalidGraph, "CUDA plan: kernel \(launch.kernel) of \(step.layer) has \(what) \(values)")
            }
            return (x, y, z)
        }
        let arguments: [KernelStep.Argument] = try launch.arguments.map { argument in
            switch argument {
            case .tensor(let id): .pointer(try address(of: id))
            case .weight(let id): .pointer(try address(of: id))
            case .int32(let value): .int32(value)
            case .int64(let value): .int64(value)
            case .float32(let value): .float(value)
            }
        }
        guard let shared = UInt32(exactly: launch.sharedMemoryBytes) else {
            throw InferenceError(.invalidGraph, "CUDA plan: kernel \(launch.kernel) asks for \(launch.sharedMemoryBytes) bytes of shared memory")
        }
        let record = DispatchRecord(layer: step.layer, kind: step.kindName, implementation: "sluice:\(launch.kernel)",
                                    detail: "grid \(launch.grid) block \(launch.block)")
        return KernelStep(record: record, driver: session.driver, function: try module.function(launch.kernel),
                          grid: try dimension(launch.grid, "grid"), block: try dimension(launch.block, "block"),
                          sharedBytes: shared, arguments: arguments)
    }

    // MARK: cuDNN

    private func convolutionStep(_ step: CUDAConvolutionStep, layer: String) throws -> any DeviceStep {
        let d = try ConvolutionDescriptors(cudnn: session.cudnn, step: step, input: try tensor(step.input), output: try tensor(step.output),
                                           residual: try step.residual.map { try tensor($0) }, layer: layer)
        let xAddress = pointer(try address(of: step.input)), yAddress = pointer(try address(of: step.output))
        let wAddress = pointer(try address(of: step.filter))
        let requiresPrecomp = step.algorithms == .implicitPrecompGemm || step.activation == .identity
        let key = [session.label, "sm\(session.computeCapability)", "\(d.xShape)", "\(d.yShape)",
                   "k\(step.k)r\(step.r)s\(step.s)c\(step.c)", "p\(step.padding)s\(step.stride)d\(step.dilation)g\(step.groups)",
                   step.dataType.rawValue, step.mathMode.rawValue, requiresPrecomp ? "precomp" : "any", search.rawValue,
                   "ws\(memory.workspace.byteCount)"].joined(separator: " ")
        let choice = try cache.convolutionAlgorithm(key: key) {
            try chooseAlgorithm(x: d.x, xAddress: xAddress, w: d.w, wAddress: wAddress, convolution: d.convolution, y: d.y,
                                yAddress: yAddress, mode: step.mathMode, requiresPrecomp: requiresPrecomp, layer: layer)
        }
        try d.convolution.setMathType(choice.mathType, step: layer)
        let record = DispatchRecord(layer: layer, kind: "conv", implementation: "cudnn:\(choice.algorithmName)",
                                    detail: "\(d.detail) \(choice.summary)")
        let residualAddress = try step.residual.map { pointer(try address(of: $0)) } ?? nil
        let fusion = ConvolutionStep.Fusion(bias: d.bias, biasAddress: pointer(try address(of: step.bias)), residual: d.residual,
                                            residualAddress: residualAddress, activation: d.activation, clip: d.clip)
        return ConvolutionStep(record: record, cudnn: session.cudnn, handle: cudnn.handle, x: d.x, xAddress: xAddress, w: d.w,
                               wAddress: wAddress, convolution: d.convolution, y: d.y, yAddress: yAddress, fusion: fusion, choice: choice,
                               workspace: memory.workspace.pointer(), workspaceLimit: memory.workspace.byteCount, scalars: scalars)
    }

    private func chooseAlgorithm(x: TensorDescriptor, xAddress: UnsafeMutableRawPointer?, w: FilterDescriptor,
                                 wAddress: UnsafeMutableRawPointer?, convolution: ConvolutionDescriptor, y: TensorDescriptor,
                                 yAddress: UnsafeMutableRawPointer?, mode: CUDAMathMode, requiresPrecomp: Bool,
                                 layer: String) throws -> ConvolutionChoice {
        let cudnn = session.cudnn
        let limit = memory.workspace.byteCount
        let math = CUDNNValue.mathType(mode)
        /// IMPLICIT_PRECOMP_GEMM: what the identity activation requires, and what works for every shape here.
        func implicitPrecompGemm() throws -> ConvolutionChoice {
            let bytes = try ConvolutionStep.workspaceSize(cudnn: cudnn, handle: self.cudnn.handle, x: x, w: w, convolution: convolution, y: y,
                                                          algorithm: CUDNNValue.algorithmImplicitPrecompGemm, layer: layer)
            guard bytes <= limit else {
                throw InferenceError(.unsupported, "\(layer): IMPLICIT_PRECOMP_GEMM needs \(bytes) bytes of workspace; the limit is \(limit)")
            }
            return ConvolutionChoice(algorithm: CUDNNValue.algorithmImplicitPrecompGemm, mathType: math, workspaceBytes: bytes,
                                     milliseconds: nil, source: .required)
        }
        if requiresPrecomp { return try implicitPrecompGemm() }
        // As many results as cuDNN has algorithm variants (math types included), so that a filter below never
        // runs out of candidates that a shorter list cut off.
        var maximum: Int32 = 0
        try cudnn.check(cudnn.cudnnGetConvolutionForwardAlgorithmMaxCount(self.cudnn.handle, &maximum),
                        "cudnnGetConvolutionForwardAlgorithmMaxCount (\(layer))")
        var results = [CUDNNConvolutionForwardAlgorithmPerformance](repeating: .init(), count: Int(min(max(maximum, 8), 64)))
        var returned: Int32 = 0
        switch search {
        case .measure:
            try cudnn.check(cudnn.cudnnFindConvolutionForwardAlgorithmEx(
                self.cudnn.handle, x.handle, xAddress, w.handle, wAddress, convolution.handle, y.handle, yAddress,
                Int32(results.count), &returned, &results, memory.workspace.pointer(), limit),
                "cudnnFindConvolutionForwardAlgorithmEx (\(layer))")
        case .heuristic:
            try cudnn.check(cudnn.cudnnGetConvolutionForwardAlgorithm_v7(
                self.cudnn.handle, x.handle, w.handle, convolution.handle, y.handle, Int32(results.count), &returned, &results),
                "cudnnGetConvolutionForwardAlgorithm_v7 (\(layer))")
        }
        // Sorted fastest (or most recommended) first. fp32 keeps to kernels without TensorFloat-32 rounding.
        let usable = results.prefix(Int(max(0, min(returned, Int32(results.count))))).filter { perf in
            perf.status == CUDNNValue.statusSuccess && perf.memory <= limit && perf.algorithm >= 0
                && (mode != .fma || (perf.mathType != CUDNNValue.tensorOpMath && perf.mathType != 2))
        }
        // No listed algorithm fits: fall back to the one that works for every shape.
        guard let best = usable.first else { return try implicitPrecompGemm() }
        return ConvolutionChoice(algorithm: best.algorithm, mathType: mode == .fma ? CUDNNValue.fmaMath : best.mathType,
                                 workspaceBytes: best.memory, milliseconds: search == .measure ? best.time : nil,
                                 source: search == .measure ? .measured : .heuristic)
    }

    private func poolingStep(_ step: CUDAPoolingStep, layer: String) throws -> any DeviceStep {
        let cudnn = session.cudnn
        let inputTensor = try tensor(step.input), outputTensor = try tensor(step.output)
        guard inputTensor.dtype == outputTensor.dtype else {
            throw InferenceError(.invalidGraph, "CUDA plan: pooling \(layer) reads \(inputTensor.dtype) and writes \(outputTensor.dtype)")
        }
        let type = try element(inputTensor.dtype, "pooling \(layer)")
        let xShape = try nhwc(inputTensor), yShape = try nhwc(outputTensor)
        let window = step.isGlobal ? [xShape.h, xShape.w] : step.window
        let padding = step.isGlobal ? [0, 0] : step.padding
        let stride = step.isGlobal ? [xShape.h, xShape.w] : step.stride
        guard window.count == 2, padding.count == 2, stride.count == 2 else {
            throw InferenceError(.invalidGraph, "CUDA plan: pooling \(layer) needs 2-d window, padding and stride")
        }
        let mode: Int32
        switch step.mode {
        case .max: mode = CUDNNValue.poolingMax
        case .averageIncludingPadding: mode = CUDNNValue.poolingAverageIncludingPadding
        case .averageExcludingPadding: mode = CUDNNValue.poolingAverageExcludingPadding
        }
        let pooling = try PoolingDescriptor(cudnn: cudnn, mode: mode, window: window, padding: padding, stride: stride, step: layer)
        let x = try TensorDescriptor(cudnn: cudnn, shape: xShape, element: type, step: layer)
        let y = try TensorDescriptor(cudnn: cudnn, shape: yShape, element: type, step: layer)
        let record = DispatchRecord(layer: layer, kind: step.isGlobal ? "global_avg_pool" : "pool",
                                    implementation: "cudnn:pooling-\(step.mode.rawValue)",
                                    detail: "\(xShape)→\(yShape) window \(window) stride \(stride) pad \(padding)")
        return PoolingStep(record: record, cudnn: cudnn, handle: self.cudnn.handle, pooling: pooling, x: x,
                           xAddress: pointer(try address(of: step.input)), y: y, yAddress: pointer(try address(of: step.output)),
                           scalars: scalars)
    }

    // MARK: cuBLASLt

    private func matmulStep(_ step: CUDAMatmulStep, layer: String) throws -> any DeviceStep {
        let inputType = try element(step.inputType, "matmul \(layer) input")
        let outputType = try element(step.outputType, "matmul \(layer) output")
        var biasType: DeviceElement?
        if let bias = step.bias {
            guard let weight = weights[bias] else { throw InferenceError(.invalidGraph, "CUDA plan: no weight \(bias)") }
            biasType = try element(weight.dtype, "matmul \(layer) bias")
        }
        return try MatmulStep(session: session, handle: cublasLt.handle, step: step, layer: layer, inputType: inputType,
                              outputType: outputType, biasType: biasType,
                              a: try address(of: step.weight), b: try address(of: step.input), d: try address(of: step.output),
                              bias: try step.bias.map { try address(of: $0) },
                              workspace: memory.workspace.address, workspaceLimit: memory.workspace.byteCount, scalars: scalars)
    }
}
