import Foundation

/// Where the per-request strategy sends its requests: a server that speaks SageMaker's container contract
/// (`POST /invocations`), asked for each record's logits. Serving implements it over HTTP.
public protocol InvocationClient: Sendable {
    /// Posts one request body of `contentType` (retrying what can be retried); returns one answer per record,
    /// in order. Throws when the request failed as a whole after its retries.
    func invoke(body: [UInt8], contentType: String) throws -> [InvocationAnswer]
}

public enum InvocationAnswer: Sendable, Equatable {
    case logits([Float])
    /// The server could not classify this record (it says why).
    case failed(String)
}

/// How Batch Transform splits input objects into requests (`--batch-strategy`).
public enum RequestBatching: String, Sendable, CaseIterable, Codable {
    /// One record per request.
    case singleRecord = "single-record"
    /// As many records per request as fit in the payload limit.
    case multiRecord = "multi-record"
}
