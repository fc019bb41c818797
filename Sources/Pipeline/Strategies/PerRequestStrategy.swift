import Foundation
import NumpyFormat

/// SageMaker Batch Transform's execution model: each input file is split into requests — one record each,
/// or as many as fit in the payload limit — and up to `maxConcurrentRequests` are in flight at once to a
/// model server (`InvocationClient`). The answers are recorded per row, so parts, commits, resume and
/// stats are those of the other strategies. Read → request building runs on the reading thread; each
/// request thread sends, waits and records.
struct PerRequestStrategy {
    let job: Job
    let client: any InvocationClient
    /// Logits per record: the first answer's, which every later answer must match.
    private let classes = ClassCount()

    private final class ClassCount: @unchecked Sendable {
        private let lock = NSLock()
        private var count: Int?
        /// The class count: the first call's `n`.
        func established(_ n: Int) -> Int { lock.withLock { count = count ?? n; return count ?? n } }
    }

    /// One request: rows of one unit and the body that carries them.
    struct Request: @unchecked Sendable {
        let planned: PlannedUnit
        var unit: Int { planned.index }
        let displayName: String
        let rows: [Int]
        let ids: [String]
        let body: [UInt8]
        let contentType: String
    }

    func run(_ plan: [PlannedUnit]) throws -> [StageStats] {
        let c = job.configuration
        let read = StageStats(name: "read"), build = StageStats(name: "build requests"), send = StageStats(name: "requests")
        let requests = BoundedQueue<Request>(name: "requests", capacity: 2 * c.maxConcurrentRequests)
        let threads = StageThreads()
        threads.spawn("read") {
            read.threadStarted()
            build.threadStarted()
            for planned in plan where !job.failed {
                job.readUnit(planned, targetRows: 64, stats: read) { chunk in
                    try build.measure(items: chunk.rowCount) { try split(chunk, of: planned, into: requests) }
                    return !job.failed
                }
            }
            requests.close()
        }
        for index in 0..<c.maxConcurrentRequests {
            threads.spawn("request-\(index)") {
                send.threadStarted()
                while let request = requests.pop() {
                    guard !job.failed else { continue }
                    send.measure(items: request.rows.count) { deliver(request) }
                }
            }
        }
        threads.run()
        return [read, build, send]
    }

    /// Turns a chunk's rows into requests; unusable rows become error rows at once.
    private func split(_ chunk: RecordChunk, of planned: PlannedUnit, into requests: BoundedQueue<Request>) throws {
        let c = job.configuration
        var rows: [Int] = []
        var payloads: [[UInt8]] = []
        var kind = BodyKind.encoded
        var bytes = 0
        func flush() throws {
            guard !rows.isEmpty else { return }
            let (body, type) = Self.body(payloads, kind: kind)
            requests.push(Request(planned: planned, displayName: chunk.displayName, rows: rows.map { chunk.firstRow + $0 },
                                  ids: rows.map { chunk.ids[$0] }, body: body, contentType: type))
            rows = []
            payloads = []
            bytes = 0
        }
        for i in 0..<chunk.rowCount {
            guard chunk.valid[i] else {
                job.recordFailed(unit: chunk.unit, row: chunk.firstRow + i, id: chunk.ids[i],
                                 reason: chunk.problems[i] ?? "unusable record", displayName: chunk.displayName)
                continue
            }
            let payload: [UInt8] = chunk.withPayload(i) { payload in
                switch payload {
                case let .encoded(raw):
                    kind = .encoded
                    return Array(raw)
                case let .pixels(raw, shape):
                    kind = .pixels(shape)
                    return Array(raw)
                case let .preprocessed(floats, shape):
                    kind = .preprocessed(shape)
                    return Array(UnsafeRawBufferPointer(floats))
                }
            }
            // Base64 in JSON Lines costs 4/3 of the bytes; tensors go as .npy.
            let cost = kind == .encoded ? (payload.count + 2) / 3 * 4 + 3 : payload.count
            if c.requestBatching == .singleRecord || (!rows.isEmpty && bytes + cost + 128 > c.maxPayloadBytes) { try flush() }
            rows.append(i)
            payloads.append(payload)
            bytes += cost
            if c.requestBatching == .singleRecord { try flush() }
        }
        try flush()
    }

    /// What a chunk's records are, which decides the request body.
    enum BodyKind: Equatable {
        case encoded
        case pixels([Int])
        case preprocessed([Int])
    }

    /// A request body: JSON Lines of base64 for encoded images, an `.npy` uint8 [N,H,W,C] for pixels, an
    /// `.npy` float32 [N,C,H,W] for preprocessed tensors.
    static func body(_ payloads: [[UInt8]], kind: BodyKind) -> ([UInt8], String) {
        switch kind {
        case .encoded:
            var body: [UInt8] = []
            for payload in payloads { body += Array(("\"" + Data(payload).base64EncodedString() + "\"\n").utf8) }
            return (body, "application/jsonlines")
        case let .pixels(shape):
            return (NumpyArrayHeader.encode(dtype: .uint8, shape: [payloads.count] + shape) + payloads.flatMap { $0 }, "application/x-npy")
        case let .preprocessed(shape):
            return (NumpyArrayHeader.encode(dtype: .float32, shape: [payloads.count] + shape) + payloads.flatMap { $0 }, "application/x-npy")
        }
    }

    /// Sends one request and records its rows: predictions and per-record errors. A request that failed as a
    /// whole past its retries (the server is gone) fails its unit: no part is written, and a rerun retries it.
    private func deliver(_ request: Request) {
        do {
            let answers = try client.invoke(body: request.body, contentType: request.contentType)
            guard answers.count == request.rows.count else {
                throw PipelineError.inference("the server answered \(answers.count) records for \(request.rows.count)")
            }
            for (index, answer) in answers.enumerated() {
                switch answer {
                case let .logits(values) where classes.established(values.count) != values.count:
                    job.recordFailed(unit: request.unit, row: request.rows[index], id: request.ids[index],
                                     reason: "the server answered \(values.count) logits, not the \(classes.established(values.count)) of its earlier answers",
                                     displayName: request.displayName)
                case let .logits(values):
                    values.withUnsafeBufferPointer { job.recordPrediction(unit: request.unit, row: request.rows[index], id: request.ids[index], logits: $0) }
                case let .failed(reason):
                    job.recordFailed(unit: request.unit, row: request.rows[index], id: request.ids[index], reason: reason, displayName: request.displayName)
                }
            }
        } catch {
            job.unitFailed(request.planned, PipelineError.inference("\(request.displayName): a request for rows \(request.rows.first ?? 0)...\(request.rows.last ?? 0) failed: \(error)"))
        }
    }
}
