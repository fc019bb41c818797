import Foundation

/// How the model's threads are arranged: `copies` copies of the model inferring side by side, each on
/// `threadsEach` threads. More copies: less synchronisation inside a copy and a preempted thread stalls only
/// its own copy; fewer: less memory and larger parallel regions. Which wins depends on the machine and the
/// model, so it is measured (`ModelLayoutTuner`).
public struct ModelLayout: Sendable, Codable, Equatable, CustomStringConvertible {
    public var copies: Int
    public var threadsEach: Int

    public init(copies: Int, threadsEach: Int) {
        self.copies = copies
        self.threadsEach = threadsEach
    }

    /// Images per call small enough to keep every thread busy and no smaller: the backend splits a call
    /// into about two images per thread. Layouts are measured at this size; the last batches use it.
    func microBatch(atMost batchSize: Int) -> Int { min(batchSize, max(4, 2 * threadsEach)) }

    public var description: String { "\(copies) cop\(copies == 1 ? "y" : "ies") × \(threadsEach) thread\(threadsEach == 1 ? "" : "s")" }

    /// The layouts worth measuring for a budget of `threads`: every way to split them evenly into 1, 2, 4,
    /// ... copies (and one copy per thread).
    static func candidates(threads: Int) -> [ModelLayout] {
        var copies = Set([1, threads])
        var c = 2
        while c < threads {
            if threads % c == 0 { copies.insert(c) }
            c *= 2
        }
        return copies.sorted().map { ModelLayout(copies: $0, threadsEach: max(1, threads / $0)) }
    }
}

/// Chooses the model layout by measuring each candidate for a moment (a warm-up call, then about
/// `seconds` of micro-batches on every copy at once), on this machine with this model; the answer is cached
/// per machine, model and thread budget, so later runs start at once.
struct ModelLayoutTuner {
    let factory: any ModelFactory
    let batchSize: Int
    let threads: Int
    var cache: ModelLayoutCache?
    var seconds = 1.0

    struct Result {
        var layout: ModelLayout
        /// Images per second of every candidate measured (empty when the cache answered).
        var measured: [(layout: ModelLayout, imagesPerSecond: Double)]
        /// The winner's compiled copies, when they were built here (reuse them instead of compiling again).
        var models: [any ClassifierModel]
    }

    var cacheKey: String {
        "\(CPUInfo.modelName) | \(ProcessInfo.processInfo.activeProcessorCount) cores | \(factory.name) | batch \(batchSize) | \(threads) threads"
    }

    func choose() throws -> Result {
        let candidates = ModelLayout.candidates(threads: threads)
        if candidates.count == 1 { return Result(layout: candidates[0], measured: [], models: []) }
        if let cached = cache?.layout(for: cacheKey), candidates.contains(cached) {
            return Result(layout: cached, measured: [], models: [])
        }
        var best: (layout: ModelLayout, rate: Double, models: [any ClassifierModel])?
        var measured: [(layout: ModelLayout, imagesPerSecond: Double)] = []
        for layout in candidates {
            let models = try (0..<layout.copies).map { _ in try factory.makeModel(batchSize: batchSize, threads: layout.threadsEach) }
            let rate = try measure(models, layout: layout)
            measured.append((layout, rate))
            if rate > best?.rate ?? -1 { best = (layout, rate, models) }
        }
        guard let best else { return Result(layout: candidates[0], measured: [], models: []) }
        cache?.store(best.layout, for: cacheKey)
        return Result(layout: best.layout, measured: measured, models: best.models)
    }

