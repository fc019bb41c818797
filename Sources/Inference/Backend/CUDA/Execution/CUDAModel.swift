import Foundation

/// A graph compiled for one CUDA device: weights uploaded once (shared with the model's other copies through
/// the `CUDAWeightCache`), one activation arena and workspace, the forward pass captured as a CUDA graph for
/// `batchSize` samples. A batch of fewer samples runs the same graph: only its samples are copied in and its
/// rows copied out (every step computes each sample independently), so a final short batch costs one full
/// batch of device time and no compilation.
public final class CUDAModel: CompiledModel, @unchecked Sendable {
    public let batchSize: Int
    public let precision: Precision
    public let inputShape: [Int]
    public let outputShape: [Int]
    public let inputEncoding: ModelInputEncoding
    /// The graph as given (the plan holds its optimised lowering).
    public let graph: Graph
    public let algorithmSearch: CUDAAlgorithmSearch
    /// Whether forward passes are captured as CUDA graphs (else launched step by step: for diagnosis).
    public let capturesGraphs: Bool

    /// One forward pass: its plan, input and output buffers, arena, steps and captured graph.
    final class Forward {
        let plan: CUDAPlan
        let input: DeviceMemory
        let output: DeviceMemory
        let arena: DeviceMemory
        private(set) var steps: [any DeviceStep]
        private(set) var graph: GraphExec?
        /// Why the pass runs step by step instead of as a CUDA graph (capture off or refused); nil when captured.
        let uncapturedBecause: String?
        /// Bytes of one sample's input and output on the device.
        let inputBytesPerSample: Int
        let outputBytesPerSample: Int

        init(plan: CUDAPlan, input: DeviceMemory, output: DeviceMemory, arena: DeviceMemory, steps: [any DeviceStep], graph: GraphExec?,
             uncapturedBecause: String?, inputBytesPerSample: Int, outputBytesPerSample: Int) {
            (self.plan, self.input, self.output, self.arena, self.steps, self.graph) = (plan, input, output, arena, steps, graph)
            self.uncapturedBecause = uncapturedBecause
            (self.inputBytesPerSample, self.outputBytesPerSample) = (inputBytesPerSample, outputBytesPerSample)
        }

        /// The executable graph first, then the steps' descriptors; the buffers go with the object.
        func tearDown() {
            graph = nil
            steps = []
        }
    }

    private let session: CUDASession
    private let cache: CUDAWeightCache
    private let stream: Stream
    private let cudnn: CUDNNHandle
    private let cublasLt: CUBLASLtHandle
    private let module: KernelModule
    private let scalars = Scalars()
    private let weights: DeviceMemory
    private let arena: DeviceMemory
    private let workspace: DeviceMemory
    private let started: Event
    private let finished: Event
    private let pinned: PinnedHostAllocator
    /// The forward pass of `inputEncoding`; a uint8 model's float32 pass (`run(input:)`) is built on first use.
    private let main: Forward
    private var floatForward: Forward?
    private let lock = NSLock()
    private var statistics: DeviceStatistics

