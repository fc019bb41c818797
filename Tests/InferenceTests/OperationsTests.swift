import Foundation
import Testing
@testable import Inference

/// The operations ResNets do not use, against PyTorch (Tests/Fixtures/engine/ops_expected.json).
struct OperationsTests {
    static func parameter(_ name: String, _ shape: [Int], scale: Float, plus offset: Float = 0) throws -> Tensor {
        var values = [Float](repeating: 0, count: shape.reduce(1, *))
        values.withUnsafeMutableBufferPointer { SeededWeights.fillUniform($0, seed: 7, name: name) }
        return try Tensor(shape: shape, values: values.map { $0 * scale + offset })
    }

    /// conv(groups 2, stride 2, padding 2, dilation 2) → ReLU6 → (avg pool ceil + max pool ceil) → add →
    /// batch-norm → ReLU → 1×1 conv → global average pool → flatten → linear → softmax.
    static func graph() throws -> Graph {
        var g = Graph(inputShape: [4, 11, 11])
        let conv1 = Conv2D(weight: try parameter("ops.conv1.weight", [6, 2, 3, 3], scale: 2),
                           bias: try parameter("ops.conv1.bias", [6], scale: 2),
                           stride: [2, 2], padding: [2, 2], dilation: [2, 2], groups: 2)
        let a = g.add(.conv2d(conv1), [g.input], name: "conv1")
        let a6 = g.add(.activation(.clip(lower: 0, upper: 6)), [a], name: "relu6")
        let p1 = g.add(.pool(Pool2D(kind: .average, kernel: [3, 3], stride: [2, 2], padding: [1, 1], ceilMode: true,
                                    countIncludesPadding: false)), [a6], name: "avgpool")
        let p2 = g.add(.pool(Pool2D(kind: .max, kernel: [3, 3], stride: [2, 2], padding: [1, 1], ceilMode: true)), [a6], name: "maxpool")
        let s = g.add(.add, [p1, p2], name: "add")
        let bn = BatchNorm(weight: try parameter("ops.bn.weight", [6], scale: 0.5, plus: 1),
                           bias: try parameter("ops.bn.bias", [6], scale: 0.5),
                           mean: try parameter("ops.bn.running_mean", [6], scale: 0.5),
                           variance: try parameter("ops.bn.running_var", [6], scale: 0.25, plus: 1))
        let b = g.add(.batchNorm(bn), [s], name: "bn")
        let r = g.add(.activation(.relu), [b], name: "relu")
        let c = g.add(.conv2d(Conv2D(weight: try parameter("ops.conv2.weight", [8, 6, 1, 1], scale: 0.5))), [r], name: "conv2")
        let gap = g.add(.globalAveragePool, [c], name: "gap")
        let flat = g.add(.flatten, [gap], name: "flatten")
        let fc = g.add(.linear(Linear(weight: try parameter("ops.fc.weight", [5, 8], scale: 0.5),
                                      bias: try parameter("ops.fc.bias", [5], scale: 0.5))), [flat], name: "fc")
        g.add(.softmax, [fc], name: "softmax")
        return g
    }

    static func input() throws -> Tensor {
        var values = [Float](repeating: 0, count: 2 * 4 * 11 * 11)
        values.withUnsafeMutableBufferPointer { SeededWeights.fillUniform($0, seed: 7, name: "ops.input") }
        return try Tensor(shape: [2, 4, 11, 11], values: values.map { $0 * 2 })
    }

    struct Expected: Decodable {
        let output_shape: [Int]
        let output: [Float]
        let residual_output: [Float]
    }

    static func expected() throws -> Expected {
        try JSONDecoder().decode(Expected.self, from: Data(contentsOf: URL(fileURLWithPath: EngineFixtures.path("ops_expected.json"))))
    }

    @Test(arguments: [Precision.fp32, .bf16])
    func matchesPyTorch(precision: Precision) throws {
        let expected = try Self.expected()
        let model = try OneDNNBackend(threads: 1).compile(try Self.graph(), batchSize: 2, precision: precision)
        let output = try model.run(try Self.input())
        #expect(output.shape == expected.output_shape)
        let difference = zip(try output.floats(), expected.output).map { abs($0 - $1) }.max() ?? .infinity
        #expect(difference <= (precision == .fp32 ? 1e-5 : 2e-2), "max |Δ| \(difference)")
    }

