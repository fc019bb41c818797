import Foundation

/// Which int8 layers compute in float32, chosen by measurement: the layers whose quantisation moves the logits
/// most fall back, fewest first, until int8's top-1 agrees with float32's on a target share of the calibration
/// samples (as the accuracy-aware quantisation of OpenVINO's NNCF chooses mixed precision).
///
/// Each layer's sensitivity is the drop in logit error when it alone computes in float32; the layers are then
/// taken in that order, and the smallest prefix that meets the target is found by doubling and bisection.
struct Int8LayerSearch {
    let graph: Graph
    let engine: DNNLEngine
    let weights: WeightCache
    let stats: CalibrationStats
    let samples: Tensor
    let batch: Int
    let convolutionAlgorithm: ConvolutionAlgorithm

    /// Sensitivities are measured on at most this many samples (each layer costs a compile and a pass over them).
    static let sensitivitySamples = 64

    /// The plan for `floatLayers`, grown by any layer oneDNN has no int8 kernel for (which then computes in
    /// float32), and the float layers it ended with.
    func build(floatLayers: Set<ValueID>, batch: Int) throws -> (ExecutionPlan, Int8Plan) {
        var floatLayers = floatLayers
        while true {
            let plan = Quantizer.plan(graph, ranges: stats.ranges, inputRange: stats.input, floatLayers: floatLayers)
            do {
                let built = try PlanBuilder(engine: engine, graph: graph, batch: batch, precision: .int8, weights: weights,
                                            quantization: plan, convolutionAlgorithm: convolutionAlgorithm).build()
                return (built, plan)
            } catch let unavailable as Int8LayerUnavailable where !floatLayers.contains(unavailable.layer) {
                floatLayers.insert(unavailable.layer)
            }
        }
    }

    /// The int8 layers that `floatLayers` leaves in int8 (convolutions and linear layers), in graph order.
    func int8Layers(besides floatLayers: Set<ValueID>) -> [ValueID] {
        graph.nodes.compactMap { node in
            switch node.operation {
            case .conv2d, .linear: floatLayers.contains(node.output) ? nil : node.output
            default: nil
            }
        }
    }

    /// The smallest set of extra float layers (beyond `base`) with which int8's top-1 agreement with float32 on
    /// the calibration samples reaches `target`, and what was measured.
    func search(base: Set<ValueID>, target: Double) throws -> Int8FallbackReport {
        let all = stats.sampleCount
        let before = try measure(floatLayers: base, samples: all)
        guard before.agreement < target else {
            return Int8FallbackReport(target: target, samples: all, agreementBefore: before.agreement, agreementAfter: before.agreement,
                                      floatLayers: base, fallbackLayers: [], int8LayerCount: int8Layers(besides: base).count)
        }
        let probe = min(all, Self.sensitivitySamples)
        let baseError = try measure(floatLayers: base, samples: probe).error
        let candidates = int8Layers(besides: base)
        var gains: [(layer: ValueID, gain: Double)] = []
        for layer in candidates {
            let error = try measure(floatLayers: base.union([layer]), samples: probe).error
            gains.append((layer, baseError - error))
        }
        let ordered = gains.sorted { $0.gain > $1.gain }.map(\.layer)

        // Doubling, then bisection between the last prefix that missed and the first that met the target.
        var results: [Int: Double] = [0: before.agreement]
        func agreement(_ count: Int) throws -> Double {
            if let known = results[count] { return known }
            let value = try measure(floatLayers: base.union(ordered.prefix(count)), samples: all).agreement
            results[count] = value
            return value
        }
        var missed = 0, met = ordered.count
        var count = 1
        while count < ordered.count {
            if try agreement(count) >= target { met = count; break }
            missed = count
            count *= 2
        }
        while met - missed > 1 {
            let middle = (missed + met) / 2
            if try agreement(middle) >= target { met = middle } else { missed = middle }
        }
        let chosen = Array(ordered.prefix(met))
        let names = Dictionary(graph.nodes.map { ($0.output, $0.name) }, uniquingKeysWith: { first, _ in first })
        return Int8FallbackReport(target: target, samples: all, agreementBefore: before.agreement,
                                  agreementAfter: try agreement(met), floatLayers: base.union(chosen), fallbackLayers: chosen,
                                  int8LayerCount: candidates.count, fallbackNames: chosen.map { names[$0] ?? "\($0)" })
    }

