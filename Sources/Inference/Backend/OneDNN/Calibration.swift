import CDNNLShim
import Foundation

/// The int8 calibration pass: float32 plans that keep every value run over the samples, and the range of each.
struct Calibrator {
    let graph: Graph
    let engine: DNNLEngine

    /// The range every value spans on `samples`, and their float32 logits.
    func measure(samples: Tensor, batchSize: Int) throws -> CalibrationStats {
        guard samples.shape.count == graph.inputShape.count + 1, Array(samples.shape.dropFirst()) == graph.inputShape,
              samples.shape[0] >= 1 else {
            throw InferenceError(.shapeMismatch, "calibration samples of shape \(samples.shape); expected [N] + \(graph.inputShape)")
        }
        let source = try samples.asFloat32()
        let shapes = try graph.inferShapes()
        let classes = (shapes[graph.output] ?? []).reduce(1, *)
        let sampleCount = samples.shape[0]
        var ranges: [ValueID: ValueRange] = [:]
        var inputRange = ValueRange()
        var reference = [Float](repeating: 0, count: sampleCount * classes)
        let perSample = graph.inputShape.reduce(1, *)
        let weights = WeightCache(engine: engine)
        var plans: [Int: ExecutionPlan] = [:]
        try source.withFloats { floats in
            sldnn_widen_range(floats.baseAddress, floats.count, &inputRange.lower, &inputRange.upper)
            var start = 0
            while start < sampleCount {
                let count = min(batchSize, sampleCount - start)
                let plan = try plans[count] ?? PlanBuilder(engine: engine, graph: graph, batch: count, precision: .fp32,
                                                           weights: weights, capture: true,
                                                           convolutionAlgorithm: .direct).build()  // as int8 computes
                plans[count] = plan
                try plan.inputMemory.setPointer(UnsafeMutableRawPointer(mutating: floats.baseAddress! + start * perSample))
                try plan.execute(stream: engine.stream)
                for (value, pointer) in plan.captures {
                    var range = ranges[value] ?? ValueRange()
                    // Invariant: a capture is plain float32 [count, ...shape] in the plan's arena.
                    sldnn_widen_range(pointer.assumingMemoryBound(to: Float.self), count * (shapes[value] ?? []).reduce(1, *),
                                      &range.lower, &range.upper)
                    ranges[value] = range
                }
                reference.withUnsafeMutableBytes {
                    ($0.baseAddress! + start * classes * 4).copyMemory(from: plan.outputPointer, byteCount: count * classes * 4)
                }
                start += count
            }
        }
        return CalibrationStats(ranges: ranges, input: inputRange, reference: reference, sampleCount: sampleCount)
    }
}

/// The ranges a calibration pass measured, and the layers an int8 layer search chose, kept for the next copy of
/// the same model (see `OneDNNBackend.calibrationMemo`). A graph of another shape than the one measured is
/// calibrated afresh.
public final class CalibrationMemo: @unchecked Sendable {
    private let lock = NSLock()
    private var measured: (graph: String, stats: CalibrationStats)?
    private var searched: (graph: String, target: Double, report: Int8FallbackReport)?
    /// Calibration passes run so far.
    public private(set) var passes = 0
    /// The int8 layer search's result, once one ran.
    public var fallbackReport: Int8FallbackReport? { lock.withLock { searched?.report } }

    public init() {}

    private static func key(_ graph: Graph) -> String { "\(graph.inputShape) \(graph.nodes.count) \(graph.output)" }

    func stats(for graph: Graph, _ calibrate: () throws -> CalibrationStats) rethrows -> CalibrationStats {
        let key = Self.key(graph)
        return try lock.withLock {
            if let measured, measured.graph == key { return measured.stats }
            let stats = try calibrate()
            measured = (key, stats)
            passes += 1
            return stats
        }
    }

    func fallback(for graph: Graph, target: Double, _ search: () throws -> Int8FallbackReport) rethrows -> Int8FallbackReport {
        let key = Self.key(graph)
        return try lock.withLock {
            if let searched, searched.graph == key, searched.target == target { return searched.report }
            let report = try search()
            searched = (key, target, report)
            return report
        }
    }
}

/// The range every value of a graph spanned on the calibration samples, the input's, and the float32 logits
/// of the samples (the reference an int8 layer search compares with).
struct CalibrationStats {
    var ranges: [ValueID: ValueRange]
    var input: ValueRange
    var reference: [Float]
    var sampleCount: Int
}

