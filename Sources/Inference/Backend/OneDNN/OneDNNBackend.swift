import CDNNLShim
import Foundation

/// The CPU backend: oneDNN primitives with the blocked layouts oneDNN chooses, batch-norm folded, ReLU and
/// residual adds fused as post-ops, weights reordered once, activations in one planned arena.
public struct OneDNNBackend: Backend {
    public let name = "onednn"
    /// Threads oneDNN uses for each run; nil: its default (every core).
    public var threads: Int?
    /// int8 only: representative inputs [N, ...inputShape] whose activations set the quantization scales.
    public var calibration: Tensor?
    /// int8 only: where the copies of one model compiled from the same graph and samples keep the calibration
    /// pass's statistics, so that only the first copy runs it (layout tuning compiles several).
    public var calibrationMemo: CalibrationMemo?
    /// Samples the primitives process at a time: a batch runs as consecutive micro-batches, so that each
    /// layer's activations stay in cache. nil: 2 per thread, at least 4 (measured on ResNet-50 here, batch
    /// 64 on 2 threads: bf16 and int8 run about 18% faster in micro-batches of 2 to 8 than whole, fp32 the same).
    /// It is not chosen by timing at run time: oneDNN's results differ in the last bits between micro-batch
    /// sizes, and two runs of one job must give the same bits.
    public var microBatch: Int?
    public var convolutionAlgorithm: ConvolutionAlgorithm
    /// int8 only: the share of the calibration samples on which int8's top-1 must agree with float32's (e.g.
    /// 0.99); the layers whose quantisation moves the logits most compute in float32 until it does
    /// (`Int8LayerSearch`). nil: every layer that has an int8 kernel computes in int8.
    public var int8AgreementTarget: Double?

    public init(threads: Int? = nil, calibration: Tensor? = nil, calibrationMemo: CalibrationMemo? = nil, microBatch: Int? = nil,
                convolutionAlgorithm: ConvolutionAlgorithm = .fastest, int8AgreementTarget: Double? = nil) {
        self.threads = threads
        self.calibration = calibration
        self.calibrationMemo = calibrationMemo
        self.microBatch = microBatch
        self.convolutionAlgorithm = convolutionAlgorithm
        self.int8AgreementTarget = int8AgreementTarget
    }

    public func compile(_ graph: Graph, batchSize: Int, precision: Precision) throws -> any CompiledModel {
        try OneDNNModel(graph: GraphOptimizer.optimize(graph), batchSize: batchSize, precision: precision, threads: threads,
                        calibration: calibration, calibrationMemo: calibrationMemo, microBatch: microBatch,
                        convolutionAlgorithm: convolutionAlgorithm, int8AgreementTarget: int8AgreementTarget)
    }
}

/// How convolutions compute.
public enum ConvolutionAlgorithm: String, Sendable, CaseIterable {
    /// Winograd for the float32 3×3 stride-1 layers whose images have enough 4×4 tiles for it to pay, where
    /// oneDNN has it (outputs differ from direct convolution in the last bits); direct convolution elsewhere.
    case fastest
    /// Direct convolution everywhere.
    case direct
}

public final class OneDNNModel: CompiledModel, @unchecked Sendable {
    public let batchSize: Int
    public let precision: Precision
    public let inputShape: [Int]
    public let outputShape: [Int]
    public let threads: Int?
    /// Samples each execution of the primitives takes (≤ batchSize).
    public let microBatch: Int
    public let convolutionAlgorithm: ConvolutionAlgorithm
    /// The optimised graph that was compiled.
    public let graph: Graph

    private let engine: DNNLEngine
    private let weights: WeightCache
    private var plans: [Int: ExecutionPlan] = [:]
    private let main: ExecutionPlan
    private let quantization: Int8Plan?
    /// int8 with an agreement target: what the layer search measured and chose.
    public let int8Fallback: Int8FallbackReport?
    private let lock = NSLock()

