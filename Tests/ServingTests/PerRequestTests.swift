import Foundation
import Parquet
import Pipeline
import Serving
import SluiceTestSupport
import Testing

/// `run --strategy per-request`: Batch Transform's model against `sluice serve`, checked against `streaming`.
@Suite("The per-request strategy", .serialized)
struct PerRequestTests {
    static let factory = ResNetFactory(model: "resnet18", weights: nil, precision: .fp32)

    static func dataset(_ format: DatasetGenerator.Format) throws -> String {
        let directory = try TestData.temporaryDirectory("per-request")
        var generator = DatasetGenerator(images: 10)
        generator.rowsPerFile = 4
        generator.height = 64
        generator.width = 48
        generator.format = format
        _ = try generator.write(to: directory + "/in")
        return directory
    }

    /// One image per model call everywhere, so that every path computes bit-identical logits.
    static func configuration(_ directory: String, output: String, strategy: RunConfiguration.Strategy,
                              batching: RequestBatching = .multiRecord) -> RunConfiguration {
        var configuration = RunConfiguration(inputs: [directory + "/in"], output: directory + "/" + output)
        configuration.strategy = strategy
        configuration.batchSize = 1
        configuration.keepLogits = true
        configuration.progress = false
        configuration.modelReplicas = 1
        configuration.modelThreads = 1
        configuration.requestBatching = batching
        configuration.maxPayloadBytes = 20_000  // multi-record requests of a few images
        configuration.maxConcurrentRequests = 3
        return configuration
    }

    static func server(port: Int = 0) -> InferenceServer {
        var settings = ServeConfiguration()
        settings.host = "127.0.0.1"
        settings.port = port
        settings.batchSize = 1
        return InferenceServer(configuration: settings, preprocessor: try! StandardPreprocessor(), model: factory,
                               labels: ClassLabels.imageNet, modelThreads: 1, logLevel: .error)
    }

    static func rows(_ output: String) throws -> [String] {
        let parts = try FileManager.default.contentsOfDirectory(atPath: output).filter { $0.hasSuffix(".parquet") }.sorted()
        return try parts.flatMap { part in
            let reader = try ParquetFileReader(path: output + "/" + part)
            return try (0..<reader.rowGroupCount).flatMap { try reader.readRows(rowGroup: $0).map(JSONRendering.render(row:)) }
        }
    }

    @Test("per-request output equals streaming's: ids, classes, bit-identical logits; tensors and JPEG bytes, both batch strategies",
          arguments: [DatasetGenerator.Format.raw, .jpeg])
    func sameAsStreaming(_ format: DatasetGenerator.Format) throws {
        let directory = try Self.dataset(format)
        let preprocessor = try StandardPreprocessor()
        _ = try Job(configuration: Self.configuration(directory, output: "streaming", strategy: .streaming), preprocessor: preprocessor,
                    model: Self.factory).run()
        let expected = try Self.rows(directory + "/streaming")
        #expect(expected.count == 10)
        let loopback = try LoopbackServer(server: Self.server())
        defer { loopback.stop() }
        for batching in RequestBatching.allCases {
            let output = "per-request-\(batching.rawValue)"
            let report = try Job(configuration: Self.configuration(directory, output: output, strategy: .perRequest, batching: batching),
                                 preprocessor: preprocessor, model: Self.factory,
                                 invocationClient: HTTPInvocationClient(endpoint: loopback.url)).run()
            #expect(report.succeeded && report.jobComplete)
            #expect(try Self.rows(directory + "/" + output) == expected, "\(format), \(batching)")
        }
    }

    @Test("the server killed and restarted mid-job: the client's retries finish it, nothing lost or duplicated")
    func serverRestart() throws {
        let directory = try Self.dataset(.raw)
        _ = try Job(configuration: Self.configuration(directory, output: "streaming", strategy: .streaming), preprocessor: try StandardPreprocessor(),
                    model: Self.factory).run()
        let firstServer = Self.server()
        let first = try LoopbackServer(server: firstServer)
        let port = Int(first.url.split(separator: ":").last ?? "") ?? 0
        var configuration = Self.configuration(directory, output: "restarted", strategy: .perRequest, batching: .singleRecord)
        configuration.maxConcurrentRequests = 1
        let client = HTTPInvocationClient(endpoint: first.url)
        client.baseDelay = 0.2
        client.maxAttempts = 30
        nonisolated(unsafe) var restarted: InferenceServer?
        let restarter = Thread {
            // Down after the first 3 images, for a second; then a new server on the same port.
            while (firstServer.stats?.images ?? 0) < 3 { Thread.sleep(forTimeInterval: 0.01) }
            first.stop()
            Thread.sleep(forTimeInterval: 1)
            let server = Self.server(port: port)
            restarted = server
            let second = try? LoopbackServer(server: server)
            Thread.sleep(forTimeInterval: 60)
            second?.stop()
        }
        restarter.start()
        let report = try Job(configuration: configuration, preprocessor: try StandardPreprocessor(), model: Self.factory,
                             invocationClient: client).run()
        let served = (firstServer.stats?.images ?? 0, restarted?.stats?.images ?? 0)
        #expect(served.0 >= 3 && served.0 < 10 && served.1 > 0, "images served before and after the restart: \(served)")
        #expect(report.succeeded && report.imagesFailed == 0)
        #expect(try Self.rows(directory + "/restarted") == (try Self.rows(directory + "/streaming")))
    }
}
