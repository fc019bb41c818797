/// Retries with jittered exponential backoff ("full jitter": a uniform delay between 0 and
/// min(maxDelay, baseDelay × 2^attempt)), on the failures that another attempt can fix: 5xx, 429 and
/// S3's throttling codes, timeouts, connection resets and responses cut short. A 4xx that cannot succeed
/// (403, 404, 400 ...) is never retried.
public struct RetryPolicy: Sendable, Equatable {
    /// Attempts in all, the first included.
    public var maxAttempts = 8
    public var baseDelaySeconds = 0.05
    public var maxDelaySeconds = 5.0

    public init(maxAttempts: Int = 8, baseDelaySeconds: Double = 0.05, maxDelaySeconds: Double = 5.0) {
        self.maxAttempts = maxAttempts
        self.baseDelaySeconds = baseDelaySeconds
        self.maxDelaySeconds = maxDelaySeconds
    }

    /// The delay before attempt `attempt + 1` (attempt counts from 1), with `random` uniform in 0..<1.
    func delay(afterAttempt attempt: Int, random: Double) -> Double {
        let ceiling = min(maxDelaySeconds, baseDelaySeconds * Double(1 << min(attempt - 1, 20)))
        return ceiling * random
    }

    /// Why a failed attempt may be retried; nil when it must not be.
    enum Reason: String, Sendable, CaseIterable {
        case throttled      // 429, 503 SlowDown, Throttling
        case serverError    // other 5xx
        case network        // connection refused/reset/closed, response cut short
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
