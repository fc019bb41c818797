import AsyncHTTPClient
import Foundation
import Imaging
import Inference
import NIOCore
import Parquet
import Pipeline
import Serving
import SluiceTestSupport
import Testing

/// `sluice serve` against SageMaker's container contract, on loopback: every endpoint, every content type in
/// and out, the error statuses, and answers checked against the model run directly on the same images.
@Suite("sluice serve: the SageMaker container contract", .serialized)
struct ServeContractTests {
    static let photos = ["jpeg-420-peacock.jpg", "jpeg-444-chelsea.jpg", "jpeg-422-iptc.jpg"]
    static let factory = ResNetFactory(model: "resnet18", weights: nil, precision: .fp32)

    /// A running server on an ephemeral port, shared by the tests of this suite.
    final class Running: @unchecked Sendable {
        let port: Int
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let labels = ClassLabels.imageNet

        init(configuration: ServeConfiguration) async throws {
            let server = InferenceServer(configuration: configuration, preprocessor: try StandardPreprocessor(), model: ServeContractTests.factory,
                                         labels: ClassLabels.imageNet, modelThreads: 2)
            let (stream, continuation) = AsyncStream<Int>.makeStream()
            Task { try await server.run { continuation.yield($0) } }
            var iterator = stream.makeAsyncIterator()
            port = await iterator.next() ?? 0
            // /ping says when the model is loaded.
            for _ in 0..<600 where try await get("/ping").status != 200 { try await Task.sleep(for: .milliseconds(100)) }
        }

        func get(_ path: String) async throws -> (status: Int, body: [UInt8]) {
            let response = try await client.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)"), timeout: .seconds(60))
            return (Int(response.status.code), Array(buffer: try await response.body.collect(upTo: 64 << 20)))
        }

