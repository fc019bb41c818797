import Foundation

/// How `sluice serve` runs: its own flags, overridden by what SageMaker passes in the environment.
public struct ServeConfiguration: Sendable {
    public enum BatchStrategy: String, Sendable, Codable {
        case singleRecord = "SINGLE_RECORD"
        case multiRecord = "MULTI_RECORD"
    }

    public var host = "0.0.0.0"
    public var port = 8080
    /// Images per model call at most (dynamic batching fills calls up to this).
    public var batchSize = 32
    /// How long the first image of a batch waits for others before the batch runs.
    public var maxBatchDelay: Duration = .milliseconds(5)
    /// Largest request body; larger ones get 413 before they are read in full.
    public var maxPayloadBytes = 6 << 20
    /// Requests SageMaker may send at once (advertised by /execution-parameters).
    public var maxConcurrentTransforms = 4
    public var batchStrategy = BatchStrategy.multiRecord
    /// Images waiting for the model at most; more get 503 with Retry-After.
    public var maxQueuedImages = 1024
    public var topK = 5

    public init() {}

    /// Applies SageMaker's variables: SAGEMAKER_BIND_TO_PORT, SAGEMAKER_MAX_PAYLOAD_IN_MB,
    /// SAGEMAKER_BATCH_STRATEGY, SAGEMAKER_MAX_CONCURRENT_TRANSFORMS (and SAGEMAKER_BATCH, which only says
    /// that this is a batch transform job). A malformed value is an error naming the variable.
    public mutating func apply(environment: [String: String]) throws {
        func integer(_ name: String, in range: ClosedRange<Int>) throws -> Int? {
            guard let text = environment[name] else { return nil }
            guard let value = Int(text.trimmingCharacters(in: .whitespaces)), range.contains(value) else {
                throw ServingError.configuration("\(name)='\(text.prefix(40))' is not an integer in \(range.lowerBound)...\(range.upperBound)")
            }
            return value
        }
        if let port = try integer("SAGEMAKER_BIND_TO_PORT", in: 1...65535) { self.port = port }
        if let megabytes = try integer("SAGEMAKER_MAX_PAYLOAD_IN_MB", in: 1...100_000) { maxPayloadBytes = megabytes << 20 }
        if let transforms = try integer("SAGEMAKER_MAX_CONCURRENT_TRANSFORMS", in: 1...10_000) { maxConcurrentTransforms = transforms }
        if let text = environment["SAGEMAKER_BATCH_STRATEGY"] {
            guard let strategy = BatchStrategy(rawValue: text.uppercased().replacingOccurrences(of: "-", with: "_")) else {
                throw ServingError.configuration("SAGEMAKER_BATCH_STRATEGY='\(text.prefix(40))' is not SINGLE_RECORD or MULTI_RECORD")
            }
            batchStrategy = strategy
        }
    }

    /// The body of GET /execution-parameters.
    public var executionParameters: [String: Any] {
        ["MaxConcurrentTransforms": maxConcurrentTransforms, "BatchStrategy": batchStrategy.rawValue,
         "MaxPayloadInMB": max(1, maxPayloadBytes >> 20)]
    }
}
