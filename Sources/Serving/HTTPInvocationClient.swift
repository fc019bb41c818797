import AsyncHTTPClient
import Foundation
import NIOCore
import Pipeline

/// The per-request strategy's client: posts request bodies to a server that speaks SageMaker's container
/// contract and asks for every record's logits (custom attribute `logits=true`, answers as JSON Lines).
/// Connection failures, timeouts, 5xx and 503 are retried with exponential backoff and jitter (503's
/// Retry-After is honoured); other 4xx answers are final.
public final class HTTPInvocationClient: InvocationClient, @unchecked Sendable {
    public let endpoint: String
    public var maxAttempts = 8
    public var baseDelay = 0.1
    public var maxDelay = 5.0
    public var timeout: TimeAmount = .seconds(300)
    private let client = HTTPClient(eventLoopGroupProvider: .singleton)

    /// `endpoint`: the server's base URL (`http://host:8080`) or its invocations URL.
    public init(endpoint: String) {
        var base = endpoint
        while base.hasSuffix("/") { base.removeLast() }
        self.endpoint = base.hasSuffix("/invocations") ? base : base + "/invocations"
    }

    deinit { try? client.syncShutdown() }

    private struct Line: Decodable {
        var logits: [Float]?
        var error: String?
    }

    public func invoke(body: [UInt8], contentType: String) throws -> [InvocationAnswer] {
        var attempt = 0
        while true {
            attempt += 1
            let outcome: (status: UInt, retryAfter: Double?, body: [UInt8])
            do {
                outcome = try post(body, contentType: contentType)
            } catch {
                guard attempt < maxAttempts else { throw ServingError.modelFailed("\(endpoint): \(attempt) attempts failed; the last: \(error)") }
                Thread.sleep(forTimeInterval: backoff(attempt))
                continue
            }
            switch outcome.status {
            case 200:
                return try parse(outcome.body)
            case 500..<600:
                guard attempt < maxAttempts else {
                    throw ServingError.modelFailed("\(endpoint): HTTP \(outcome.status) after \(attempt) attempts: \(Self.message(outcome.body))")
                }
                Thread.sleep(forTimeInterval: max(outcome.retryAfter ?? 0, backoff(attempt)))
            default:
                throw ServingError.badRequest("\(endpoint): HTTP \(outcome.status): \(Self.message(outcome.body))")
            }
        }
    }

    private func post(_ body: [UInt8], contentType: String) throws -> (status: UInt, retryAfter: Double?, body: [UInt8]) {
        var request = try HTTPClient.Request(url: endpoint, method: .POST)
        request.headers.add(name: "Content-Type", value: contentType)
        request.headers.add(name: "Accept", value: "application/jsonlines")
        request.headers.add(name: "X-Amzn-SageMaker-Custom-Attributes", value: "logits=true")
        request.body = .bytes(body)
        let response = try client.execute(request: request, deadline: .now() + timeout).wait()
        var buffer = response.body ?? ByteBuffer()
        return (response.status.code, response.headers.first(name: "Retry-After").flatMap(Double.init),
                buffer.readBytes(length: buffer.readableBytes) ?? [])
    }

    private func parse(_ body: [UInt8]) throws -> [InvocationAnswer] {
        let decoder = JSONDecoder()
        return try body.split(separator: 0x0A).map { line in
            let record: Line
            do {
                record = try decoder.decode(Line.self, from: Data(line))
            } catch {
                throw ServingError.badRequest("\(endpoint): an answer line is not JSON: \(String(decoding: line.prefix(200), as: UTF8.self))")
            }
            if let logits = record.logits { return .logits(logits) }
            return .failed(record.error ?? "the server gave neither logits nor an error")
        }
    }

    /// Exponential backoff with full jitter.
    private func backoff(_ attempt: Int) -> Double {
        Double.random(in: 0...min(maxDelay, baseDelay * pow(2, Double(attempt - 1))))
    }

    private static func message(_ body: [UInt8]) -> String {
        String(decoding: body.prefix(500), as: UTF8.self)
    }
}
