import Foundation

/// What the user asked for (command-line flags, or code); `S3Configuration.resolve` fills the rest from the
/// environment and the AWS config files, the way the AWS CLI does.
public struct S3Options: Sendable {
    /// `--endpoint-url`: an S3-compatible server (MinIO, Ceph, R2, GCS's XML API, a local moto).
    public var endpointURL: String?
    public var region: String?
    /// `--profile`: when given, the profile's keys win over the environment's.
    public var profile: String?
    /// `--no-sign-request`: send requests unsigned (public buckets).
    public var noSignRequest = false
    public var addressing: S3Addressing?
    /// Credentials given in code; they win over everything else.
    public var credentials: AWSCredentials?
    public var tuning = S3Tuning()

    public init(endpointURL: String? = nil, region: String? = nil, profile: String? = nil, noSignRequest: Bool = false,
                addressing: S3Addressing? = nil, credentials: AWSCredentials? = nil, tuning: S3Tuning = S3Tuning()) {
        self.endpointURL = endpointURL
        self.region = region
        self.profile = profile
        self.noSignRequest = noSignRequest
        self.addressing = addressing
        self.credentials = credentials
        self.tuning = tuning
    }
}

/// Path style (`https://host/bucket/key`) or virtual-hosted style (`https://bucket.host/key`).
public enum S3Addressing: String, Sendable, Equatable {
    /// Virtual-hosted on AWS's own endpoints when the bucket name allows it, path style elsewhere.
    case auto
    case path
    case virtual
}

/// How hard the client works the network. The defaults suit one machine reading from S3 in its region.
public struct S3Tuning: Sendable, Equatable {
    /// At most this many HTTP requests in flight per client (all buckets, all readers and writers).
    public var maxConcurrentRequests = 16
    /// Ranged GETs larger than this are split into parts fetched in parallel.
    public var readPartSize = 8 << 20
    /// A reader that reads sequentially gets this many bytes fetched ahead of it.
    public var readAheadBytes = 16 << 20
    /// Ranges closer than this are fetched in one request by `prefetch` (the gap is read and dropped).
    public var coalesceGap = 1 << 20
    /// Bytes a reader may hold in fetched-but-unread buffers before prefetch hints are ignored.
    public var maxBufferedBytesPerReader = 256 << 20
    /// Multipart upload part size (S3's minimum is 5 MiB, except for the last part).
    public var uploadPartSize = 8 << 20
    /// Objects up to this size are written with a single PUT.
    public var singlePutThreshold = 8 << 20
    /// Parts of one upload in flight at once (each holds one part's bytes in memory).
    public var uploadConcurrency = 4
    /// Sign the payload's SHA-256 (integrity end to end) or send `UNSIGNED-PAYLOAD` (less CPU; TLS still
    /// protects the bytes on https endpoints).
    public var signPayload = true
    public var retry = RetryPolicy()
    public var connectTimeoutSeconds = 10.0
    /// Longest silence while a response is expected or streaming before the attempt is retried.
    public var readTimeoutSeconds = 30.0
    /// NIO event loop threads of the client: the HTTP I/O runs there, never on Swift's cooperative pool.
    public var eventLoopThreads = 1

    public init() {}
}

/// A fully resolved S3 set-up: where to send requests, how to sign them, how to address buckets.
public struct S3Configuration: Sendable, CustomStringConvertible {
    public var endpoint: S3Endpoint
    /// True when the endpoint is AWS's default for the region (not `--endpoint-url` or the environment).
    public var isDefaultAWSEndpoint: Bool
    public var region: String
    public var authentication: S3Authentication
    public var addressing: S3Addressing
    public var tuning: S3Tuning

    public init(endpoint: S3Endpoint, region: String, authentication: S3Authentication,
                addressing: S3Addressing = .auto, isDefaultAWSEndpoint: Bool = false, tuning: S3Tuning = S3Tuning()) {
        self.endpoint = endpoint
        self.region = region
        self.authentication = authentication
        self.addressing = addressing
        self.isDefaultAWSEndpoint = isDefaultAWSEndpoint
        self.tuning = tuning
    }

    public var description: String {
        "S3Configuration(endpoint: \(endpoint), region: \(region), addressing: \(addressing.rawValue), auth: \(authentication))"
    }

