import NIOConcurrencyHelpers

/// What an object store did: requests by kind, bytes each way, retries by reason. A snapshot is a plain
/// value; the live counters are shared by every reader and writer of one client.
public struct ObjectStoreStats: Sendable, Equatable, CustomStringConvertible {
    /// Completed HTTP requests (each attempt counts), by operation: GET, PUT, HEAD, LIST, DELETE, MPU.
    public var requests: [String: Int] = [:]
    /// Attempts that failed and were tried again, by reason: throttled, serverError, network, timeout.
    public var retries: [String: Int] = [:]
    /// Body bytes received (ranged GETs and whole-object GETs).
    public var bytesRead: Int64 = 0
    /// Body bytes sent (PUT and upload parts).
    public var bytesWritten: Int64 = 0
    /// Requests that failed for good (after retries, or not retryable).
    public var failures = 0
    /// Multipart uploads aborted after a failure or on request.
    public var abortedUploads = 0
    /// Read-ahead and prefetched bytes that were fetched but never read.
    public var bytesPrefetchedUnused: Int64 = 0

    public init() {}

    public var totalRequests: Int { requests.values.reduce(0, +) }
    public var totalRetries: Int { retries.values.reduce(0, +) }

    public var description: String {
        func list(_ counts: [String: Int]) -> String {
            counts.isEmpty ? "none" : counts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        }
        return "\(totalRequests) requests (\(list(requests))), \(totalRetries) retries (\(list(retries))), \(bytesRead) bytes read, \(bytesWritten) bytes written, \(failures) failures, \(abortedUploads) aborted uploads"
    }
}

/// The live counters (thread-safe).
final class StatsRecorder: Sendable {
    private let box = NIOLockedValueBox(ObjectStoreStats())

    func request(_ kind: String) { box.withLockedValue { $0.requests[kind, default: 0] += 1 } }
    func retry(_ reason: RetryPolicy.Reason) { box.withLockedValue { $0.retries[reason.rawValue, default: 0] += 1 } }
    func read(_ count: Int) { box.withLockedValue { $0.bytesRead += Int64(count) } }
    func wrote(_ count: Int) { box.withLockedValue { $0.bytesWritten += Int64(count) } }
    func failure() { box.withLockedValue { $0.failures += 1 } }
    func abortedUpload() { box.withLockedValue { $0.abortedUploads += 1 } }
    func unusedPrefetch(_ count: Int) { box.withLockedValue { $0.bytesPrefetchedUnused += Int64(count) } }
    var snapshot: ObjectStoreStats { box.withLockedValue { $0 } }
}
