import Foundation
import Testing
@testable import Inference

/// DenseNet's pattern in int8: concatenations feed batch norm + ReLU, which feed convolutions. The plan
/// keeps all of it in int8: the values a concatenation joins share one scale, and each batch norm (+ ReLU)
/// runs as an int8 depthwise convolution.
struct DenseInt8PlanTests {
    /// conv+ReLU → max pool → concat[pool] → BN → ReLU → conv 1×1+ReLU → conv 3×3 → concat[pool, conv 3×3] →
    /// BN → ReLU → conv 1×1 → avg pool → BN → ReLU → global average pool → flatten → linear.
    static func graph() throws -> Graph {
        var g = Graph(inputShape: [3, 12, 12])
        func conv(_ name: String, _ o: Int, _ i: Int, _ k: Int) throws -> Conv2D {
            Conv2D(weight: try OperationsTests.parameter("d.\(name).weight", [o, i, k, k], scale: 0.4),
                   bias: try OperationsTests.parameter("d.\(name).bias", [o], scale: 0.2), padding: [k / 2, k / 2])
        }
        func norm(_ name: String, _ c: Int) throws -> BatchNorm {
            BatchNorm(weight: try OperationsTests.parameter("d.\(name).gamma", [c], scale: 0.5, plus: 1),
                      bias: try OperationsTests.parameter("d.\(name).beta", [c], scale: 0.5),
                      mean: try OperationsTests.parameter("d.\(name).mean", [c], scale: 0.5),
                      variance: try OperationsTests.parameter("d.\(name).var", [c], scale: 0.5, plus: 1))
        }
        let c0 = g.add(.conv2d(try conv("conv0", 8, 3, 3)), [g.input], name: "conv0")
        let r0 = g.add(.activation(.relu), [c0], name: "relu0")
        let p0 = g.add(.pool(Pool2D(kind: .max, kernel: [2, 2])), [r0], name: "pool0")
        let cat1 = g.add(.concat(axis: 0), [p0], name: "cat1")
        let n1 = g.add(.batchNorm(try norm("norm1", 8)), [cat1], name: "norm1")
        let a1 = g.add(.activation(.relu), [n1], name: "relu1")
        let b1 = g.add(.conv2d(try conv("conv1", 16, 8, 1)), [a1], name: "conv1")
        let a2 = g.add(.activation(.relu), [b1], name: "relu2")
        let f1 = g.add(.conv2d(try conv("conv2", 8, 16, 3)), [a2], name: "conv2")
        let cat2 = g.add(.concat(axis: 0), [p0, f1], name: "cat2")
        let n2 = g.add(.batchNorm(try norm("norm2", 16)), [cat2], name: "norm2")
        let a3 = g.add(.activation(.relu), [n2], name: "relu3")
        let t = g.add(.conv2d(try conv("transition", 16, 16, 1)), [a3], name: "transition")
        let p1 = g.add(.pool(Pool2D(kind: .average, kernel: [2, 2])), [t], name: "pool1")
        let n3 = g.add(.batchNorm(try norm("norm5", 16)), [p1], name: "norm5")
        let a4 = g.add(.activation(.relu), [n3], name: "relu5")
        let gap = g.add(.globalAveragePool, [a4], name: "gap")
        let flat = g.add(.flatten, [gap], name: "flatten")
        g.add(.linear(Linear(weight: try OperationsTests.parameter("d.fc.weight", [5, 16], scale: 0.5))), [flat], name: "fc")
        return g
    }

