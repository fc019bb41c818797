import Foundation
import Testing
@testable import Inference

/// Batch sizes, short last batches and thread counts give PyTorch's logits too (resnet18, fp32).
@Suite(.serialized)
struct BatchingTests {
    static let expected: [Float] = (try? EngineFixtures.logits(for: "resnet18").floats()) ?? []

    static func model(batchSize: Int, threads: Int?, microBatch: Int? = nil) throws -> any CompiledModel {
        let seed = try EngineFixtures.inputs().weight_seed
        let graph = try ResNet.build(.resnet18, weights: SeededWeights(seed: seed))
        return try OneDNNBackend(threads: threads, microBatch: microBatch).compile(graph, batchSize: batchSize, precision: .fp32)
    }

    static func check(_ logits: Tensor, rows: Range<Int>) throws {
        let actual = try logits.floats()
        let expected = Array(Self.expected[(rows.lowerBound * 1000)..<(rows.upperBound * 1000)])
        let comparison = LogitComparison(actual: actual, expected: expected, classes: 1000)
        #expect(comparison.relativeError <= 1e-3)
        #expect(comparison.top5Matches == rows.count)
    }

    /// 32 inputs through a batch-12 model: 12 + 12 + a short batch of 8 (whole, then in micro-batches of
    /// 5: 5 + 5 + 2 twice, then 5 + 3).
    @Test(arguments: [12, 5])
    func shortLastBatch(microBatch: Int) throws {
        let model = try Self.model(batchSize: 12, threads: nil, microBatch: microBatch)
        try Self.check(try model.run(try EngineFixtures.batch(for: "resnet18")), rows: 0..<32)
    }

    @Test func batchSizeOneAndOneThread() throws {
        let model = try Self.model(batchSize: 1, threads: 1)
        let batch = try EngineFixtures.batch(for: "resnet18")
        let firstThree = try Tensor(shape: [3, 3, 224, 224], values: Array(try batch.floats()[0..<(3 * 3 * 224 * 224)]))
        try Self.check(try model.run(firstThree), rows: 0..<3)
    }

    @Test func rejectsBadBatches() throws {
        let model = try Self.model(batchSize: 2, threads: 1)
        let input = [Float](repeating: 0, count: 3 * 3 * 224 * 224)
        var output = [Float](repeating: 0, count: 3 * 1000)
        #expect(throws: InferenceError.self) {
            try input.withUnsafeBufferPointer { i in
                try output.withUnsafeMutableBufferPointer { o in try model.run(input: i, count: 3, output: o) }
            }
        }
        #expect(throws: InferenceError.self) {
            try input.withUnsafeBufferPointer { i in
                try output.withUnsafeMutableBufferPointer { o in
                    try model.run(input: UnsafeBufferPointer(rebasing: i[0..<10]), count: 1, output: o)
                }
            }
        }
        #expect(throws: InferenceError.self) { try model.run(try Tensor.zeros([1, 3, 100, 100])) }
        #expect(throws: InferenceError.self) {
            try OneDNNBackend().compile(try ResNet.build(.resnet18, weights: RecordingWeights()), batchSize: 1, precision: .int8)
        }
    }

    /// oneDNN's scratch space comes from the plan's arena, not from a per-thread buffer of the library: a
    /// model compiled and run on one thread runs on another one too (Winograd layers crashed there before).
    @Test func runsOnAnotherThread() throws {
        let model = try Self.model(batchSize: 4, threads: 2)
        let batch = try EngineFixtures.batch(for: "resnet18")
        let four = try Tensor(shape: [4, 3, 224, 224], values: Array(try batch.floats()[0..<(4 * 3 * 224 * 224)]))
        try Self.check(try model.run(four), rows: 0..<4)
        final class Outcome: @unchecked Sendable { var result: Result<Tensor, any Error>? }
        let outcome = Outcome()
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            outcome.result = Result { try model.run(four) }
            done.signal()
        }
        done.wait()
        try Self.check(try #require(outcome.result).get(), rows: 0..<4)
    }

    /// Activations live in one arena of about the two largest live tensors (conv1's output and a layer1
    /// tensor are both 64·112·112 = 256·56·56 floats per image), not one buffer per tensor. (Direct
    /// convolution: Winograd's transformed tiles take several megabytes of scratch space on top.)
    @Test func activationArenaIsPlanned() throws {
        let graph = try ResNet.build(.resnet50, weights: RecordingWeights())
        let backend = OneDNNBackend(threads: 1, convolutionAlgorithm: .direct)
        let model = try #require(try backend.compile(graph, batchSize: 2, precision: .fp32) as? OneDNNModel)
        let (arena, unplanned) = model.activationBytes
        let largest = 2 * 64 * 112 * 112 * 4  // conv1's output, the largest activation
        print("resnet50 batch 2 activations: arena \(arena) bytes, one buffer each \(unplanned), largest tensor \(largest)")
        #expect(arena <= 2 * largest)
        #expect(arena * 4 < unplanned)
    }
}

/// The fast paths are in use where the CPU has them (what `sluice predict --verbose` prints).
struct DispatchTests {
    @Test(arguments: [Precision.fp32, .bf16])
    func convolutionsUseTheCPUsBestKernels(precision: Precision) throws {
        let graph = try ResNet.build(.resnet50, weights: RecordingWeights())
        let model = try OneDNNBackend(threads: 1).compile(graph, batchSize: 1, precision: precision)
        let convolutions = model.dispatchReport.filter { $0.kind == "conv" }
        #expect(convolutions.count == 53)
        #expect(!model.dispatchReport.contains { $0.implementation == "unknown" || $0.implementation.hasPrefix("ref") })
        // Only the input is reordered: no reorders between layers.
        #expect(model.dispatchReport.filter { $0.kind == "reorder" || $0.kind == "residual_copy" }.map(\.layer) == ["input"])
        let isa = OneDNNInfo.effectiveISA
        if precision == .bf16, isa.hasPrefix("avx512_core_bf16") || isa.contains("amx") {
            #expect(convolutions.allSatisfy { $0.implementation.contains("bf16") || $0.implementation.contains("amx") },
                    "\(convolutions.map(\.implementation))")
        }
        if precision == .fp32, isa.hasPrefix("avx512") {
            #expect(convolutions.allSatisfy { $0.implementation.contains("avx512") })
        }
    }

    static func winogradLayers(_ algorithm: ConvolutionAlgorithm) throws -> [String] {
        let graph = try ResNet.build(.resnet50, weights: RecordingWeights())
        let model = try OneDNNBackend(threads: 1, convolutionAlgorithm: algorithm).compile(graph, batchSize: 4, precision: .fp32)
        return model.dispatchReport.filter { $0.kind == "conv" && $0.implementation.contains("wino") }.map(\.layer)
    }

    @Test func directMeansNoWinograd() throws {
        #expect(try Self.winogradLayers(.direct).isEmpty)
    }

    /// In micro-batches of 4, Winograd computes the 3×3 stride-1 layers of layers 1–3 (≥ 64 tiles of 4×4
    /// outputs), not layer 4's 7×7 ones. oneDNN 2.x has it for AVX-512.
    @Test(.enabled(if: OneDNNInfo.version.hasPrefix("2.") && OneDNNInfo.effectiveISA.hasPrefix("avx512")))
    func winogradWhereItPays() throws {
        let stride1 = (0..<3).map { "layer1.\($0).conv2" } + (1..<4).map { "layer2.\($0).conv2" } + (1..<6).map { "layer3.\($0).conv2" }
        #expect(try Self.winogradLayers(.fastest) == stride1)
    }
}