    init(graph: Graph, batchSize: Int, precision: Precision, inputNormalization: InputNormalization?, session: CUDASession,
         cache: CUDAWeightCache, algorithmSearch: CUDAAlgorithmSearch, workspaceBytes: Int, capturesGraphs: Bool) throws {
        guard batchSize >= 1 else { throw InferenceError(.invalidGraph, "batch size must be at least 1, is \(batchSize)") }
        self.graph = graph
        self.batchSize = batchSize
        self.precision = precision
        self.session = session
        self.cache = cache
        self.algorithmSearch = algorithmSearch
        self.capturesGraphs = capturesGraphs
        let encoding: ModelInputEncoding = inputNormalization.map { .uint8NHWC($0) } ?? .float32NCHW
        inputEncoding = encoding
        // The plan (pure data, the graph optimised in it) refuses what it cannot lower before any device work.
        let plan = try CUDAPlan.build(graph: graph, batchSize: batchSize, precision: precision, inputEncoding: encoding)
        inputShape = plan.inputShape
        outputShape = plan.outputShape

        try session.makeCurrent()
        // A cubin for the device's own architecture: no driver JIT, and no PTX newer than the driver reads.
        let architecture = session.computeCapability.realArchitecture
        let image = try cache.kernelImage(architecture: architecture) {
            try Self.compileKernels(nvrtc: session.nvrtc, architecture: architecture)
        }
        module = try KernelModule(session: session, image: image)
        stream = try Stream(session: session)
        cudnn = try CUDNNHandle(session: session, stream: stream)
        cublasLt = try CUBLASLtHandle(session: session)
        started = try Event(session: session, blocking: false)
        finished = try Event(session: session, blocking: true)
        pinned = PinnedHostAllocator(context: session.context)
        weights = try Self.uploadWeights(plan: plan, session: session, cache: cache)
        arena = try DeviceMemory(session: session, byteCount: plan.arenaByteCount, purpose: "activation arena")
        // Zeros rather than whatever the allocator left: the algorithm search and the warm-up pass run on it
        // (stale NaNs and denormals would only skew the timings, but there is no reason to time them).
        try session.driver.check(session.driver.cuMemsetD8Async(arena.address, 0, arena.byteCount, stream.handle),
                                 "cuMemsetD8Async (activation arena)")
        workspace = try DeviceMemory(session: session, byteCount: workspaceBytes, purpose: "cuDNN/cuBLASLt workspace")
        statistics = DeviceStatistics(device: session.label)
        main = try Self.forward(plan: plan, session: session, stream: stream, module: module, cudnn: cudnn, cublasLt: cublasLt,
                                cache: cache, search: algorithmSearch, scalars: scalars, weights: weights, arena: arena,
                                workspace: workspace, capture: capturesGraphs)
    }

    /// Waits for the stream, then destroys the graphs and steps, then (as the properties go) the handles, module,
    /// buffers, events and stream; the session, which every one of them holds, releases the primary context last.
    deinit {
        try? session.makeCurrent()
        _ = session.driver.cuStreamSynchronize(stream.handle)
        floatForward?.tearDown()
        main.tearDown()
    }

    /// Sluice's kernel source as a cubin for `architecture` ("sm_90").
    static func compileKernels(nvrtc: NVRTC, architecture: String) throws -> [UInt8] {
        try nvrtc.compileToCUBIN(source: CUDAKernelSource.text, name: "sluice_kernels.cu",
                                 options: ["--gpu-architecture=\(architecture)"] + CUDAKernelSource.compileOptions)
    }

    /// The weights in the plan's types and layouts, converted on the CPU and uploaded, or found in the cache.
    private static func uploadWeights(plan: CUDAPlan, session: CUDASession, cache: CUDAWeightCache) throws -> DeviceMemory {
        let host = try plan.packedWeights()
        let fingerprint = host.withUnsafeBytes { WeightFingerprint.of($0) }
        return try cache.weights(ordinal: session.ordinal, fingerprint: fingerprint, byteCount: host.count) {
            let memory = try DeviceMemory(session: session, byteCount: host.count, purpose: "weights")
            try host.withUnsafeBytes { bytes in
                try session.driver.check(session.driver.cuMemcpyHtoD_v2(memory.address, bytes.baseAddress, bytes.count),
                                         "cuMemcpyHtoD_v2 (weights, \(bytes.count) bytes)")
            }
            return memory
        }
    }

