import Foundation
import Pipeline

/// Batches the images of concurrent requests into model calls: a call runs as soon as `batchSize` images
/// wait, or when the oldest waiting image has waited `maxDelay`. So 64 clients sending one image each keep
/// the model as busy as one client sending batches. The model runs on one thread of its own (it uses every
/// core inside a call); requests wait on continuations, never on that thread.
public final class DynamicBatcher: @unchecked Sendable {
    public struct Stats: Sendable, Codable, Equatable {
        public var requests = 0
        public var images = 0
        public var batches = 0
        public var largestBatch = 0
        /// Images per model call, on average: above 1 when batching joined requests.
        public var meanBatch: Double { batches == 0 ? 0 : Double(images) / Double(batches) }
    }

    /// One request's images and, once all are classified, its logits.
    private final class Pending {
        let inputs: [[Float]]
        var logits: [[Float]]
        var remaining: Int
        var failure: Error?
        let continuation: CheckedContinuation<[[Float]], Error>

        init(_ inputs: [[Float]], _ continuation: CheckedContinuation<[[Float]], Error>) {
            self.inputs = inputs
            logits = Array(repeating: [], count: inputs.count)
            remaining = inputs.count
            self.continuation = continuation
        }
    }

    private struct Waiting {
        let request: Pending
        let index: Int
        let arrived: ContinuousClock.Instant
    }

    private let model: any ClassifierModel
    private let batchSize: Int
    private let maxDelay: Duration
    private let maxQueued: Int
    private let condition = NSCondition()
    private var waiting: [Waiting] = []
    private var stopping = false
    private var stats = Stats()
    private let finished = DispatchSemaphore(value: 0)

    public init(model: any ClassifierModel, batchSize: Int, maxDelay: Duration, maxQueued: Int) {
        self.model = model
        self.batchSize = max(1, batchSize)
        self.maxDelay = maxDelay
        self.maxQueued = max(1, maxQueued)
        let thread = Thread { [unowned self] in self.run() }
        thread.name = "sluice-batcher"
        thread.start()
    }

    public var inputElements: Int { model.inputElements }
    public var classCount: Int { model.classCount }

    public var snapshot: Stats { condition.withLock { stats } }

    /// Logits of each input (each `inputElements` floats). Throws `overloaded` when too many images wait.
    public func classify(_ inputs: [[Float]]) async throws -> [[Float]] {
        guard !inputs.isEmpty else { return [] }
        return try await withCheckedThrowingContinuation { continuation in
            let request = Pending(inputs, continuation)
            condition.lock()
            if stopping {
                condition.unlock()
                continuation.resume(throwing: ServingError.modelNotReady("the server is shutting down"))
                return
            }
            if !waiting.isEmpty, waiting.count + inputs.count > maxQueued {
                condition.unlock()
                continuation.resume(throwing: ServingError.overloaded("\(waiting.count) images are waiting for the model (at most \(maxQueued))"))
                return
            }
            let now = ContinuousClock.now
            for index in inputs.indices { waiting.append(Waiting(request: request, index: index, arrived: now)) }
            stats.requests += 1
            condition.signal()
            condition.unlock()
        }
    }

    /// Classifies what is waiting, then stops the model's thread.
    public func shutdown() {
        condition.withLock {
            stopping = true
            condition.signal()
        }
        finished.wait()
    }

    private func run() {
        let elements = model.inputElements, classes = model.classCount
        let input = UnsafeMutableBufferPointer<Float>.allocate(capacity: batchSize * elements)
        let logits = UnsafeMutableBufferPointer<Float>.allocate(capacity: batchSize * classes)
        defer {
            input.deallocate()
            logits.deallocate()
            finished.signal()
        }
        while let batch = nextBatch() {
            for (slot, item) in batch.enumerated() {
                _ = UnsafeMutableBufferPointer(rebasing: input[(slot * elements)..<((slot + 1) * elements)])
                    .initialize(from: item.request.inputs[item.index])
            }
            var failure: Error?
            do {
                try model.classify(UnsafeBufferPointer(rebasing: input[0..<(batch.count * elements)]), count: batch.count, logits: logits)
            } catch {
                failure = ServingError.modelFailed("the model failed: \(error)")
            }
            for (slot, item) in batch.enumerated() {
                complete(item, logits: failure == nil ? Array(logits[(slot * classes)..<((slot + 1) * classes)]) : [], failure: failure)
            }
        }
    }

    /// The next model call's images: waits for the first, then for more until the batch is full or the first
    /// has waited `maxDelay`; nil once stopping and drained.
    private func nextBatch() -> [Waiting]? {
        condition.lock()
        defer { condition.unlock() }
        while waiting.isEmpty {
            if stopping { return nil }
            condition.wait()
        }
        let deadline = waiting[0].arrived + maxDelay
        while waiting.count < batchSize, !stopping {
            let left = ContinuousClock.now.duration(to: deadline)
            guard left > .zero else { break }
            let (seconds, attoseconds) = left.components
            _ = condition.wait(until: Date(timeIntervalSinceNow: Double(seconds) + Double(attoseconds) / 1e18))
        }
        let count = min(batchSize, waiting.count)
        let batch = Array(waiting.prefix(count))
        waiting.removeFirst(count)
        stats.images += count
        stats.batches += 1
        stats.largestBatch = max(stats.largestBatch, count)
        return batch
    }

    private func complete(_ item: Waiting, logits: [Float], failure: Error?) {
        let request = item.request
        let done: Bool = condition.withLock {
            request.logits[item.index] = logits
            if let failure, request.failure == nil { request.failure = failure }
            request.remaining -= 1
            return request.remaining == 0
        }
        guard done else { return }
        if let failure = request.failure {
            request.continuation.resume(throwing: failure)
        } else {
            request.continuation.resume(returning: request.logits)
        }
    }
}
