import Foundation
import Testing
@testable import Inference

/// The int8 plan: which values stay int8 between layers, u8 or s8 from the calibrated range, and mixed
/// precision for the operations without an int8 kernel.
struct Int8PlanTests {
    /// conv+ReLU → max pool → conv+sigmoid → × per-channel constant → conv → global average pool → flatten →
    /// linear (the classifier).
    static func graph() throws -> Graph {
        var g = Graph(inputShape: [3, 12, 12])
        func conv(_ name: String, _ o: Int, _ i: Int) throws -> Conv2D {
            Conv2D(weight: try OperationsTests.parameter("\(name).weight", [o, i, 3, 3], scale: 0.4),
                   bias: try OperationsTests.parameter("\(name).bias", [o], scale: 0.2), padding: [1, 1])
        }
        let c1 = g.add(.conv2d(try conv("q.conv1", 8, 3)), [g.input], name: "conv1")
        let r1 = g.add(.activation(.relu), [c1], name: "relu1")
        let p = g.add(.pool(Pool2D(kind: .max, kernel: [2, 2])), [r1], name: "pool")
        let c2 = g.add(.conv2d(try conv("q.conv2", 8, 8)), [p], name: "conv2")
        let s = g.add(.activation(.sigmoid), [c2], name: "sigmoid")
        let m = g.add(.binary(Binary(.mul, constant: try OperationsTests.parameter("q.mul", [8, 1, 1], scale: 1, plus: 1))), [s], name: "mul")
        let c3 = g.add(.conv2d(try conv("q.conv3", 6, 8)), [m], name: "conv3")
        let gap = g.add(.globalAveragePool, [c3], name: "gap")
        let flat = g.add(.flatten, [gap], name: "flatten")
        g.add(.linear(Linear(weight: try OperationsTests.parameter("q.fc.weight", [5, 6], scale: 0.5))), [flat], name: "fc")
        return g
    }

    static func input(_ count: Int, seed: String) throws -> Tensor {
        var values = [Float](repeating: 0, count: count * 3 * 12 * 12)
        values.withUnsafeMutableBufferPointer { SeededWeights.fillUniform($0, seed: 7, name: seed) }
        return try Tensor(shape: [count, 3, 12, 12], values: values.map { $0 * 2 })
    }

    @Test func storedTypesFollowConsumersAndRanges() throws {
        let graph = try GraphOptimizer.optimize(try Self.graph())
        let byName = Dictionary(uniqueKeysWithValues: graph.nodes.map { ($0.name, $0.output) })
        guard let conv1 = byName["conv1"], let pool = byName["pool"], let conv2 = byName["conv2"], let conv3 = byName["conv3"],
              let gap = byName["gap"], let fc = byName["fc"] else {
            Issue.record("optimised graph lacks a layer: \(graph.nodes.map(\.name))")
            return
        }
        let ranges: [ValueID: ValueRange] = [conv1: ValueRange(lower: 0, upper: 6), conv2: ValueRange(lower: -2, upper: 4),
                                             conv3: ValueRange(lower: -1, upper: 0.5)]
        let plan = Quantizer.plan(graph, ranges: ranges, inputRange: ValueRange(lower: -2, upper: 2),
                                  floatLayers: try Quantizer.floatLayers(graph))
        // conv1 (ReLU fused) feeds a pool that feeds a convolution: both int8. conv2 (sigmoid fused) feeds a
        // multiplication and conv3 a pool whose result feeds the float32 classifier: float32 in memory.
        #expect(plan.storedInt8 == [conv1, pool])
        #expect(plan.floatLayers == [fc])
        #expect(plan.quantization[conv1]?.type == .u8)
        #expect(plan.quantization[conv1]?.scale == Float(255) / 6)
        #expect(plan.quantization[pool]?.scale == Float(255) / 6)
        #expect(plan.quantization[conv2]?.type == .s8)
        #expect(plan.quantization[conv2]?.scale == Float(127) / 4)
        #expect(plan.quantization[conv3]?.scale == 127)
        #expect(plan.quantization[graph.input]?.type == .s8)
        #expect(!plan.storedInt8.contains(gap))
    }