    /// Builds a forward pass's steps, runs it once uncaptured (cuDNN loads its kernels lazily, which a capture
    /// must not see; a fused convolution cuDNN refuses with the measured algorithm falls back here), then
    /// captures it.
    private static func forward(plan: CUDAPlan, session: CUDASession, stream: Stream, module: KernelModule, cudnn: CUDNNHandle,
                                cublasLt: CUBLASLtHandle, cache: CUDAWeightCache, search: CUDAAlgorithmSearch, scalars: Scalars,
                                weights: DeviceMemory, arena: DeviceMemory, workspace: DeviceMemory, capture: Bool) throws -> Forward {
        guard plan.weightsByteCount <= weights.byteCount else {
            throw InferenceError(.invalidGraph, "CUDA plan: weights of \(plan.weightsByteCount) bytes; \(weights.byteCount) were uploaded")
        }
        // Forward passes of one model run one at a time: they share the arena where it is large enough.
        let arena = plan.arenaByteCount <= arena.byteCount
            ? arena : try DeviceMemory(session: session, byteCount: plan.arenaByteCount, purpose: "activation arena")
        let inputTensor = plan.tensor(plan.input), outputTensor = plan.tensor(plan.output)
        guard outputTensor.dtype == .float32, inputTensor.shape.n == plan.batchSize, outputTensor.shape.n == plan.batchSize else {
            throw InferenceError(.invalidGraph, "CUDA plan: input \(inputTensor.shape) and output \(outputTensor.shape) \(outputTensor.dtype) for batch \(plan.batchSize)")
        }
        let input = try DeviceMemory(session: session, byteCount: inputTensor.byteCount, purpose: "input batch")
        let output = try DeviceMemory(session: session, byteCount: outputTensor.byteCount, purpose: "logits")
        // Zeros, so that the unused samples of a short batch compute on finite values.
        try session.driver.check(session.driver.cuMemsetD8Async(input.address, 0, input.byteCount, stream.handle), "cuMemsetD8Async (input batch)")
        let memory = ForwardMemory(input: input, output: output, arena: arena, weights: weights, workspace: workspace)
        let steps = try ForwardBuilder(session: session, plan: plan, memory: memory, module: module, cudnn: cudnn, cublasLt: cublasLt,
                                       cache: cache, search: search, scalars: scalars).build()
        for step in steps {
            if let convolution = step as? ConvolutionStep {
                try convolution.warmUp(on: stream.handle)
            } else {
                try step.enqueue(on: stream.handle)
            }
        }
        try session.driver.check(session.driver.cuStreamSynchronize(stream.handle), "cuStreamSynchronize (warm-up pass)")
        // A capture cuDNN or the driver refuses (GraphExec ends it before rethrowing) leaves a working pass,
        // launched step by step, and says so in the dispatch report.
        var graph: GraphExec?, uncapturedBecause: String?
        if capture {
            do {
                graph = try GraphExec(session: session, stream: stream, steps: steps)
            } catch {
                uncapturedBecause = "CUDA graph capture failed (\(error)); steps launched one by one"
                try session.driver.check(session.driver.cuStreamSynchronize(stream.handle), "cuStreamSynchronize (after a failed capture)")
            }
        } else {
            uncapturedBecause = "CUDA graph capture turned off; steps launched one by one"
        }
        return Forward(plan: plan, input: input, output: output, arena: arena, steps: steps, graph: graph,
                       uncapturedBecause: uncapturedBecause,
                       inputBytesPerSample: inputTensor.byteCount / plan.batchSize,
                       outputBytesPerSample: outputTensor.byteCount / plan.batchSize)
    }

    public var dispatchReport: [DispatchRecord] {
        lock.withLock {
            let execution = main.uncapturedBecause.map {
                DispatchRecord(layer: "forward", kind: "execution", implementation: "stream", detail: $0)
            } ?? DispatchRecord(layer: "forward", kind: "execution", implementation: "cuda-graph",
                                detail: "\(main.steps.count) launches captured, batch \(batchSize)")
            return main.steps.map(\.record) + [execution]
        }
    }

    /// Bytes of the activation arena, the weights (shared between copies) and the workspace.
    public var deviceBytes: (arena: Int, weights: Int, workspace: Int) { (arena.byteCount, weights.byteCount, workspace.byteCount) }

    /// The plan that was compiled (its `summary` lists the steps).
    public var plan: CUDAPlan { main.plan }

    public var hostAllocator: (any HostMemoryAllocator)? { pinned }

    public var deviceStatistics: DeviceStatistics? { lock.withLock { statistics } }

