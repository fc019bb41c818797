import Testing
@testable import Inference

/// The micro-batch is chosen by timing; whichever wins, the outputs are those of any other micro-batch.
struct MicroBatchTunerTests {
    @Test func candidatesStayWithinTheBatch() {
        #expect(MicroBatchTuner.candidates(batchSize: 1) == [1])
        #expect(MicroBatchTuner.candidates(batchSize: 3) == [2, 3])
        #expect(MicroBatchTuner.candidates(batchSize: 16) == [2, 4, 8, 16])
        #expect(MicroBatchTuner.candidates(batchSize: 64) == [2, 4, 8, 16])
    }

    @Test(arguments: [Precision.fp32, .bf16])
    func tunedModelComputesWhatAFixedMicroBatchComputes(precision: Precision) throws {
        let graph = try Int8PlanTests.graph()
        let input = try Int8PlanTests.input(12, seed: "tuner.input")
        let tuned = try #require(try OneDNNBackend(threads: 1).compile(graph, batchSize: 12, precision: precision) as? OneDNNModel)
        #expect(MicroBatchTuner.candidates(batchSize: 12).contains(tuned.microBatch))
        // Copies of the same model get the remembered choice.
        let copy = try #require(try OneDNNBackend(threads: 1).compile(graph, batchSize: 12, precision: precision) as? OneDNNModel)
        #expect(copy.microBatch == tuned.microBatch)
        let fixed = try OneDNNBackend(threads: 1, microBatch: tuned.microBatch == 2 ? 4 : 2)
            .compile(graph, batchSize: 12, precision: precision)
        let a = try tuned.run(input).floats(), b = try fixed.run(input).floats()
        let largest = b.map(abs).max() ?? 0
        #expect(largest > 0.01)
        #expect(zip(a, b).allSatisfy { abs($0 - $1) <= 1e-5 * largest }, "max |Δ| \(zip(a, b).map { abs($0 - $1) }.max() ?? 0)")
    }
}