    /// Every operation runs in an int8 plan (sigmoid, pools, the classifier in float32), close to fp32,
    /// calibrated on other inputs.
    @Test func mixedPrecisionRunsCloseToFP32() throws {
        let graph = try Self.graph()
        let input = try Self.input(4, seed: "q.input")
        let reference = try OneDNNBackend(threads: 1).compile(graph, batchSize: 4, precision: .fp32).run(input).floats()
        let model = try OneDNNBackend(threads: 1, calibration: try Self.input(8, seed: "q.calibration"))
            .compile(graph, batchSize: 4, precision: .int8)
        let output = try model.run(input).floats()
        let largest = reference.map(abs).max() ?? 0
        let difference = zip(output, reference).map { abs($0 - $1) }.max() ?? .infinity
        #expect(largest > 0.1)
        #expect(difference <= 0.05 * largest, "max |Δ| \(difference) of max |value| \(largest)")
        let kinds = (model as? OneDNNModel)?.dispatchReport.map(\.implementation) ?? []
        #expect(!kinds.contains { $0.hasPrefix("ref") }, "\(kinds)")
    }

    /// With an agreement target, the layers that move the logits most compute in float32 until int8's top-1
    /// agrees with float32's on that share of the calibration samples, as measured here independently.
    @Test(arguments: [1.0, 0.9])
    func layerSearchMeetsTheAgreementTarget(target: Double) throws {
        let graph = try Self.graph()
        // One sample 40× brighter than the rest stretches the input's int8 range, so the others are quantised
        // coarsely and plain int8 flips some of their top classes: the search has work to do.
        var values = try Self.input(48, seed: "q.search").floats()
        for index in 0..<(3 * 12 * 12) { values[index] *= 40 }
        let samples = try Tensor(shape: [48, 3, 12, 12], values: values)
        let reference = try OneDNNBackend(threads: 1, convolutionAlgorithm: .direct).compile(graph, batchSize: 48, precision: .fp32)
            .run(samples).floats()
        let plain = try OneDNNBackend(threads: 1, calibration: samples).compile(graph, batchSize: 48, precision: .int8)
        let searched = try OneDNNBackend(threads: 1, calibration: samples, int8AgreementTarget: target)
            .compile(graph, batchSize: 48, precision: .int8)
        func agreement(_ model: any CompiledModel) throws -> Double {
            let logits = try model.run(samples).floats()
            let agreeing = (0..<48).filter { sample in
                let range = (sample * 5)..<(sample * 5 + 5)
                return Int8LayerSearch.argmax(logits[range]) == Int8LayerSearch.argmax(reference[range])
            }
            return Double(agreeing.count) / 48
        }
        let report = try #require((searched as? OneDNNModel)?.int8Fallback)
        let before = try agreement(plain), after = try agreement(searched)
        #expect(before < min(target, 0.95), "plain int8 agrees on \(before) of the samples: the test exercises nothing")
        #expect(abs(report.agreementBefore - before) < 1e-9)
        #expect(after >= target, "agreement \(after) after moving \(report.fallbackNames) to float32")
        #expect(abs(report.agreementAfter - after) < 1e-9)
        #expect(!report.fallbackLayers.isEmpty && report.fallbackLayers.count == report.fallbackNames.count)
        #expect(report.fallbackLayers.count <= report.int8LayerCount)
        // Each layer moved computes in float32 in the plan that runs (oneDNN names its int8 kernels "int8").
        let int8Layers = (searched as? OneDNNModel)?.dispatchReport
            .filter { ["conv", "linear"].contains($0.kind) && $0.implementation.contains("int8") }.map(\.layer) ?? []
        for name in report.fallbackNames { #expect(!int8Layers.contains(name), "\(name) still computes in int8") }
    }

    @Test func agreementTargetOutsideZeroToOneIsRefused() throws {
        #expect(throws: InferenceError.self) {
            try OneDNNBackend(threads: 1, calibration: try Self.input(4, seed: "q.search"), int8AgreementTarget: 1.5)
                .compile(try Self.graph(), batchSize: 4, precision: .int8)
        }
    }
}
