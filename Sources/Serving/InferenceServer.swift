import Foundation
import Hummingbird
import Logging
import NIOCore
import Parquet
import Pipeline
import ServiceLifecycle

/// `sluice serve`: SageMaker's inference container contract (`GET /ping`, `POST /invocations`,
/// `GET /execution-parameters`) on Hummingbird, with the images of concurrent requests batched into the
/// model (`DynamicBatcher`). Answers are JSON or JSON Lines; every error is JSON with a status that says
/// whose fault it is.
public final class InferenceServer: Sendable {
    public let configuration: ServeConfiguration
    let preprocessor: any RecordPreprocessor
    let factory: any ModelFactory
    let labels: [String]
    let modelThreads: Int
    private let state = ModelState()
    private let workers: WorkerPool
    private let running = RunningGroup()
    /// Hummingbird's log level (the CLI's server logs at info; the loopback server of `run` only errors).
    public let logLevel: Logger.Level

    public init(configuration: ServeConfiguration, preprocessor: any RecordPreprocessor, model: any ModelFactory,
                labels: [String], modelThreads: Int = ProcessInfo.processInfo.activeProcessorCount, logLevel: Logger.Level = .info) {
        self.configuration = configuration
        self.logLevel = logLevel
        self.preprocessor = preprocessor
        self.factory = model
        self.labels = labels
        self.modelThreads = modelThreads
        workers = WorkerPool(preprocessor)
    }

    public enum ModelStatus: Sendable { case loading, ready, failed(String) }

    /// Whether the model is loaded (what GET /ping says).
    public var modelStatus: ModelStatus { state.status }

    /// What the batcher has done so far (GET /stats); nil while the model loads.
    public var stats: DynamicBatcher.Stats? { state.batcher?.snapshot }

