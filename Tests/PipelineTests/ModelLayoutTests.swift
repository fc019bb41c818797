import Foundation
@testable import Pipeline
import Testing

/// A model whose speed depends on its threads as `scaling` says: a sleep per image (the machine stays free).
final class TimedModel: ClassifierModel {
    let inputShape = [3, 4, 4]
    let classCount = 10
    let secondsPerImage: Double

    init(secondsPerImage: Double) { self.secondsPerImage = secondsPerImage }

    func classify(_ input: UnsafeBufferPointer<Float>, count: Int, logits: UnsafeMutableBufferPointer<Float>) throws {
        usleep(UInt32(secondsPerImage * Double(count) * 1e6))
    }
}

struct TimedModelFactory: ModelFactory {
    /// Seconds per image of a copy on `threads` threads.
    let secondsPerImage: @Sendable (Int) -> Double
    var name: String { "timed" }
    func makeModel(batchSize: Int, threads: Int) throws -> any ClassifierModel { TimedModel(secondsPerImage: secondsPerImage(threads)) }
}

@Suite("Model layout: copies × threads chosen by measurement, cached per machine and model")
struct ModelLayoutTests {
    @Test("the candidates split the threads evenly")
    func candidates() {
        func copies(_ threads: Int) -> [Int] { ModelLayout.candidates(threads: threads).map(\.copies) }
        #expect(copies(1) == [1])
        #expect(copies(2) == [1, 2])
        #expect(copies(6) == [1, 2, 6])
        #expect(copies(16) == [1, 2, 4, 8, 16])
        #expect(ModelLayout.candidates(threads: 16).allSatisfy { $0.copies * $0.threadsEach == 16 })
    }

    @Test("the faster layout wins, whichever it is, and the next run takes it from the cache",
          arguments: [(true, 2), (false, 1)])
    func tuning(_ threadsScalePoorly: Bool, _ expectedCopies: Int) throws {
        let cachePath = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-layouts-\(UUID().uuidString).json").path
        defer { try? FileManager.default.removeItem(atPath: cachePath) }
        // One copy on 2 threads is 1.2× as fast as on one (two copies win) or 2.5× (one copy wins).
        let factory = TimedModelFactory { threads in threads == 1 ? 0.004 : (threadsScalePoorly ? 0.004 / 1.2 : 0.004 / 2.5) }
        var tuner = ModelLayoutTuner(factory: factory, batchSize: 8, threads: 2, cache: ModelLayoutCache(path: cachePath))
        tuner.seconds = 0.15
        let first = try tuner.choose()
        #expect(first.layout.copies == expectedCopies)
        #expect(first.measured.count == 2)
        #expect(first.models.count == expectedCopies)
        let again = try tuner.choose()
        #expect(again.layout == first.layout)
        #expect(again.measured.isEmpty)
    }

    @Test("a run reports the layout it used; --model-replicas overrides tuning")
    func jobReportsLayout() throws {
        let directory = try PipelineTests.dataset(files: 1, rows: 4)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let cachePath = (directory as NSString).appendingPathComponent("layouts.json")
        let tuned = try PipelineTests.run(directory, strategy: .streaming, output: "tuned") {
            $0.tuneModelLayout = true
            $0.layoutCache = cachePath
            $0.modelThreads = nil
        }
        #expect(tuned.modelLayout.contains("cop"))
        #expect(tuned.images == 4)
        let fixed = try PipelineTests.run(directory, strategy: .fused, output: "fixed") {
            $0.tuneModelLayout = true
            $0.modelReplicas = 2
            $0.modelThreads = 2
        }
        #expect(fixed.modelLayout == "2 copies × 1 thread")
        #expect(fixed.modelLayoutMeasured.isEmpty)
        #expect(fixed.images == 4)
    }
}