    /// Images per second with every copy inferring at once on its own thread, `callSize` images per call.
    func measure(_ models: [any ClassifierModel], layout: ModelLayout, callSize: Int? = nil) throws -> Double {
        let count = callSize ?? layout.microBatch(atMost: batchSize)
        let classes = models[0].classCount
        let start = DispatchSemaphore(value: 0)
        let counter = TuningCounter()
        let threads = StageThreads()
        for (index, model) in models.enumerated() {
            nonisolated(unsafe) let model = model
            threads.spawn("tune-\(index)") {
                let logits = UnsafeMutableBufferPointer<Float>.allocate(capacity: count * classes)
                defer { logits.deallocate() }
                do {
                    // A batch in the model's own encoding and memory (uint8 pixels in pinned memory for a GPU).
                    let batch = try Batch.make(capacity: count, for: model)
                    switch batch.element {
                    case .float32: for i in 0..<batch.inputs.count { batch.inputs[i] = Float((i * 7919) % 255) / 255 - 0.5 }
                    case .uint8: for i in 0..<batch.inputBytes.count { batch.inputBytes[i] = UInt8(truncatingIfNeeded: i * 7919) }
                    }
                    func call() throws {
                        switch batch.element {
                        case .float32: try model.classify(UnsafeBufferPointer(batch.inputs), count: count, logits: logits)
                        case .uint8: try model.classify(pixels: batch.inputBytes(count: count), count: count, logits: logits)
                        }
                    }
                    try call()  // warm-up
                    counter.ready()
                    start.wait()
                    let began = DispatchTime.now().uptimeNanoseconds
                    var calls = 0
                    while calls < 3 || Double(DispatchTime.now().uptimeNanoseconds - began) / 1e9 < seconds {
                        try call()
                        calls += 1
                    }
                    counter.add(images: calls * count, seconds: Double(DispatchTime.now().uptimeNanoseconds - began) / 1e9)
                } catch {
                    counter.fail(error)
                    counter.ready()
                }
            }
        }
        // Every copy warmed up before any is timed, so they are all measured while sharing the machine.
        let copies = models.count
        let releaser = Thread {
            counter.waitUntilReady(copies)
            for _ in 0..<copies { start.signal() }
        }
        releaser.start()
        threads.run()
        return try counter.imagesPerSecond()
    }
}

/// The tallies of one measurement, from every copy's thread.
private final class TuningCounter: @unchecked Sendable {
    private let condition = NSCondition()
    private var readyCount = 0
    private var rate = 0.0
    private var error: Error?

    func ready() {
        condition.withLock {
            readyCount += 1
            condition.broadcast()
        }
    }

    func waitUntilReady(_ count: Int) {
        condition.withLock { while readyCount < count { condition.wait() } }
    }

    func add(images: Int, seconds: Double) {
        condition.withLock { rate += Double(images) / max(seconds, 1e-9) }
    }

    func fail(_ error: Error) {
        condition.withLock { self.error = error }
    }

    func imagesPerSecond() throws -> Double {
        try condition.withLock {
            if let error { throw error }
            return rate
        }
    }
}

/// Tuning answers kept between runs: a small JSON file mapping a machine-and-model key to a layout.
struct ModelLayoutCache: Sendable {
    let path: String

    /// `$SLUICE_CACHE_DIR`, else `$XDG_CACHE_HOME/sluice`, else `~/.cache/sluice`: `model-layouts.json`.
    static func standard(environment: [String: String] = ProcessInfo.processInfo.environment) -> ModelLayoutCache? {
        let directory = environment["SLUICE_CACHE_DIR"]
            ?? environment["XDG_CACHE_HOME"].map { ($0 as NSString).appendingPathComponent("sluice") }
            ?? environment["HOME"].map { ($0 as NSString).appendingPathComponent(".cache/sluice") }
        return directory.map { ModelLayoutCache(path: ($0 as NSString).appendingPathComponent("model-layouts.json")) }
    }

    private func entries() -> [String: ModelLayout] {
        guard let data = FileManager.default.contents(atPath: path),
              let entries = try? JSONDecoder().decode([String: ModelLayout].self, from: data) else { return [:] }
        return entries
    }

    func layout(for key: String) -> ModelLayout? { entries()[key] }

    /// Best effort: a cache that cannot be written only means measuring again next time.
    func store(_ layout: ModelLayout, for key: String) {
        var all = entries()
        all[key] = layout
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        guard let data = try? encoder.encode(all) else { return }
        try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let temporary = path + ".\(getpid()).tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: data) else { return }
        if rename(temporary, path) != 0 { unlink(temporary) }
    }
}

/// The processor's name, for cache keys (machines of one kind differ).
enum CPUInfo {
    static let modelName: String = {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "unknown CPU" }
        for line in text.split(separator: "\n") where line.hasPrefix("model name") {
            if let colon = line.firstIndex(of: ":") { return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces) }
        }
        return "unknown CPU"
    }()
}
