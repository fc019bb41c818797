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
        if let copies = factory.placement.modelCopies {
            // On GPUs: one copy on the first GPU, then the run's layout (2 copies per GPU on their own streams, which
            // overlap one batch's upload with the other's compute), whole batches, pixels from pinned memory.
            for count in Set([1, copies]).sorted() {
                let models = try (0..<count).map { try factory.makeModel(batchSize: batchSize, threads: 1, copy: $0) }
                let layout = ModelLayout(copies: count, threadsEach: 1)
                let rate = try tuner.measure(models, layout: layout, callSize: batchSize)
                let name = "model only, \(factory.placement), \(count) cop\(count == 1 ? "y" : "ies"), batch \(batchSize)"
                log(String(format: "  %@: %.1f images/s", name, rate))
                entries.append(BenchEntry(name: name, kind: BenchEntry.modelOnly, images: 0, seconds: seconds, imagesPerSecond: rate,
                                          peakRSSBytes: nil, cpuUtilisation: nil))
            }
            return entries
        }
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