    /// int8's top-1 agreement with the float32 reference on the first `count` calibration samples, and its
    /// logit error (the mean over samples of Σ Δ² / Σ (reference − its mean)²).
    func measure(floatLayers: Set<ValueID>, samples count: Int) throws -> (agreement: Double, error: Double) {
        let classes = stats.reference.count / max(stats.sampleCount, 1)
        let perSample = graph.inputShape.reduce(1, *)
        let size = min(batch, count)
        let (plan, _) = try build(floatLayers: floatLayers, batch: size)
        var tail: ExecutionPlan?
        var agreeing = 0
        var error = 0.0
        let source = try samples.asFloat32()
        try source.withFloats { floats in
            var start = 0
            while start < count {
                let n = min(size, count - start)
                let runner: ExecutionPlan
                if n == size { runner = plan } else {
                    runner = try tail ?? build(floatLayers: floatLayers, batch: n).0
                    tail = runner
                }
                try runner.inputMemory.setPointer(UnsafeMutableRawPointer(mutating: floats.baseAddress! + start * perSample))
                try runner.execute(stream: engine.stream)
                let output = runner.outputPointer.assumingMemoryBound(to: Float.self)
                for sample in 0..<n {
                    let logits = UnsafeBufferPointer(start: output + sample * classes, count: classes)
                    let reference = stats.reference[((start + sample) * classes)..<((start + sample + 1) * classes)]
                    if Self.argmax(logits) == Self.argmax(reference) { agreeing += 1 }
                    error += Self.relativeError(logits, reference)
                }
                start += n
            }
        }
        return (Double(agreeing) / Double(max(count, 1)), error / Double(max(count, 1)))
    }

    /// The position of the largest value.
    static func argmax<C: Collection>(_ values: C) -> Int? where C.Element == Float {
        values.enumerated().max { $0.element < $1.element }?.offset
    }

    static func relativeError(_ logits: UnsafeBufferPointer<Float>, _ reference: ArraySlice<Float>) -> Double {
        let mean = reference.reduce(0.0) { $0 + Double($1) } / Double(max(reference.count, 1))
        var difference = 0.0, spread = 0.0
        for (value, expected) in zip(logits, reference) {
            difference += Double(value - expected) * Double(value - expected)
            spread += (Double(expected) - mean) * (Double(expected) - mean)
        }
        return spread > 0 ? difference / spread : difference
    }
}

/// What the int8 layer search measured and chose.
public struct Int8FallbackReport: Sendable, Equatable {
    /// The top-1 agreement with float32 asked for.
    public let target: Double
    /// Calibration samples the agreement was measured on.
    public let samples: Int
    public let agreementBefore: Double
    public let agreementAfter: Double
    /// Every convolution and linear layer (by result) computing in float32.
    public let floatLayers: Set<ValueID>
    /// The layers the search moved to float32, most sensitive first, and their names.
    public let fallbackLayers: [ValueID]
    /// The layers that would compute in int8 without the search.
    public let int8LayerCount: Int
    public var fallbackNames: [String] = []

    /// One line for the log.
    public var summary: String {
        func percent(_ share: Double) -> String { String(format: "%.1f%%", share * 100) }
        let moved = fallbackLayers.isEmpty ? "no layer needed float32"
            : "\(fallbackLayers.count) of \(int8LayerCount) int8 layers moved to float32 (\(fallbackNames.prefix(8).joined(separator: ", "))\(fallbackNames.count > 8 ? ", …" : ""))"
        let met = agreementAfter >= target ? "" : "; the target was not reached even with every layer in float32"
        return "int8 top-1 agreement with float32 on \(samples) calibration samples: \(percent(agreementBefore)) → \(percent(agreementAfter)) (target \(percent(target))); \(moved)\(met)"
    }
}