    @Test func concatenationsAndBatchNormsStayInt8() throws {
        let graph = try GraphOptimizer.optimize(try Self.graph())
        let byName = Dictionary(uniqueKeysWithValues: graph.nodes.map { ($0.name, $0.output) })
        guard let conv0 = byName["conv0"], let pool0 = byName["pool0"], let cat1 = byName["cat1"], let cat2 = byName["cat2"],
              let conv2 = byName["conv2"], let relu3 = byName["relu3"], let relu1 = byName["relu1"],
              let transition = byName["transition"], let pool1 = byName["pool1"], let relu5 = byName["relu5"] else {
            Issue.record("optimised graph lacks a layer: \(graph.nodes.map(\.name))")
            return
        }
        // conv0 (ReLU fused) is never negative, conv2 is: the group {conv0, pool0, conv2, cat2} is s8 with the
        // largest magnitude of them all. cat1, a concatenation of one source, is gone: norm1 reads pool0.
        let ranges: [ValueID: ValueRange] = [conv0: ValueRange(lower: 0, upper: 6), pool0: ValueRange(lower: 0, upper: 6),
                                             conv2: ValueRange(lower: -8, upper: 3), relu1: ValueRange(lower: 0, upper: 5),
                                             relu3: ValueRange(lower: 0, upper: 4), transition: ValueRange(lower: -2, upper: 2)]
        let plan = Quantizer.plan(graph, ranges: ranges, inputRange: ValueRange(lower: -2, upper: 2),
                                  floatLayers: try Quantizer.floatLayers(graph))
        // No batch norm and no standalone activation is left: each BN + ReLU is a depthwise convolution.
        for node in plan.graph.nodes {
            switch node.operation {
            case .batchNorm, .activation: Issue.record("\(node.name) (\(node.operation.kindName)) is left in the int8 graph")
            default: break
            }
        }
        let depthwise = plan.graph.nodes.filter { if case .conv2d(let c) = $0.operation { c.groups > 1 } else { false } }
        #expect(depthwise.map(\.name) == ["norm1", "norm2", "norm5"])
        #expect(depthwise.map(\.output) == [relu1, relu3, relu5])
        #expect(!plan.graph.nodes.contains { $0.output == cat1 })
        #expect(plan.graph.nodes.first { $0.name == "norm1" }?.inputs == [pool0])
        for value in [conv0, pool0, conv2, cat2, relu1, relu3, transition, pool1] {
            #expect(plan.storedInt8.contains(value), "\(value) is not kept in int8")
        }
        // norm5's depthwise convolution feeds the global pool whose result goes to the float32 classifier.
        #expect(!plan.storedInt8.contains(relu5))
        for value in [conv0, pool0, conv2, cat2] {
            #expect(plan.quantization[value]?.type == .s8)
            #expect(plan.quantization[value]?.scale == Float(127) / 8)
        }
        #expect(plan.quantization[relu1]?.type == .u8)
        #expect(plan.quantization[relu1]?.scale == Float(255) / 5)
        #expect(plan.quantization[pool1]?.scale == Float(127) / 2)
    }

