/// An access key pair, with the session token of temporary credentials. The secret never leaves this value
/// except into the signing key: `description`, `debugDescription`, `dump` and string interpolation all
/// show the access key id and where the credentials came from, never the secret or the token.
public struct AWSCredentials: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public let accessKeyID: String
    let secretAccessKey: String
    let sessionToken: String?
    /// Where they came from, for messages: "environment", "profile 'dev' in ~/.aws/credentials".
    public let source: String

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil, source: String = "explicit") {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken.flatMap { $0.isEmpty ? nil : $0 }
        self.source = source
    }


    public var description: String {
        "AWSCredentials(accessKeyID: \(accessKeyID), secret: <redacted>\(sessionToken == nil ? "" : ", session token: <redacted>"), from \(source))"
    }

    public var debugDescription: String { description }

    public var customMirror: Mirror {
        Mirror(self, children: ["accessKeyID": accessKeyID, "secretAccessKey": "<redacted>", "source": source],
               displayStyle: .struct)
    }
}

/// How requests are authenticated: signed with credentials, or sent unsigned (public buckets; the AWS
/// CLI's `--no-sign-request`).
public enum S3Authentication: Sendable, Equatable, CustomStringConvertible {
    case signed(AWSCredentials)
    case anonymous

    public var description: String {
        switch self {
        case .signed(let credentials): return credentials.description
        case .anonymous: return "anonymous (unsigned requests)"
        }
    }
}