        func post(_ body: [UInt8], type: String?, accept: String? = nil) async throws -> (status: Int, headers: [String: String], body: [UInt8]) {
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/invocations")
            request.method = .POST
            if let type { request.headers.add(name: "Content-Type", value: type) }
            if let accept { request.headers.add(name: "Accept", value: accept) }
            request.body = .bytes(ByteBuffer(bytes: body))
            let response = try await client.execute(request, timeout: .seconds(120))
            var headers: [String: String] = [:]
            for header in response.headers { headers[header.name.lowercased()] = header.value }
            return (Int(response.status.code), headers, Array(buffer: try await response.body.collect(upTo: 64 << 20)))
        }
    }

    static let server: Task<Running, Error> = Task {
        var configuration = ServeConfiguration()
        configuration.host = "127.0.0.1"
        configuration.port = 0
        configuration.maxPayloadBytes = 2 << 20
        configuration.maxBatchDelay = .milliseconds(20)
        return try await Running(configuration: configuration)
    }

    static func photo(_ name: String) throws -> [UInt8] {
        try [UInt8](Data(contentsOf: TestData.shared.appendingPathComponent("data/images/\(name)")))
    }

    /// The top-5 classes of the model run directly (batch 1) on the image's preprocessed input.
    static func reference(_ bytes: [UInt8]) throws -> [Int] {
        let preprocessor = try StandardPreprocessor()
        var input = [Float](repeating: 0, count: 3 * 224 * 224)
        try bytes.withUnsafeBytes { raw in try input.withUnsafeMutableBufferPointer { try preprocessor.makeWorker(memoryShare: 256 << 20).preprocess(.encoded(raw), into: $0) } }
        return try logitsTopK(input)
    }

    nonisolated(unsafe) static let directModel = Result { try factory.makeModel(batchSize: 1, threads: 1) }
    static let directModelLock = NSLock()

    static func logitsTopK(_ input: [Float]) throws -> [Int] {
        let model = try directModel.get()
        var logits = [Float](repeating: 0, count: 1000)
        try directModelLock.withLock {
            try input.withUnsafeBufferPointer { inputs in try logits.withUnsafeMutableBufferPointer { try model.classify(inputs, count: 1, logits: $0) } }
        }
        return Classification.topK(logits[...], k: 5)
    }

    static func json(_ bytes: [UInt8]) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any] ?? [:]
    }

    static func lines(_ bytes: [UInt8]) -> [[String: Any]] {
        String(decoding: bytes, as: UTF8.self).split(separator: "\n").map { json(Array($0.utf8)) }
    }

    @Test("GET /ping, /execution-parameters; SageMaker's environment sets the parameters")
    func pingAndParameters() async throws {
        let running = try await Self.server.value
        #expect(try await running.get("/ping").status == 200)
        let parameters = Self.json(try await running.get("/execution-parameters").body)
        #expect(parameters["MaxPayloadInMB"] as? Int == 2 && parameters["BatchStrategy"] as? String == "MULTI_RECORD")

        var configuration = ServeConfiguration()
        try configuration.apply(environment: ["SAGEMAKER_BIND_TO_PORT": "9191", "SAGEMAKER_MAX_PAYLOAD_IN_MB": "20",
                                              "SAGEMAKER_BATCH_STRATEGY": "SINGLE_RECORD", "SAGEMAKER_MAX_CONCURRENT_TRANSFORMS": "8",
                                              "SAGEMAKER_BATCH": "true"])
        #expect(configuration.port == 9191 && configuration.maxPayloadBytes == 20 << 20 && configuration.maxConcurrentTransforms == 8)
        #expect(configuration.executionParameters["BatchStrategy"] as? String == "SINGLE_RECORD")
        #expect(throws: ServingError.self) { try configuration.apply(environment: ["SAGEMAKER_MAX_PAYLOAD_IN_MB": "lots"]) }
        #expect(throws: ServingError.self) { try configuration.apply(environment: ["SAGEMAKER_BATCH_STRATEGY": "EVERYTHING"]) }
    }

    @Test("one image as image/jpeg, image/png and application/x-image: the model's own top-5")
    func singleImages() async throws {
        let running = try await Self.server.value
        let jpeg = try Self.photo(Self.photos[0])
        let png = try Self.photo("photo-cat-chelsea.png")
        for (bytes, type) in [(jpeg, "image/jpeg"), (png, "image/png"), (png, "application/x-image"), (jpeg, "application/x-image")] {
            let answer = try await running.post(bytes, type: type)
            #expect(answer.status == 200 && answer.headers["content-type"] == "application/json", "\(type)")
            let prediction = (Self.json(answer.body)["predictions"] as? [[String: Any]])?.first
            #expect(prediction?["top_k"] as? [Int] == (try Self.reference(bytes)), "\(type)")
            #expect((prediction?["labels"] as? [String])?.first == running.labels[(prediction?["top_k"] as? [Int])?.first ?? 0])
        }
    }

    @Test("application/jsonlines in and out: records in order, a corrupt one is its own error line")
    func jsonLines() async throws {
        let running = try await Self.server.value
        var body = ""
        for name in Self.photos { body += "\"" + Data(try Self.photo(name)).base64EncodedString() + "\"\n" }
        body += "{\"b64\": \"" + Data("not an image".utf8).base64EncodedString() + "\"}\n"
        body += Data(try Self.photo(Self.photos[1])).base64EncodedString() + "\n"
        let answer = try await running.post(Array(body.utf8), type: "application/jsonlines", accept: "application/jsonlines")
        #expect(answer.status == 200 && answer.headers["content-type"] == "application/jsonlines")
        let lines = Self.lines(answer.body)
        try #require(lines.count == 5)
        for (line, name) in zip(lines.prefix(3) + [lines[4]], Self.photos + [Self.photos[1]]) {
            #expect(line["top_k"] as? [Int] == (try Self.reference(try Self.photo(name))), "\(name)")
        }
        #expect((lines[3]["error"] as? String)?.contains("not a JPEG or PNG") == true, "\(lines[3])")
        #expect(lines.map { $0["id"] as? String } == ["0", "1", "2", "3", "4"])
    }

    @Test("application/x-npy: a preprocessed float32 batch and uint8 pixels")
    func npy() async throws {
        let running = try await Self.server.value
        var inputs: [Float] = []
        let preprocessor = try StandardPreprocessor().makeWorker(memoryShare: 256 << 20)
        var expected: [[Int]] = []
        for name in Self.photos.prefix(2) {
            var input = [Float](repeating: 0, count: 3 * 224 * 224)
            try Self.photo(name).withUnsafeBytes { raw in try input.withUnsafeMutableBufferPointer { try preprocessor.preprocess(.encoded(raw), into: $0) } }
            inputs += input
            expected.append(try Self.logitsTopK(input))
        }
        let batch = try inputs.withUnsafeBytes { try NPY.encode($0, dtype: .float32, shape: [2, 3, 224, 224]) }
        let answer = try await running.post(batch, type: "application/x-npy")
        #expect(answer.status == 200)
        #expect((Self.json(answer.body)["predictions"] as? [[String: Any]])?.map { $0["top_k"] as? [Int] ?? [] } == expected)

        let pixels = [UInt8](repeating: 128, count: 64 * 48 * 3)
        let raw = try pixels.withUnsafeBytes { try NPY.encode($0, dtype: .uint8, shape: [64, 48, 3]) }
        #expect(try await running.post(raw, type: "application/x-npy").status == 200)
        let wrong = try [Float](repeating: 0, count: 12).withUnsafeBytes { try NPY.encode($0, dtype: .float32, shape: [3, 2, 2]) }
        let refused = try await running.post(wrong, type: "application/x-npy")
        #expect(refused.status == 400 && String(decoding: refused.body, as: UTF8.self).contains("expected float32 [3, 224, 224]"))
    }

    @Test("application/x-parquet: every row of the file's image column, ids from the file")
    func parquet() async throws {
        let running = try await Self.server.value
        let directory = try TestData.temporaryDirectory("serve-parquet")
        var generator = DatasetGenerator(images: 3)
        generator.rowsPerFile = 3
        generator.format = .jpeg
        let written = try generator.write(to: directory)
        let file = try #require(written.files.first)
        let answer = try await running.post(try [UInt8](Data(contentsOf: URL(fileURLWithPath: file))), type: "application/x-parquet",
                                            accept: "application/jsonlines")
        #expect(answer.status == 200)
        let lines = Self.lines(answer.body)
        #expect(lines.count == 3 && lines.allSatisfy { ($0["top_k"] as? [Int])?.count == 5 })
        #expect(lines.first?["id"] as? String == "request body:0" || (lines.first?["id"] as? String)?.hasSuffix(":0") == true)
        // Answered as Parquet: the columns of a `sluice run` part, the same classes as the JSON Lines answer.
        let asParquet = try await running.post(try [UInt8](Data(contentsOf: URL(fileURLWithPath: file))), type: "application/x-parquet",
                                               accept: "application/x-parquet")
        #expect(asParquet.status == 200 && asParquet.headers["content-type"] == "application/x-parquet")
        let reader = try ParquetFileReader(source: InMemorySource(name: "answer", bytes: asParquet.body))
        #expect(reader.schema.fields.map(\.name) == ["id", "top_k", "scores", "labels"])
        let parquetRows = try reader.readRows(rowGroup: 0).map(JSONRendering.render(row:))
        for (row, line) in zip(parquetRows, lines) {
            let object = Self.json(Array(row.utf8))
            #expect(object["top_k"] as? [Int] == line["top_k"] as? [Int] && object["id"] as? String == line["id"] as? String)
        }
        let truncated = try await running.post(Array("PAR1 not really".utf8), type: "application/x-parquet")
        #expect(truncated.status == 400)
    }

    @Test("413 before the body is read, 400 undecodable, 415 unsupported type, 406 unsupported answer; all JSON")
    func errors() async throws {
        let running = try await Self.server.value
        let large = try await running.post([UInt8](repeating: 0xFF, count: 3 << 20), type: "image/jpeg")
        #expect(large.status == 413 && String(decoding: large.body, as: UTF8.self).contains("MaxPayloadInMB"))
        let corrupt = try await running.post(Array("definitely not an image".utf8), type: "image/jpeg")
        #expect(corrupt.status == 400 && ((Self.json(corrupt.body)["error"] as? [String: Any])?["message"] as? String)?.contains("not a JPEG or PNG") == true)
        let csv = try await running.post(Array("1,2,3".utf8), type: "text/csv")
        #expect(csv.status == 415 && String(decoding: csv.body, as: UTF8.self).contains("application/x-npy"))
        let xml = try await running.post(try Self.photo(Self.photos[0]), type: "image/jpeg", accept: "application/xml")
        #expect(xml.status == 406)
        let empty = try await running.post([], type: "image/jpeg")
        #expect(empty.status == 400)
        // A Content-Type with parameters and no media type (found by fuzz-serve-request: it trapped).
        let parametersOnly = try await running.post(try Self.photo(Self.photos[0]), type: ";charset=binary")
        #expect(parametersOnly.status == 415)
        // An empty one is a missing one: an image.
        let untyped = try await running.post(try Self.photo(Self.photos[0]), type: "")
        #expect(untyped.status == 200)
        for answer in [large, corrupt, csv, xml, empty, parametersOnly] { #expect(answer.headers["content-type"] == "application/json") }
    }

    @Test("many clients at once: each gets its own image's answer, and the batcher joins their images")
    func concurrentClients() async throws {
        let running = try await Self.server.value
        let before = Self.json(try await running.get("/stats").body)
        let images = try Self.photos.map(Self.photo)
        let expected = try images.map(Self.reference)
        let answers = try await withThrowingTaskGroup(of: (Int, [Int]?).self) { group in
            for client in 0..<24 {
                group.addTask {
                    let answer = try await running.post(images[client % images.count], type: "image/jpeg")
                    return (client, (Self.json(answer.body)["predictions"] as? [[String: Any]])?.first?["top_k"] as? [Int])
                }
            }
            return try await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
        }
        for client in 0..<24 { #expect(answers[client] == expected[client % images.count], "client \(client)") }
        let after = Self.json(try await running.get("/stats").body)
        let images24 = (after["images"] as? Int ?? 0) - (before["images"] as? Int ?? 0)
        let batches = (after["batches"] as? Int ?? 0) - (before["batches"] as? Int ?? 0)
        #expect(images24 == 24 && batches < 24, "dynamic batching: \(images24) images in \(batches) model calls")
    }
}
