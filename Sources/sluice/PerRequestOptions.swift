import ArgumentParser
import Foundation
import Pipeline
import Serving

extension RequestBatching: ExpressibleByArgument {}

/// `run --strategy per-request`: how input files are split into requests, and where they go.
struct PerRequestOptions: ParsableArguments {
    @Option(help: "A server that speaks SageMaker's container contract (e.g. http://host:8080); default: `sluice serve` in this process on a loopback port.")
    var endpoint: String?

    @Option(help: "single-record: one image per request; multi-record: as many as fit in --max-payload-mb.")
    var batchStrategy = RequestBatching.multiRecord

    @Option(help: "Requests in flight at once.")
    var maxConcurrent = 4

    @Option(help: "Largest request body in MB.")
    var maxPayloadMb = 6

    func apply(to configuration: inout RunConfiguration) {
        configuration.requestBatching = batchStrategy
        configuration.maxConcurrentRequests = maxConcurrent
        configuration.maxPayloadBytes = maxPayloadMb << 20
    }

    /// The client, and the loopback server it talks to when no --endpoint was given.
    func server(preprocessor: StandardPreprocessor, model: any ModelFactory, labels: [String], batchSize: Int, topK: Int,
                modelThreads: Int?) throws -> (client: HTTPInvocationClient, loopback: LoopbackServer?) {
        if let endpoint { return (HTTPInvocationClient(endpoint: endpoint), nil) }
        var settings = ServeConfiguration()
        settings.host = "127.0.0.1"
        settings.port = 0
        settings.batchSize = batchSize
        settings.maxPayloadBytes = maxPayloadMb << 20
        settings.topK = topK
        let server = InferenceServer(configuration: settings, preprocessor: preprocessor, model: model, labels: labels,
                                     modelThreads: modelThreads ?? ProcessInfo.processInfo.activeProcessorCount, logLevel: .error)
        let loopback = try LoopbackServer(server: server)
        return (HTTPInvocationClient(endpoint: loopback.url), loopback)
    }
}