    /// The int8 model runs close to fp32, with no batch norm, no reference kernel and no reorder but the input's.
    @Test func runsCloseToFP32WithoutFloatIslands() throws {
        let graph = try Self.graph()
        let input = try Int8PlanTests.input(4, seed: "d.input")
        let reference = try OneDNNBackend(threads: 1).compile(graph, batchSize: 4, precision: .fp32).run(input).floats()
        let model = try OneDNNBackend(threads: 1, calibration: try Int8PlanTests.input(8, seed: "d.calibration"))
            .compile(graph, batchSize: 4, precision: .int8)
        let output = try model.run(input).floats()
        let largest = reference.map(abs).max() ?? 0
        let difference = zip(output, reference).map { abs($0 - $1) }.max() ?? .infinity
        #expect(largest > 0.1)
        #expect(difference <= 0.05 * largest, "max |Δ| \(difference) of max |value| \(largest)")
        let report = (model as? OneDNNModel)?.dispatchReport ?? []
        #expect(!report.isEmpty)
        #expect(!report.contains { $0.implementation.hasPrefix("ref") }, "\(report)")
        #expect(!report.contains { $0.kind == "batch_norm" }, "\(report)")
        #expect(report.filter { $0.kind == "reorder" && $0.layer != "input" }.isEmpty, "\(report.map(\.description).joined(separator: "\n"))")
        // The batch norms between int8 values (channels-last) run Sluice's own int8 kernel, in its vector path
        // (16 channels) and its scalar one (8); norm5's result is float32 (oneDNN's kernel).
        #expect(report.filter { $0.implementation == ChannelScaleShift.name }.map(\.layer) == ["norm1", "norm2"],
                "\(report.map(\.description).joined(separator: "\n"))")
    }

    /// A concatenation that repeats an earlier one's sources (and more) reads the longest such one instead;
    /// one of a single source is gone. Results are unchanged (fp32).
    @Test func concatenationsChainOnEarlierOnes() throws {
        var g = Graph(inputShape: [3, 6, 6])
        func conv(_ name: String) throws -> Conv2D {
            Conv2D(weight: try OperationsTests.parameter("c.\(name)", [4, 3, 1, 1], scale: 0.5))
        }
        let a = g.add(.conv2d(try conv("a")), [g.input], name: "a")
        let b = g.add(.conv2d(try conv("b")), [g.input], name: "b")
        let c = g.add(.conv2d(try conv("c")), [g.input], name: "c")
        let d = g.add(.conv2d(try conv("d")), [g.input], name: "d")
        let single = g.add(.concat(axis: 0), [a], name: "single")
        let ab = g.add(.concat(axis: 0), [single, b], name: "ab")
        let abc = g.add(.concat(axis: 0), [single, b, c], name: "abc")
        let abcd = g.add(.concat(axis: 0), [single, b, c, d], name: "abcd")
        let dcb = g.add(.concat(axis: 0), [d, c, b], name: "dcb")
        g.add(.concat(axis: 0), [abcd, dcb], name: "out")
        let lowered = PlanGraph.lowered(g)
        let inputs = Dictionary(uniqueKeysWithValues: lowered.nodes.map { ($0.name, $0.inputs) })
        #expect(inputs["single"] == nil)
        #expect(inputs["ab"] == [a, b])
        #expect(inputs["abc"] == [ab, c])
        #expect(inputs["abcd"] == [abc, d])
        #expect(inputs["dcb"] == [d, c, b])
        let input = try Tensor(shape: [2, 3, 6, 6], values: (0..<216).map { Float($0 % 13) / 6 - 1 })
        let output = try OneDNNBackend(threads: 1).compile(g, batchSize: 2, precision: .fp32).run(input).floats()
        // out = [a, b, c, d, d, c, b] per sample: compare with the convolutions run alone.
        var parts: [[Float]] = []
        for name in ["a", "b", "c", "d"] {
            var single = Graph(inputShape: [3, 6, 6])
            single.add(.conv2d(try conv(name)), [single.input], name: name)
            parts.append(try OneDNNBackend(threads: 1).compile(single, batchSize: 2, precision: .fp32).run(input).floats())
        }
        var expected: [Float] = []
        for sample in 0..<2 {
            for part in [0, 1, 2, 3, 3, 2, 1] { expected += parts[part][(sample * 144)..<((sample + 1) * 144)] }
        }
        #expect(output == expected)
    }

    /// Batch norms of a 1×1 image and of a flattened value stay batch norms (no convolution reads them), and the
    /// graph still runs in every precision.
    @Test func batchNormsOfOnePixelOrFlatValuesStay() throws {
        var g = Graph(inputShape: [3, 6, 6])
        func norm(_ name: String) throws -> BatchNorm {
            BatchNorm(weight: try OperationsTests.parameter("f.\(name).gamma", [4], scale: 0.5, plus: 1),
                      bias: try OperationsTests.parameter("f.\(name).beta", [4], scale: 0.5),
                      mean: try OperationsTests.parameter("f.\(name).mean", [4], scale: 0.5),
                      variance: try OperationsTests.parameter("f.\(name).var", [4], scale: 0.5, plus: 1))
        }
        let c = g.add(.conv2d(Conv2D(weight: try OperationsTests.parameter("f.conv", [4, 3, 3, 3], scale: 0.5))), [g.input], name: "conv")
        let gap = g.add(.globalAveragePool, [c], name: "gap")
        let pixel = g.add(.batchNorm(try norm("pixel")), [gap], name: "pixel")
        let r = g.add(.activation(.relu), [pixel], name: "relu")
        let flat = g.add(.flatten, [r], name: "flatten")
        let n = g.add(.batchNorm(try norm("flat")), [flat], name: "flat")
        g.add(.linear(Linear(weight: try OperationsTests.parameter("f.fc", [5, 4], scale: 0.5))), [n], name: "fc")
        let kinds = PlanGraph.lowered(g).nodes.map(\.operation.kindName)
        #expect(kinds == ["conv2d", "global_avg_pool", "batch_norm", "relu", "flatten", "batch_norm", "linear"])
        let input = try Tensor(shape: [2, 3, 6, 6], values: (0..<216).map { Float($0 % 11) / 5 - 1 })
        let reference = try OneDNNBackend(threads: 1).compile(g, batchSize: 2, precision: .fp32).run(input).floats()
        let int8 = try OneDNNBackend(threads: 1, calibration: input).compile(g, batchSize: 2, precision: .int8).run(input).floats()
        let largest = reference.map(abs).max() ?? 0
        #expect(zip(int8, reference).allSatisfy { abs($0 - $1) <= 0.05 * largest })
    }
}
