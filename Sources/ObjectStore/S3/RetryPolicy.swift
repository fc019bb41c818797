/// Retries with jittered exponential backoff ("full jitter": a uniform delay between 0 and
/// min(maxDelay, baseDelay × 2^attempt)), on the failures that another attempt can fix: 5xx, 429 and
/// S3's throttling codes, timeouts, connection resets and responses cut short. A 4xx that cannot succeed
/// (403, 404, 400 ...) is never retried. An endpoint that cannot be reached at all (connection refused,
/// no route, DNS failure) gets a few quick attempts only: nothing listens there, and waiting will not help.
public struct RetryPolicy: Sendable, Equatable {
    /// Attempts in all, the first included.
    public var maxAttempts = 8
    public var baseDelaySeconds = 0.05
    public var maxDelaySeconds = 5.0
    /// Attempts in all when connecting fails (refused, unreachable, unknown host, connect timeout).
    public var maxConnectAttempts = 3
    /// The first delay after a failed connect; it doubles (0.5 s, 1 s: about 1.5 s in all by default).
    public var connectRetryDelaySeconds = 0.5

    public init(maxAttempts: Int = 8, baseDelaySeconds: Double = 0.05, maxDelaySeconds: Double = 5.0,
                maxConnectAttempts: Int = 3, connectRetryDelaySeconds: Double = 0.5) {
        self.maxAttempts = maxAttempts
        self.baseDelaySeconds = baseDelaySeconds
        self.maxDelaySeconds = maxDelaySeconds
        self.maxConnectAttempts = maxConnectAttempts
        self.connectRetryDelaySeconds = connectRetryDelaySeconds
    }

    /// The delay before attempt `attempt + 1` (attempt counts from 1), with `random` uniform in 0..<1.
    func delay(afterAttempt attempt: Int, random: Double) -> Double {
        let ceiling = min(maxDelaySeconds, baseDelaySeconds * Double(1 << min(attempt - 1, 20)))
        return ceiling * random
    }

    /// Whether attempt `attempt` (counting from 1) that failed for `reason` may be followed by another.
    func allowsRetry(afterAttempt attempt: Int, reason: Reason) -> Bool {
        attempt < (reason == .connect ? min(maxConnectAttempts, maxAttempts) : maxAttempts)
    }

    /// The delay before the next attempt after one that failed for `reason`.
    func delay(afterAttempt attempt: Int, reason: Reason, random: Double) -> Double {
        guard reason == .connect else { return delay(afterAttempt: attempt, random: random) }
        // Half fixed, half jitter: shards started together still spread out, and the total stays bounded.
        return connectRetryDelaySeconds * Double(1 << min(attempt - 1, 10)) * (0.5 + random / 2)
    }

    /// Why a failed attempt may be retried; nil when it must not be.
    enum Reason: String, Sendable, CaseIterable {
        case throttled      // 429, 503 SlowDown, Throttling
        case serverError    // other 5xx
        case network        // connection reset/closed, response cut short
        case connect        // connection refused, no route, unknown host, connect timeout
        case timeout        // connect or read timeout
    }

    static func reason(httpStatus: Int, code: String?) -> Reason? {
        switch code {
        case "SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException":
            return .throttled
        case "RequestTimeout", "InternalError", "ServiceUnavailable", "OperationAborted":
            return httpStatus == 409 ? nil : .serverError
        default:
            break
        }
        if httpStatus == 429 || httpStatus == 503 { return .throttled }
        if httpStatus >= 500 { return .serverError }
        return nil
    }
}
