import Foundation

/// The model alone, without data: every layout of this machine's cores into model copies × threads, at
/// the tuner's micro-batch and at the run's batch size, each for a few seconds. The best of them is the
/// ceiling the end-to-end strategies are measured against (`sluice bench` prints the fraction).
public struct ModelOnlyBenchmark: Sendable {
    public var factory: any ModelFactory
    public var batchSize: Int
    public var threads = ProcessInfo.processInfo.activeProcessorCount
    public var seconds = 8.0

    public init(factory: any ModelFactory, batchSize: Int) {
        self.factory = factory
        self.batchSize = batchSize
    }

    public func run(log: (String) -> Void) throws -> [BenchEntry] {
        var tuner = ModelLayoutTuner(factory: factory, batchSize: batchSize, threads: threads)
        tuner.seconds = seconds
        var entries: [BenchEntry] = []
        for layout in ModelLayout.candidates(threads: threads) {
            let models = try (0..<layout.copies).map { _ in try factory.makeModel(batchSize: batchSize, threads: layout.threadsEach) }
            for callSize in Set([layout.microBatch(atMost: batchSize), batchSize]).sorted() {
                let rate = try tuner.measure(models, layout: layout, callSize: callSize)
                log(String(format: "  model only, %@, %d images per call: %.1f images/s", layout.description, callSize, rate))
                entries.append(BenchEntry(name: "model only, \(layout), batch \(callSize)", kind: BenchEntry.modelOnly,
                                          images: 0, seconds: seconds, imagesPerSecond: rate, peakRSSBytes: nil, cpuUtilisation: nil))
            }
        }
        return entries
    }
}
