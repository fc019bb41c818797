import Foundation
import Testing
@testable import Inference

struct ResNetGraphTests {
    /// The builder reads exactly torchvision's state_dict keys, shapes and order.
    @Test(arguments: ResNet.Variant.allCases)
    func keysMatchTorchvision(variant: ResNet.Variant) throws {
        let ours = try ResNet.parameterShapes(variant)
        let theirs = try EngineFixtures.keys(for: variant.rawValue)
        #expect(ours.count == theirs.count)
        #expect(ours.map(\.0) == theirs.map(\.0))
        #expect(ours.map(\.1) == theirs.map(\.1))
    }

    /// After the passes ResNet-50 is 53 convolutions (batch-norm folded, 16 residual adds and 49 ReLUs
    /// fused), a max pool, a global pool, a flatten and the classifier.
    @Test func resnet50FusesEverything() throws {
        let graph = try ResNet.build(.resnet50, weights: RecordingWeights(), inputSize: 64)
        let optimised = try GraphOptimizer.optimize(graph)
        var convs = 0, sums = 0, relus = 0, others: [String] = []
        for node in optimised.nodes {
            if case .conv2d(let c) = node.operation {
                convs += 1
                if c.addsResidual { sums += 1 }
                if c.activation == .relu { relus += 1 }
            } else {
                others.append(node.operation.kindName)
            }
        }
        #expect(convs == 53)
        #expect(sums == 16)
        #expect(relus == 49)
        #expect(others == ["max_pool", "global_avg_pool", "flatten", "linear"])
    }

    /// Folding computes w·γ/√(σ²+ε) and (b−μ)·γ/√(σ²+ε)+β per output channel.
    @Test func foldBatchNormArithmetic() throws {
        var conv = Conv2D(weight: try Tensor(shape: [2, 1, 1, 1], values: [2, -3]), bias: try Tensor(shape: [2], values: [1, 0]))
        let bn = BatchNorm(weight: try Tensor(shape: [2], values: [0.5, 2]), bias: try Tensor(shape: [2], values: [1, -1]),
                           mean: try Tensor(shape: [2], values: [3, -1]), variance: try Tensor(shape: [2], values: [4, 0.25]),
                           epsilon: 0)
        try FoldBatchNorm.fold(bn, into: &conv)
        let weights: [Float] = [0.5, -12]
        let biases: [Float] = [0.5, 3]  // (1 − 3)·0.25 + 1 and (0 + 1)·4 − 1
        #expect(try conv.weight.floats() == weights)
        #expect(try conv.bias?.floats() == biases)
    }

    @Test func shapeErrorsAreReported() throws {
        var g = Graph(inputShape: [3, 8, 8])
        g.add(.conv2d(Conv2D(weight: try Tensor.zeros([4, 2, 3, 3]))), [g.input], name: "bad")
        #expect(throws: InferenceError.self) { try g.inferShapes() }
        #expect(throws: InferenceError.self) { try OneDNNBackend().compile(g, batchSize: 1, precision: .fp32) }
    }
}

extension ResNet.Variant: CustomTestStringConvertible {
    public var testDescription: String { rawValue }
}