    /// Resolves `options` against the environment and the AWS files, in the AWS CLI's order:
    /// credentials from code, then `--profile`'s, then `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/`AWS_SESSION_TOKEN`,
    /// then `AWS_PROFILE`'s (or `default`) from `~/.aws/credentials` and then `~/.aws/config`;
    /// region from `--region`, `AWS_REGION`, `AWS_DEFAULT_REGION`, the profile's `region`, else us-east-1;
    /// endpoint from `--endpoint-url`, `AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL`, the profile's
    /// `endpoint_url` (or `s3 = endpoint_url = ...`), else AWS's regional endpoint.
    public static func resolve(_ options: S3Options = S3Options(),
                               environment: [String: String] = ProcessInfo.processInfo.environment,
                               homeDirectory: String? = nil) throws -> S3Configuration {
        func env(_ name: String) -> String? {
            guard let value = environment[name]?.trimmingSpaces(), !value.isEmpty else { return nil }
            return String(value)
        }
        let home = homeDirectory ?? env("HOME") ?? NSHomeDirectory()
        let credentialsPath = env("AWS_SHARED_CREDENTIALS_FILE").map { expandTilde($0, home: home) } ?? "\(home)/.aws/credentials"
        let configPath = env("AWS_CONFIG_FILE").map { expandTilde($0, home: home) } ?? "\(home)/.aws/config"
        let profileName = options.profile ?? env("AWS_PROFILE") ?? env("AWS_DEFAULT_PROFILE") ?? "default"
        let profileWasChosen = options.profile != nil || env("AWS_PROFILE") != nil || env("AWS_DEFAULT_PROFILE") != nil

        let credentialsFile = try readConfigFile(credentialsPath)
        let configFile = try readConfigFile(configPath)
        let fromCredentials = credentialsFile?.credentialsProfile(profileName)
        let fromConfig = configFile?.configProfile(profileName)
        if profileWasChosen, fromCredentials == nil, fromConfig == nil, options.credentials == nil, !options.noSignRequest,
           options.profile != nil || (env("AWS_ACCESS_KEY_ID") == nil) {
            throw ObjectStoreError(.credentials, operation: "load credentials", object: "profile '\(profileName)'",
                                   message: "the profile '\(profileName)' is in neither \(credentialsPath) nor \(configPath)")
        }

        // Region.
        let region = options.region ?? env("AWS_REGION") ?? env("AWS_DEFAULT_REGION")
            ?? fromConfig?["region"] ?? fromCredentials?["region"] ?? "us-east-1"

        // Endpoint.
        let ignoreConfiguredEndpoints = env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")?.lowercased() == "true"
        var endpointText = options.endpointURL
        if endpointText == nil, !ignoreConfiguredEndpoints {
            endpointText = env("AWS_ENDPOINT_URL_S3") ?? env("AWS_ENDPOINT_URL")
                ?? fromConfig?["s3.endpoint_url"] ?? fromConfig?["endpoint_url"]
        }
        let endpoint: S3Endpoint
        if let endpointText {
            endpoint = try S3Endpoint(parsing: endpointText)
        } else {
            let suffix = region.hasPrefix("cn-") ? "amazonaws.com.cn" : "amazonaws.com"
            endpoint = S3Endpoint(scheme: "https", host: "s3.\(region).\(suffix)", port: nil)
        }

        // Addressing.
        var addressing = options.addressing ?? .auto
        if options.addressing == nil, let style = fromConfig?["s3.addressing_style"] {
            addressing = S3Addressing(rawValue: style.lowercased()) ?? .auto
        }

        // Credentials.
        let authentication: S3Authentication
        if options.noSignRequest {
            authentication = .anonymous
        } else if let explicit = options.credentials {
            authentication = .signed(explicit)
        } else if options.profile == nil, let key = env("AWS_ACCESS_KEY_ID"), let secret = env("AWS_SECRET_ACCESS_KEY") {
            authentication = .signed(AWSCredentials(accessKeyID: key, secretAccessKey: secret,
                                                    sessionToken: env("AWS_SESSION_TOKEN") ?? env("AWS_SECURITY_TOKEN"),
                                                    source: "environment variables"))
        } else if let profile = fromCredentials, let credentials = staticCredentials(profile, source: "profile '\(profileName)' in \(credentialsPath)") {
            authentication = .signed(credentials)
        } else if let profile = fromConfig, let credentials = staticCredentials(profile, source: "profile '\(profileName)' in \(configPath)") {
            authentication = .signed(credentials)
        } else {
            let merged = (fromConfig ?? [:]).merging(fromCredentials ?? [:]) { $1 }
            let unsupported = ["role_arn", "credential_process", "sso_session", "sso_start_url", "web_identity_token_file"]
                .filter { merged[$0] != nil }
            if let feature = unsupported.first {
                throw ObjectStoreError(.credentials, operation: "load credentials", object: "profile '\(profileName)'",
                                       message: "the profile uses \(feature), which Sluice does not support; export temporary keys with `aws configure export-credentials --profile \(profileName) --format env` and run again")
            }
            if merged["aws_access_key_id"] != nil || merged["aws_secret_access_key"] != nil {
                throw ObjectStoreError(.credentials, operation: "load credentials", object: "profile '\(profileName)'",
                                       message: "the profile has only one of aws_access_key_id and aws_secret_access_key")
            }
            throw ObjectStoreError(.credentials, operation: "load credentials", object: "s3",
                                   message: "no credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE with keys in \(credentialsPath) or \(configPath); for a public bucket pass --no-sign-request")
        }

        return S3Configuration(endpoint: endpoint, region: region, authentication: authentication, addressing: addressing,
                               isDefaultAWSEndpoint: endpointText == nil, tuning: options.tuning)
    }