    /// Serves until SIGTERM or SIGINT, or `shutdown()`: requests in flight finish first. `onListening` gets
    /// the bound port (useful with port 0).
    public func run(onListening: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        loadModel()
        var logger = Logger(label: "sluice.serve")
        logger.logLevel = logLevel
        let app = Application(
            router: router(),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "sluice"),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? 0) },
            logger: logger
        )
        let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        running.set(group)
        defer { state.batcher?.shutdown() }
        try await group.run()
    }

    /// Stops accepting requests, finishes those in flight, then makes `run` return.
    public func shutdown() async {
        await running.group?.triggerGracefulShutdown()
    }

    /// Compiles the model on a thread of its own; /ping answers 200 once it is ready.
    private func loadModel() {
        let thread = Thread { [self] in
            do {
                let model = try factory.makeModel(batchSize: configuration.batchSize, threads: modelThreads)
                state.ready(DynamicBatcher(model: model, batchSize: configuration.batchSize, maxDelay: configuration.maxBatchDelay,
                                           maxQueued: configuration.maxQueuedImages))
            } catch {
                state.failed("\(error)")
            }
        }
        thread.start()
    }

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.get("ping") { [state] _, _ -> Response in
            switch state.status {
            case .ready: Self.json(200, ["status": "ready"])
            case .loading: Self.json(503, ["status": "loading the model"])
            case let .failed(reason): Self.json(500, ["status": "the model failed to load", "error": reason])
            }
        }
        router.get("execution-parameters") { [configuration] _, _ in Self.json(200, configuration.executionParameters) }
        router.get("stats") { [state] _, _ -> Response in
            guard let stats = state.batcher?.snapshot else { return Self.json(503, ["status": "loading the model"]) }
            return Self.json(200, ["requests": stats.requests, "images": stats.images, "batches": stats.batches,
                                   "largest_batch": stats.largestBatch, "mean_batch": stats.meanBatch])
        }
        router.post("invocations") { [self] request, _ -> Response in
            do {
                return try await invoke(request)
            } catch let error as ServingError {
                var response = Self.json(error.status, ["error": ["status": error.status, "message": error.description]])
                if case .overloaded = error { response.headers[.retryAfter] = "1" }
                return response
            } catch {
                return Self.json(500, ["error": ["status": 500, "message": "\(error)"]])
            }
        }
        return router
    }

    private func invoke(_ request: Request) async throws -> Response {
        guard let batcher = state.batcher else { throw ServingError.modelNotReady("the model is still loading; retry when GET /ping answers 200") }
        let contentType = request.headers[.contentType]
        guard let format = RequestFormat(contentType: contentType) else {
            throw ServingError.unsupportedMediaType("Content-Type \(contentType ?? "(none)") is not supported; send one of \(RequestFormat.supported)")
        }
        guard let answerFormat = ResponseFormat(accept: request.headers[.accept]) else {
            throw ServingError.notAcceptable("Accept \(request.headers[.accept] ?? "") is not supported; ask for application/json, application/jsonlines or application/x-parquet")
        }
        let body = try await readBody(request)
        let (ids, records) = try decode(body, format: format, modelInput: preprocessor.outputShape)
        let answers = try await classify(records, ids: ids, batcher: batcher)
        if !format.isMultiRecord, let error = answers.first?.error {
            throw ServingError.badRequest(error)
        }
        // SageMaker passes per-request options in its custom attributes: "logits=true" adds every logit.
        let attributes = request.headers.first { $0.name.canonicalName == "x-amzn-sagemaker-custom-attributes" }?.value ?? ""
        let includeLogits = attributes.split(separator: ",").contains { $0.trimmingCharacters(in: CharacterSet.whitespaces) == "logits=true" }
        return Response(status: .ok, headers: [.contentType: answerFormat.contentType],
                        body: .init(byteBuffer: ByteBuffer(bytes: try answerFormat.encode(answers, labels: labels, includeLogits: includeLogits))))
    }

    /// The body, refused with 413 as soon as it is known to be too large (its Content-Length, or the bytes
    /// received so far).
    private func readBody(_ request: Request) async throws -> [UInt8] {
        let limit = configuration.maxPayloadBytes
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            throw ServingError.payloadTooLarge("the body of \(length) bytes is over MaxPayloadInMB (\(limit >> 20) MB)")
        }
        do {
            var buffer = try await request.body.collect(upTo: limit)
            return buffer.readBytes(length: buffer.readableBytes) ?? []
        } catch is NIOTooManyBytesError {
            throw ServingError.payloadTooLarge("the body is over MaxPayloadInMB (\(limit >> 20) MB)")
        }
    }

    private func decode(_ body: [UInt8], format: RequestFormat, modelInput: [Int]) throws -> ([String], [RequestRecord]) {
        guard !body.isEmpty else { throw ServingError.badRequest("the request body is empty") }
        switch format {
        case .image:
            return (["0"], [.encoded(body)])
        case .npy:
            let records = try RequestDecoding.npy(body, modelInput: modelInput)
            return (records.indices.map(String.init), records)
        case .jsonLines:
            let records = RequestDecoding.jsonLines(body)
            return (records.indices.map(String.init), records)
        case .parquet:
            let chunks: [RecordChunk]
            do {
                chunks = try ParquetRecords.read(InMemorySource(name: "request body", bytes: body), maxChunkBytes: configuration.maxPayloadBytes)
            } catch {
                throw ServingError.badRequest("application/x-parquet body: \(error)")
            }
            var ids: [String] = [], records: [RequestRecord] = []
            for chunk in chunks {
                for row in 0..<chunk.rowCount {
                    ids.append(chunk.ids[row])
                    guard chunk.valid[row] else {
                        records.append(.invalid(chunk.problems[row] ?? "unusable record"))
                        continue
                    }
                    records.append(chunk.withPayload(row) { payload in
                        switch payload {
                        case let .encoded(bytes): .encoded(Array(bytes))
                        case let .pixels(bytes, shape): .pixels(Array(bytes), shape: shape)
                        case let .preprocessed(floats, _): .preprocessed(Array(floats))
                        }
                    })
                }
            }
            return (ids, records)
        }
    }

    /// Preprocesses the records (a failure is that record's answer), then classifies the rest in one go.
    private func classify(_ records: [RequestRecord], ids: [String], batcher: DynamicBatcher) async throws -> [RecordAnswer] {
        let elements = batcher.inputElements
        var inputs: [[Float]] = []
        var answers: [RecordAnswer?] = Array(repeating: nil, count: records.count)
        var inputOf: [Int] = []
        try workers.with { worker in
            for (index, record) in records.enumerated() {
                var input = [Float](repeating: 0, count: elements)
                do {
                    switch record {
                    case let .invalid(reason):
                        answers[index] = RecordAnswer(id: ids[index], error: reason)
                        continue
                    case let .preprocessed(values):
                        guard values.count == elements else { throw ServingError.badRequest("\(values.count) values, not \(elements)") }
                        input = values
                    case let .encoded(bytes):
                        try bytes.withUnsafeBytes { raw in try input.withUnsafeMutableBufferPointer { try worker.preprocess(.encoded(raw), into: $0) } }
                    case let .pixels(bytes, shape):
                        try bytes.withUnsafeBytes { raw in
                            try input.withUnsafeMutableBufferPointer { try worker.preprocess(.pixels(raw, shape: shape), into: $0) }
                        }
                    }
                    inputs.append(input)
                    inputOf.append(index)
                } catch {
                    answers[index] = RecordAnswer(id: ids[index], error: "\(error)")
                }
            }
        }
        let logits = try await batcher.classify(inputs)
        for (slot, index) in inputOf.enumerated() {
            answers[index] = RecordAnswer(id: ids[index], logits: logits[slot], k: configuration.topK)
        }
        return answers.map { $0 ?? RecordAnswer(id: "?", error: "not classified") }
    }

    static func json(_ status: Int, _ object: Any) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return Response(status: HTTPResponse.Status(code: status), headers: [.contentType: "application/json"],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// The service group of a running server, for `shutdown()`.
private final class RunningGroup: @unchecked Sendable {
    private let lock = NSLock()
    private var current: ServiceGroup?
    var group: ServiceGroup? { lock.withLock { current } }
    func set(_ group: ServiceGroup) { lock.withLock { current = group } }
}

/// Whether the model is ready, and its batcher once it is.
private final class ModelState: @unchecked Sendable {
    typealias Status = InferenceServer.ModelStatus
    private let lock = NSLock()
    private var current = Status.loading
    private var loaded: DynamicBatcher?

    var status: Status { lock.withLock { current } }
    var batcher: DynamicBatcher? { lock.withLock { loaded } }

    func ready(_ batcher: DynamicBatcher) {
        lock.withLock {
            loaded = batcher
            current = .ready
        }
    }

    func failed(_ reason: String) { lock.withLock { current = .failed(reason) } }
}

/// Preprocessing workers (decoders and scratch memory), one per request being preprocessed at once.
private final class WorkerPool: @unchecked Sendable {
    private let preprocessor: any RecordPreprocessor
    private let lock = NSLock()
    private var idle: [any PreprocessWorker] = []

    init(_ preprocessor: any RecordPreprocessor) { self.preprocessor = preprocessor }

    func with<T>(_ body: (any PreprocessWorker) throws -> T) rethrows -> T {
        let worker = lock.withLock { idle.popLast() } ?? preprocessor.makeWorker(memoryShare: 256 << 20)
        defer { lock.withLock { idle.append(worker) } }
        return try body(worker)
    }
}
