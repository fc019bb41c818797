/// Every failure the ObjectStore module reports. An error names the object (bucket and key, or path), the
/// operation, the HTTP status and the S3 error code from the response's XML body where there is one, and
/// what to do about it where that is known. It never carries credentials: messages are built from
/// request coordinates and server answers only, and the request's headers are never printed.
public struct ObjectStoreError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable {
        /// The object, bucket or local file does not exist (404, NoSuchKey, NoSuchBucket, ENOENT).
        case notFound
        /// The server refused the credentials or their permissions (403, SignatureDoesNotMatch, AccessDenied).
        case accessDenied
        /// No usable credentials, or a credentials/config file that cannot be used.
        case credentials
        /// A URL, option or argument that cannot work.
        case invalidArgument
        /// The server answered with an error that retrying cannot fix (other 4xx).
        case requestFailed
        /// The server kept failing (5xx, throttling) or the network did, past the retry budget.
        case unavailable
        /// The endpoint could not be reached at all (connection refused, no route, unknown host, connect
        /// timeout), after a few quick attempts.
        case unreachable
        /// A response that does not say what S3 says it should (bad XML, wrong length, wrong range).
        case badResponse
        /// The object changed while it was being read (its ETag no longer matches: 412).
        case changed
        /// Local file system failure (open, write, rename).
        case io
        /// A write that was aborted (by the caller or after a failure): nothing was committed.
        case aborted
    }

    public var kind: Kind
    /// What was being done: "GET", "list", "complete multipart upload", "rename".
    public var operation: String
    /// `s3://bucket/key`, `s3://bucket/prefix` or a local path.
    public var object: String
    public var httpStatus: Int?
    /// The S3 error code from the XML body (`NoSuchBucket`, `SignatureDoesNotMatch`, `SlowDown`, ...).
    public var code: String?
    public var message: String
    /// S3's request id, for support tickets.
    public var requestID: String?
    /// How many attempts were made before giving up (1 when it was not retried).
    public var attempts: Int

    public init(_ kind: Kind, operation: String, object: String, httpStatus: Int? = nil, code: String? = nil,
                message: String, requestID: String? = nil, attempts: Int = 1) {
        self.kind = kind
        self.operation = operation
        self.object = object
        self.httpStatus = httpStatus
        self.code = code
        self.message = message
        self.requestID = requestID
        self.attempts = attempts
    }

    public var description: String {
        var text = "\(object): \(operation) failed"
        var details: [String] = []
        if let httpStatus { details.append("HTTP \(httpStatus)") }
        if let code { details.append(code) }
        if !details.isEmpty { text += " (" + details.joined(separator: " ") + ")" }
        text += ": \(message)"
        if attempts > 1 { text += " [after \(attempts) attempts]" }
        if let requestID { text += " [request id \(requestID)]" }
        return text
    }
}

extension ObjectStoreError {
    /// A hint for the codes whose fix is not obvious from S3's own message.
    static func hint(for code: String?) -> String? {
        switch code {
        case "SignatureDoesNotMatch":
            return "the secret access key does not match the access key id (check AWS_SECRET_ACCESS_KEY or the profile's aws_secret_access_key), or a proxy altered the request"
        case "InvalidAccessKeyId":
            return "the access key id is unknown to this endpoint (check the profile, AWS_ACCESS_KEY_ID and --endpoint-url)"
        case "NoSuchBucket":
            return "the bucket does not exist at this endpoint (check the bucket name, --endpoint-url and --region)"
        case "AuthorizationHeaderMalformed", "PermanentRedirect", "IllegalLocationConstraintException":
            return "the bucket is in another region: pass --region (or set AWS_REGION) to the bucket's region"
        case "RequestTimeTooSkewed":
            return "this machine's clock is off by more than 15 minutes"
        case "ExpiredToken", "TokenRefreshRequired":
            return "the session token has expired: refresh the temporary credentials"
        default:
            return nil
        }
    }
}
