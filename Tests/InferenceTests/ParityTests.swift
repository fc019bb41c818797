import Foundation
import Testing
@testable import Inference

/// Our engine against PyTorch's logits for the same seeded weights and inputs.
@Suite(.serialized)
struct ParityTests {
    static func compare(_ model: String, precision: Precision, batchSize: Int, threads: Int? = nil,
                        convolutionAlgorithm: ConvolutionAlgorithm = .fastest) throws -> LogitComparison {
        let info = try EngineFixtures.inputs()
        let graph = try ResNet.build(ResNet.Variant(rawValue: model)!, weights: SeededWeights(seed: info.weight_seed))
        let input = try EngineFixtures.batch(for: model)
        let calibration = precision == .int8 ? input : nil
        let compiled = try OneDNNBackend(threads: threads, calibration: calibration, convolutionAlgorithm: convolutionAlgorithm)
            .compile(graph, batchSize: batchSize, precision: precision)
        let logits = try compiled.run(input)
        let expected = try EngineFixtures.logits(for: model)
        return LogitComparison(actual: try logits.floats(), expected: try expected.floats(), classes: 1000)
    }

    /// Batch 16 runs in micro-batches of 4, where `fastest` computes the 3×3 layers of layers 1–3 by Winograd.
    @Test(arguments: ["resnet18", "resnet50"], ConvolutionAlgorithm.allCases)
    func fp32MatchesPyTorch(model: String, algorithm: ConvolutionAlgorithm) throws {
        let result = try Self.compare(model, precision: .fp32, batchSize: 16, convolutionAlgorithm: algorithm)
        print("\(model) fp32 \(algorithm): max |Δ| \(result.maxAbsDifference) (\(result.relativeError) of max |logit| \(result.maxAbsExpected)), top-5 identical \(result.top5Matches)/\(result.rows)")
        #expect(result.relativeError <= 1e-3)
        #expect(result.top5Matches == result.rows)
    }

    /// Over all 48 fixture inputs of both models (some have near-ties between their top two classes).
    @Test func bf16AgreesOnTop1() throws {
        var agreed = 0, rows = 0
        for model in ["resnet18", "resnet50"] {
            let result = try Self.compare(model, precision: .bf16, batchSize: 16)
            print("\(model) bf16: max |Δ| \(result.maxAbsDifference) (\(result.relativeError) of max |logit|), top-1 identical \(result.top1Matches)/\(result.rows), top-5 \(result.top5Matches)/\(result.rows)")
            #expect(result.relativeError <= 0.05)
            agreed += result.top1Matches
            rows += result.rows
        }
        #expect(Double(agreed) >= 0.95 * Double(rows), "top-1 identical on \(agreed)/\(rows)")
    }

    /// int8 calibrated on the same inputs: top-1 against PyTorch's fp32 logits.
    @Test func int8AgreesOnTop1() throws {
        var agreed = 0, rows = 0
        for model in ["resnet18", "resnet50"] {
            let result = try Self.compare(model, precision: .int8, batchSize: 16)
            print("\(model) int8: max |Δ| \(result.maxAbsDifference) (\(result.relativeError) of max |logit|), top-1 identical \(result.top1Matches)/\(result.rows), top-5 \(result.top5Matches)/\(result.rows)")
            agreed += result.top1Matches
            rows += result.rows
        }
        #expect(Double(agreed) >= 0.8 * Double(rows), "top-1 identical on \(agreed)/\(rows)")
    }
}
