import Foundation

/// Chooses how many samples the primitives process at a time by timing the candidates on this machine: a small
/// model runs fastest in larger micro-batches (less overhead per primitive), a large one in smaller ones (each
/// layer's activations stay in cache), and where the turn comes depends on the CPU's caches and cores.
///
/// Candidates run round-robin, so background load hits them alike; each keeps its fastest run (per sample).
/// A model's copies compile alike, so the choice is remembered for the process.
enum MicroBatchTuner {
    static let candidates = [2, 4, 8, 16]
    /// Timed rounds after the warm-up, and the time after which no further round starts.
    static let rounds = 3
    static let timeBudget: Duration = .milliseconds(1500)

    private static let lock = NSLock()
    private nonisolated(unsafe) static var chosen: [String: Int] = [:]

    /// The candidates for a batch of `batchSize`: those below it, and the batch itself when it is smaller than
    /// the largest candidate.
    static func candidates(batchSize: Int) -> [Int] {
        Array(Set(candidates.filter { $0 < batchSize } + [min(batchSize, candidates.last ?? batchSize)])).sorted()
    }

    /// The fastest micro-batch and its plan. `build` makes the plan for a micro-batch (a candidate whose plan
    /// cannot be built is skipped); `key` names the model, precision, batch and threads.
    static func choose(key: String, batchSize: Int, perSample: Int, engine: DNNLEngine,
                       build: (Int) throws -> ExecutionPlan) throws -> (microBatch: Int, plan: ExecutionPlan) {
        let sizes = candidates(batchSize: batchSize)
        if let known = lock.withLock({ chosen[key] }), sizes.contains(known) { return (known, try build(known)) }
        guard sizes.count > 1 else { return (sizes[0], try build(sizes[0])) }
        var plans: [(size: Int, plan: ExecutionPlan)] = []
        var firstError: Error?
        for size in sizes {
            do { plans.append((size, try build(size))) } catch { firstError = firstError ?? error }
        }
        guard !plans.isEmpty else { throw firstError ?? InferenceError(.invalidGraph, "no micro-batch plan could be built") }
        var zeros = [Float](repeating: 0, count: (sizes.last ?? 1) * perSample)
        var best = [Duration](repeating: .seconds(1_000_000), count: plans.count)
        let clock = ContinuousClock()
        let start = clock.now
        try zeros.withUnsafeMutableBytes { input in
            for round in 0...rounds {
                if round > 1, clock.now - start > timeBudget { break }
                for (index, candidate) in plans.enumerated() {
                    try candidate.plan.inputMemory.setPointer(input.baseAddress!)
                    let began = clock.now
                    try candidate.plan.execute(stream: engine.stream)
                    // Round 0 warms up (first touches of the arena, kernel caches).
                    if round > 0 { best[index] = min(best[index], (clock.now - began) / candidate.size) }
                }
            }
        }
        let fastest = best.indices.min { best[$0] < best[$1] } ?? 0
        lock.withLock { chosen[key] = plans[fastest].size }
        return (plans[fastest].size, plans[fastest].plan)
    }
}