    /// relu(conv(x) + x), x = relu(conv0(input)) in the same blocked layout: the fused sum must not
    /// accumulate onto the bytes the convolution reads.
    @Test(arguments: [Precision.fp32, .bf16])
    func convolutionWhoseResidualIsItsInput(precision: Precision) throws {
        var g = Graph(inputShape: [4, 6, 6])
        let conv = Conv2D(weight: try Self.parameter("res.conv.weight", [4, 4, 3, 3], scale: 0.5),
                          bias: try Self.parameter("res.conv.bias", [4], scale: 0.5), padding: [1, 1])
        let conv0 = Conv2D(weight: try Self.parameter("res.conv0.weight", [4, 4, 3, 3], scale: 0.5), padding: [1, 1])
        let x0 = g.add(.conv2d(conv0), [g.input], name: "conv0")
        let x = g.add(.activation(.relu), [x0], name: "relu0")
        let y = g.add(.conv2d(conv), [x], name: "conv")
        let s = g.add(.add, [y, x], name: "add")
        g.add(.activation(.relu), [s], name: "relu")
        var values = [Float](repeating: 0, count: 2 * 4 * 6 * 6)
        values.withUnsafeMutableBufferPointer { SeededWeights.fillUniform($0, seed: 7, name: "res.input") }
        let input = try Tensor(shape: [2, 4, 6, 6], values: values.map { $0 * 2 })
        let model = try OneDNNBackend(threads: 1).compile(g, batchSize: 2, precision: precision)
        let output = try model.run(input).floats()
        let difference = zip(output, try Self.expected().residual_output).map { abs($0 - $1) }.max() ?? .infinity
        #expect(difference <= (precision == .fp32 ? 1e-5 : 5e-2), "max |Δ| \(difference)")
    }

    /// int8 runs every operation (mixed precision: the batch-norm, add, softmax in float32) and needs
    /// calibration samples.
    @Test func int8RunsEveryOperation() throws {
        let expected = try Self.expected()
        let model = try OneDNNBackend(threads: 1, calibration: try Self.input()).compile(try Self.graph(), batchSize: 2, precision: .int8)
        let output = try model.run(try Self.input()).floats()
        #expect(output.count == expected.output.count)
        let difference = zip(output, expected.output).map { abs($0 - $1) }.max() ?? .infinity
        #expect(difference <= 0.05, "max |Δ| \(difference) of softmax probabilities")
        let missing = #expect(throws: InferenceError.self) {
            try OneDNNBackend().compile(try Self.graph(), batchSize: 2, precision: .int8)
        }
        #expect(missing?.message.contains("calibration") == true)
    }

    /// Copies of one model (layout tuning compiles several) calibrate once and quantize alike.
    @Test func int8CopiesShareOneCalibrationPass() throws {
        let memo = CalibrationMemo()
        let backend = OneDNNBackend(threads: 1, calibration: try Self.input(), calibrationMemo: memo)
        let first = try backend.compile(try Self.graph(), batchSize: 2, precision: .int8)
        let second = try backend.compile(try Self.graph(), batchSize: 1, precision: .int8)
        #expect(memo.passes == 1)
        let alone = try OneDNNBackend(threads: 1, calibration: try Self.input()).compile(try Self.graph(), batchSize: 2, precision: .int8)
        let expected = try alone.run(try Self.input()).floats()
        #expect(try first.run(try Self.input()).floats() == expected)
        let single = try Self.input().shape.dropFirst().reduce(1, *)
        let firstSample = try Array(Self.input().floats().prefix(single))
        var output = [Float](repeating: .nan, count: expected.count / 2)
        try firstSample.withUnsafeBufferPointer { input in
            try output.withUnsafeMutableBufferPointer { try second.run(input: input, count: 1, output: $0) }
        }
        // (A batch of one may get other kernels: the last bits can differ.)
        #expect(zip(output, expected).allSatisfy { abs($0 - $1) <= 1e-6 })
    }

    @Test func passesFuseOnlyWhatTheyMay() throws {
        let optimised = try GraphOptimizer.optimize(try Self.graph())
        let kinds = optimised.nodes.map(\.operation.kindName)
        // The clip joins conv1; the batch-norm after an add, the add of two pools and the ReLU after a
        // batch-norm stay.
        #expect(kinds == ["conv2d", "avg_pool", "max_pool", "add", "batch_norm", "relu", "conv2d", "global_avg_pool",
                          "flatten", "linear", "softmax"])
        guard case .conv2d(let conv) = optimised.nodes[0].operation else { Issue.record("no conv first"); return }
        #expect(conv.activation == .clip(lower: 0, upper: 6))
    }
}