    public func run(pixels: UnsafeRawBufferPointer, count: Int, output: UnsafeMutableBufferPointer<Float>) throws {
        guard case .uint8NHWC = inputEncoding else {
            throw InferenceError(.unsupported, "this CUDA model was compiled for float32 NCHW input (no input normalisation), not uint8 pixels")
        }
        try lock.withLock {
            try execute(main, source: UnsafeRawPointer(pixels.baseAddress), sourceBytes: pixels.count, count: count, output: output)
        }
    }

    public func run(input: UnsafeBufferPointer<Float>, count: Int, output: UnsafeMutableBufferPointer<Float>) throws {
        try lock.withLock {
            let forward: Forward
            if case .float32NCHW = inputEncoding {
                forward = main
            } else if let floatForward {
                forward = floatForward
            } else {
                try session.makeCurrent()
                let plan = try CUDAPlan.build(graph: graph, batchSize: batchSize, precision: precision, inputEncoding: .float32NCHW)
                // The same graph lowers to the same weights whatever the input encoding.
                guard plan.weights == main.plan.weights else {
                    throw InferenceError(.invalidGraph, "CUDA plan: the float32-input plan places its weights differently from the uint8 plan's")
                }
                forward = try Self.forward(plan: plan, session: session, stream: stream, module: module, cudnn: cudnn, cublasLt: cublasLt,
                                           cache: cache, search: algorithmSearch, scalars: scalars, weights: weights, arena: arena,
                                           workspace: workspace, capture: capturesGraphs)
                floatForward = forward
            }
            try execute(forward, source: input.baseAddress.map(UnsafeRawPointer.init), sourceBytes: input.count * 4, count: count, output: output)
        }
    }

    /// Copy in, graph launch, copy out, wait; under the lock.
    private func execute(_ forward: Forward, source: UnsafeRawPointer?, sourceBytes: Int, count: Int,
                         output: UnsafeMutableBufferPointer<Float>) throws {
        guard count >= 1, count <= batchSize else {
            throw InferenceError(.shapeMismatch, "a batch of \(count) samples; this model runs 1 to \(batchSize)")
        }
        let inputBytes = count * forward.inputBytesPerSample, outputBytes = count * forward.outputBytesPerSample
        guard sourceBytes >= inputBytes, output.count * 4 >= outputBytes, let source, let target = output.baseAddress else {
            throw InferenceError(.shapeMismatch, "buffers of \(sourceBytes) input bytes and \(output.count) outputs for \(count) samples of \(inputShape) → \(outputShape)")
        }
        let driver = session.driver
        try session.makeCurrent()
        try driver.check(driver.cuEventRecord(started.handle, stream.handle), "cuEventRecord")
        try driver.check(driver.cuMemcpyHtoDAsync_v2(forward.input.address, source, inputBytes, stream.handle),
                         "cuMemcpyHtoDAsync_v2 (input batch, \(inputBytes) bytes)")
        if let graph = forward.graph {
            try graph.launch(on: stream)
        } else {
            guard !forward.steps.isEmpty else { throw InferenceError(.invalidGraph, "the CUDA model's forward pass was torn down") }
            for step in forward.steps { try step.enqueue(on: stream.handle) }
        }
        try driver.check(driver.cuMemcpyDtoHAsync_v2(UnsafeMutableRawPointer(target), forward.output.address, outputBytes, stream.handle),
                         "cuMemcpyDtoHAsync_v2 (logits, \(outputBytes) bytes)")
        try driver.check(driver.cuEventRecord(finished.handle, stream.handle), "cuEventRecord")
        // A blocking-sync event: the feeder thread sleeps rather than spinning a core the decoders need.
        try driver.check(driver.cuEventSynchronize(finished.handle), "cuEventSynchronize (forward pass)")
        var milliseconds: Float = 0
        try driver.check(driver.cuEventElapsedTime_v2(&milliseconds, started.handle, finished.handle), "cuEventElapsedTime")
        statistics.busySeconds += Double(milliseconds) / 1000
        statistics.hostToDeviceBytes += inputBytes
        statistics.deviceToHostBytes += outputBytes
    }
}