    init(graph: Graph, batchSize: Int, precision: Precision, threads: Int?, calibration: Tensor?, calibrationMemo: CalibrationMemo?,
         microBatch: Int?, convolutionAlgorithm: ConvolutionAlgorithm, int8AgreementTarget: Double? = nil) throws {
        guard batchSize >= 1 else { throw InferenceError(.invalidGraph, "batch size must be at least 1, is \(batchSize)") }
        if let microBatch, microBatch < 1 { throw InferenceError(.invalidGraph, "micro-batch must be at least 1, is \(microBatch)") }
        let threadCount = threads ?? ProcessInfo.processInfo.activeProcessorCount
        self.microBatch = min(batchSize, microBatch ?? max(4, 2 * threadCount))
        if let threads, threads < 1 { throw InferenceError(.invalidGraph, "thread count must be at least 1, is \(threads)") }
        if precision == .int8, calibration == nil {
            throw InferenceError(.invalidGraph, "int8 needs calibration samples: OneDNNBackend(calibration: a [N, ...] batch of typical inputs)")
        }
        self.batchSize = batchSize
        self.precision = precision
        self.threads = threads
        self.convolutionAlgorithm = convolutionAlgorithm
        self.graph = graph
        inputShape = graph.inputShape
        outputShape = try graph.inferShapes()[graph.output] ?? []
        engine = try DNNLEngine()
        weights = WeightCache(engine: engine)
        if let threads { _ = sldnn_set_num_threads(Int32(threads)) }
        if let target = int8AgreementTarget, !(target > 0 && target <= 1) {
            throw InferenceError(.invalidGraph, "the int8 agreement target is a share of the samples in (0, 1], is \(target)")
        }
        var plan: Int8Plan?
        var built: ExecutionPlan?
        var report: Int8FallbackReport?
        if precision == .int8, let calibration {
            let engine = engine
            let measure = { try Calibrator(graph: graph, engine: engine).measure(samples: calibration, batchSize: batchSize) }
            let stats = try calibrationMemo?.stats(for: graph, measure) ?? measure()
            let search = Int8LayerSearch(graph: graph, engine: engine, weights: weights, stats: stats, samples: calibration,
                                         batch: self.microBatch, convolutionAlgorithm: convolutionAlgorithm)
            var floatLayers = try Quantizer.floatLayers(graph)
            if let target = int8AgreementTarget {
                let base = floatLayers
                let run = { try search.search(base: base, target: target) }
                report = try calibrationMemo?.fallback(for: graph, target: target, run) ?? run()
                floatLayers = report?.floatLayers ?? floatLayers
            }
            (built, plan) = try search.build(floatLayers: floatLayers, batch: self.microBatch)
        }
        int8Fallback = report
        quantization = plan
        main = try built ?? PlanBuilder(engine: engine, graph: graph, batch: self.microBatch, precision: precision, weights: weights,
                                        quantization: plan, convolutionAlgorithm: convolutionAlgorithm).build()
        plans[self.microBatch] = main
    }

    public var dispatchReport: [DispatchRecord] { main.records }

    /// Bytes of the activation arena for a micro-batch (oneDNN's scratch space included), and what one
    /// buffer per tensor would take.
    public var activationBytes: (arena: Int, unplanned: Int) { (main.arenaBytes, main.unplannedBytes) }

    /// Bytes of the reordered weights.
    public var weightBytes: Int { lock.withLock { weights.byteCount } }

    public func run(input: UnsafeBufferPointer<Float>, count: Int, output: UnsafeMutableBufferPointer<Float>) throws {
        let perSample = inputShape.reduce(1, *), perOutput = outputShape.reduce(1, *)
        guard count >= 1, count <= batchSize else {
            throw InferenceError(.shapeMismatch, "a batch of \(count) samples; this model runs 1 to \(batchSize)")
        }
        guard input.count >= count * perSample, output.count >= count * perOutput, let inputBase = input.baseAddress,
              let outputBase = output.baseAddress
        else {
            throw InferenceError(.shapeMismatch, "buffers of \(input.count) inputs and \(output.count) outputs for \(count) samples of \(inputShape) → \(outputShape)")
        }
        try lock.withLock {
            if let threads { _ = sldnn_set_num_threads(Int32(threads)) }
            var done = 0
            while done < count {
                let n = min(microBatch, count - done)
                let plan = try plan(for: n)
                // oneDNN only reads the input memory.
                try plan.inputMemory.setPointer(UnsafeMutableRawPointer(mutating: inputBase + done * perSample))
                try plan.execute(stream: engine.stream)
                UnsafeMutableRawPointer(outputBase + done * perOutput).copyMemory(from: plan.outputPointer, byteCount: n * perOutput * 4)
                done += n
            }
        }
    }

    /// A short batch gets its own plan (primitives are shape-specific), made once and sharing the weights.
    private func plan(for count: Int) throws -> ExecutionPlan {
        if let plan = plans[count] { return plan }
        let plan = try PlanBuilder(engine: engine, graph: graph, batch: count, precision: precision, weights: weights,
                                   quantization: quantization, convolutionAlgorithm: convolutionAlgorithm).build()
        plans[count] = plan
        return plan
    }
}