    private static func staticCredentials(_ profile: [String: String], source: String) -> AWSCredentials? {
        guard let key = profile["aws_access_key_id"], !key.isEmpty,
              let secret = profile["aws_secret_access_key"], !secret.isEmpty else { return nil }
        return AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: profile["aws_session_token"], source: source)
    }

    private static func readConfigFile(_ path: String) throws -> AWSConfigFile? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ObjectStoreError(.credentials, operation: "read", object: path, message: "the file exists but cannot be read")
        }
        return AWSConfigFile(parsing: String(decoding: data, as: UTF8.self))
    }

    private static func expandTilde(_ path: String, home: String) -> String {
        path.hasPrefix("~/") ? home + path.dropFirst() : path
    }

    /// Whether a request for `bucket` uses virtual-hosted addressing.
    func usesVirtualHost(for bucket: String) -> Bool {
        switch addressing {
        case .path: return false
        case .virtual: return true
        case .auto: return isDefaultAWSEndpoint && Self.isDNSCompatibleWithoutDots(bucket)
        }
    }

    static func isDNSCompatibleWithoutDots(_ bucket: String) -> Bool {
        guard (3...63).contains(bucket.utf8.count), let first = bucket.utf8.first, let last = bucket.utf8.last,
              first != UInt8(ascii: "-"), last != UInt8(ascii: "-") else { return false }
        return bucket.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == UInt8(ascii: "-") }
    }
}

/// Scheme, host and port of an S3 endpoint.
public struct S3Endpoint: Sendable, Equatable, CustomStringConvertible {
    public var scheme: String
    public var host: String
    public var port: Int?

    public init(scheme: String, host: String, port: Int?) {
        self.scheme = scheme
        self.host = host
        self.port = port
    }

    public init(parsing text: String) throws {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
              scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty else {
            throw ObjectStoreError(.invalidArgument, operation: "parse endpoint", object: text,
                                   message: "an endpoint URL looks like https://host[:port] or http://127.0.0.1:9000")
        }
        guard components.path.isEmpty || components.path == "/" else {
            throw ObjectStoreError(.invalidArgument, operation: "parse endpoint", object: text,
                                   message: "the endpoint URL must not have a path (the bucket goes in the s3:// URL)")
        }
        self.init(scheme: scheme, host: host, port: components.port)
    }

    /// The Host header's value: the port only when it is not the scheme's default.
    var hostHeader: String { hostHeader(prefix: nil) }

    func hostHeader(prefix: String?) -> String {
        let bracketed = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        let name = prefix.map { "\($0).\(bracketed)" } ?? bracketed
        guard let port, !(scheme == "http" && port == 80), !(scheme == "https" && port == 443) else { return name }
        return "\(name):\(port)"
    }

    public var description: String {
        "\(scheme)://\(host)\(port.map { ":\($0)" } ?? "")"
    }
}
