import Crypto
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// AWS Signature Version 4 for the `Authorization` header (AWS4-HMAC-SHA256), as the AWS General Reference
/// specifies it: canonical request → string to sign → HMAC chain from the secret → signature. The payload is
/// either signed (its SHA-256 in `x-amz-content-sha256`) or `UNSIGNED-PAYLOAD`.
public struct SigV4Signer: Sendable {
    public static let emptyPayloadSHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    public static let unsignedPayload = "UNSIGNED-PAYLOAD"

    public let credentials: AWSCredentials
    public let region: String
    public let service: String

    public init(credentials: AWSCredentials, region: String, service: String = "s3") {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// The intermediate strings are kept so that tests can compare each step with the published vectors.
    public struct Signature: Sendable {
        public var canonicalRequest: String
        public var stringToSign: String
        public var signature: String
        public var authorization: String
        /// Headers to send besides the caller's: `x-amz-date`, `x-amz-content-sha256` (when asked for),
        /// `x-amz-security-token` (temporary credentials) and `Authorization`.
        public var headers: [(name: String, value: String)]
    }

    /// Signs a request.
    /// - Parameters:
    ///   - canonicalURI: the path exactly as sent, already URI-encoded (`SigV4Signer.encodePath`).
    ///   - query: decoded query parameters; they are encoded and sorted here (send `canonicalQuery(query)`).
    ///   - headers: the headers to sign, `host` among them (names in any case).
    ///   - payloadHash: hex SHA-256 of the body, or `UNSIGNED-PAYLOAD`.
    ///   - addContentHashHeader: S3 requires `x-amz-content-sha256`; other services do not use it.
    ///   - signSessionToken: S3 signs `x-amz-security-token`; a few services expect it added after signing.
    public func sign(method: String, canonicalURI: String, query: [(String, String)], headers: [(String, String)],
                     payloadHash: String, date secondsSince1970: Int, addContentHashHeader: Bool = true,
                     signSessionToken: Bool = true) -> Signature {
        let (amzDate, day) = Self.timestamps(secondsSince1970)
        var signed = headers
        var extra: [(name: String, value: String)] = [("x-amz-date", amzDate)]
        if addContentHashHeader { extra.append(("x-amz-content-sha256", payloadHash)) }
        if signSessionToken, let token = credentials.sessionToken { extra.append(("x-amz-security-token", token)) }
        signed += extra.map { ($0.name, $0.value) }

        let (canonicalHeaders, signedHeaders) = Self.canonicalHeaders(signed)
        let canonicalRequest = [method, canonicalURI, Self.canonicalQuery(query), canonicalHeaders, signedHeaders, payloadHash]
            .joined(separator: "\n")
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, Self.hexSHA256(Array(canonicalRequest.utf8))]
            .joined(separator: "\n")
        let key = signingKey(day: day)
        let signature = Self.hex(Array(HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: key)))
        let authorization = "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)"
        if !signSessionToken, let token = credentials.sessionToken { extra.append(("x-amz-security-token", token)) }
        extra.append(("Authorization", authorization))
        return Signature(canonicalRequest: canonicalRequest, stringToSign: stringToSign, signature: signature,
                         authorization: authorization, headers: extra)
    }

    private func signingKey(day: String) -> SymmetricKey {
        func mac(_ key: SymmetricKey, _ text: String) -> SymmetricKey {
            SymmetricKey(data: Array(HMAC<SHA256>.authenticationCode(for: Array(text.utf8), using: key)))
        }
        let secret = SymmetricKey(data: Array("AWS4\(credentials.secretAccessKey)".utf8))
        return mac(mac(mac(mac(secret, day), region), service), "aws4_request")
    }

    // MARK: canonical forms

    /// `name:value` lines (lowercased names, trimmed values with inner runs of spaces collapsed, repeated
    /// headers joined by commas in order), sorted by name, each ending in a newline; and the names joined by `;`.
    static func canonicalHeaders(_ headers: [(String, String)]) -> (String, String) {
        var byName: [String: [String]] = [:]
        var order: [String] = []
        for (name, value) in headers {
            let lower = name.lowercased()
            if byName[lower] == nil { order.append(lower) }
            byName[lower, default: []].append(collapseSpaces(value))
        }
        let names = order.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        var lines = ""
        for name in names { lines += "\(name):\(byName[name, default: []].joined(separator: ","))\n" }
        return (lines, names.joined(separator: ";"))
    }

    private static func collapseSpaces(_ value: String) -> String {
        var out = ""
        var pendingSpace = false
        for character in value.trimmingSpaces() {
            if character == " " || character == "\t" || character == "\n" {
                pendingSpace = true
            } else {
                if pendingSpace { out.append(" ") }
                pendingSpace = false
                out.append(character)
            }
        }
        return out
    }

    /// Query parameters URI-encoded (every byte but the unreserved ones), sorted by key then value, `k=v`
    /// joined by `&`. A parameter without a value is `k=`.
    public static func canonicalQuery(_ query: [(String, String)]) -> String {
        query.map { (encode($0.0, keepSlash: false), encode($0.1, keepSlash: false)) }
            .sorted { $0.0 == $1.0 ? Array($0.1.utf8).lexicographicallyPrecedes(Array($1.1.utf8)) : Array($0.0.utf8).lexicographicallyPrecedes(Array($1.0.utf8)) }
            .map { "\($0.0)=\($0.1)" }
            .joined(separator: "&")
    }

    /// A path encoded once, segment by segment (S3 keys: `/bucket/key` with the key's own slashes kept).
    public static func encodePath(_ rawPath: String) -> String {
        encode(rawPath, keepSlash: true)
    }

    /// Removes `.` and `..` segments and empty segments, as the signature of services other than S3 expects
    /// (S3 signs the path exactly as sent).
    static func normalizePath(_ rawPath: String) -> String {
        var segments: [Substring] = []
        for segment in rawPath.split(separator: "/", omittingEmptySubsequences: true) {
            if segment == "." { continue }
            if segment == ".." { _ = segments.popLast(); continue }
            segments.append(segment)
        }
        let trailingSlash = rawPath.hasSuffix("/") && !segments.isEmpty
        return "/" + segments.joined(separator: "/") + (trailingSlash ? "/" : "")
    }

    /// RFC 3986 percent-encoding of everything but `A-Z a-z 0-9 - . _ ~` (and `/` when `keepSlash`).
    public static func encode(_ text: String, keepSlash: Bool) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        let digits = Array("0123456789ABCDEF".utf8)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.append(byte)
            case UInt8(ascii: "/") where keepSlash:
                out.append(byte)
            default:
                out += [UInt8(ascii: "%"), digits[Int(byte >> 4)], digits[Int(byte & 0xF)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    // MARK: hashing and time

    public static func hexSHA256(_ bytes: [UInt8]) -> String { hex(Array(SHA256.hash(data: bytes))) }

    public static func hexSHA256(_ bytes: UnsafeRawBufferPointer) -> String { hex(Array(SHA256.hash(data: bytes))) }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes { out += [digits[Int(byte >> 4)], digits[Int(byte & 0xF)]] }
        return String(decoding: out, as: UTF8.self)
    }

    /// `20150830T123600Z` and `20150830` for a Unix time, in UTC.
    static func timestamps(_ seconds: Int) -> (String, String) {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let day = "\(parts.tm_year + 1900)\(two(parts.tm_mon + 1))\(two(parts.tm_mday))"
        return ("\(day)T\(two(parts.tm_hour))\(two(parts.tm_min))\(two(parts.tm_sec))Z", day)
    }
}
