import Foundation
import Testing
@testable import ObjectStore

/// SigV4 against the published vectors: every intermediate string, not just the final signature.
struct SigV4Tests {
    struct Suite: Decodable {
        struct Case: Decodable {
            var name: String
            var request: String
            var normalize: Bool
            var sign_body: Bool
            var token: String?
            var omit_session_token: Bool?
            var canonical_request: String
            var string_to_sign: String
            var signature: String
        }
        var access_key_id: String
        var secret_access_key: String
        var region: String
        var service: String
        var unix_time: Int
        var cases: [Case]
    }

    static let suite: Suite = {
        let url = TestPaths.vectors.appendingPathComponent("sigv4-suite.json")
        // A missing or broken vector file fails the tests below with an empty list check.
        guard let data = try? Data(contentsOf: url), let suite = try? JSONDecoder().decode(Suite.self, from: data) else {
            return Suite(access_key_id: "", secret_access_key: "", region: "", service: "", unix_time: 0, cases: [])
        }
        return suite
    }()

    /// Method, raw path, decoded query, headers (continuation lines folded) and body of a raw request.
    static func parse(_ raw: String) -> (String, String, [(String, String)], [(String, String)], String) {
        let (head, body): (Substring, String) = {
            if let range = raw.range(of: "\n\n") { return (raw[..<range.lowerBound], String(raw[range.upperBound...])) }
            return (Substring(raw), "")
        }()
        var lines = head.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let requestLine = lines.removeFirst()
        let method = String(requestLine.prefix { $0 != " " })
        var target = String(requestLine.dropFirst(method.count + 1))
        if let suffix = target.range(of: " HTTP/1.1", options: .backwards) { target = String(target[..<suffix.lowerBound]) }
        let path = String(target.prefix { $0 != "?" })
        var query: [(String, String)] = []
        if let mark = target.firstIndex(of: "?") {
            for pair in target[target.index(after: mark)...].split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                query.append((percentDecode(String(parts[0]), plusIsSpace: false),
                              parts.count > 1 ? percentDecode(String(parts[1]), plusIsSpace: false) : ""))
            }
        }
        var headers: [(String, String)] = []
        for line in lines where !line.isEmpty {
            if line.first == " " || line.first == "\t", !headers.isEmpty {
                headers[headers.count - 1].1 += " " + line.trimmingCharacters(in: .whitespaces)
            } else if let colon = line.firstIndex(of: ":") {
                headers.append((String(line[..<colon]), String(line[line.index(after: colon)...])))
            }
        }
        return (method, path, query, headers, body)
    }

    @Test func suiteIsThere() {
        #expect(Self.suite.cases.count == 37)
    }

    @Test(arguments: suite.cases.map(\.name))
    func awsTestSuite(name: String) throws {
        let suite = Self.suite
        let testCase = try #require(suite.cases.first { $0.name == name })
        let (method, rawPath, query, headers, body) = Self.parse(testCase.request)
        let credentials = AWSCredentials(accessKeyID: suite.access_key_id, secretAccessKey: suite.secret_access_key,
                                         sessionToken: testCase.token)
        let signer = SigV4Signer(credentials: credentials, region: suite.region, service: suite.service)
        let path = SigV4Signer.encodePath(testCase.normalize ? SigV4Signer.normalizePath(rawPath) : rawPath)
        let payload = SigV4Signer.hexSHA256(Array(body.utf8))
        let signature = signer.sign(method: method, canonicalURI: path, query: query, headers: headers, payloadHash: payload,
                                    date: suite.unix_time, addContentHashHeader: testCase.sign_body,
                                    signSessionToken: testCase.omit_session_token != true)
        #expect(signature.canonicalRequest == testCase.canonical_request)
        #expect(signature.stringToSign == testCase.string_to_sign)
        #expect(signature.signature == testCase.signature)
        #expect(signature.authorization.hasPrefix("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders="))
        #expect(signature.headers.contains { $0.name == "x-amz-date" && $0.value == "20150830T123600Z" })
        if let token = testCase.token {
            #expect(signature.headers.contains { $0.name == "x-amz-security-token" && $0.value == token })
        }
    }

    struct S3Examples: Decodable {
        struct Case: Decodable {
            var name: String
            var method: String
            var key: String?
            var query: [[String]]
            var headers: [[String]]
            var body: String?
            var payload_sha256: String
            var canonical_request: String?
            var string_to_sign_hash: String?
            var signature: String
        }
        var access_key_id: String
        var secret_access_key: String
        var region: String
        var host: String
        var unix_time: Int
        var cases: [Case]
    }

    @Test func s3DocumentationExamples() throws {
        let data = try Data(contentsOf: TestPaths.vectors.appendingPathComponent("sigv4-s3-examples.json"))
        let examples = try JSONDecoder().decode(S3Examples.self, from: data)
        #expect(examples.cases.count == 4)
        let signer = SigV4Signer(credentials: AWSCredentials(accessKeyID: examples.access_key_id, secretAccessKey: examples.secret_access_key),
                                 region: examples.region, service: "s3")
        for example in examples.cases {
            if let body = example.body { #expect(SigV4Signer.hexSHA256(Array(body.utf8)) == example.payload_sha256, "\(example.name)") }
            let path = SigV4Signer.encodePath("/" + (example.key ?? ""))
            let headers = [("Host", examples.host)] + example.headers.map { ($0[0], $0[1]) }
            let signature = signer.sign(method: example.method, canonicalURI: path, query: example.query.map { ($0[0], $0[1]) },
                                        headers: headers, payloadHash: example.payload_sha256, date: examples.unix_time)
            if let canonical = example.canonical_request { #expect(signature.canonicalRequest == canonical, "\(example.name)") }
            if let hash = example.string_to_sign_hash { #expect(signature.stringToSign.hasSuffix("\n" + hash), "\(example.name)") }
            #expect(signature.signature == example.signature, "\(example.name)")
            #expect(signature.authorization.contains("Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request"))
        }
    }

    @Test func encodingKeepsUnreservedAndEncodesTheRest() {
        #expect(SigV4Signer.encode("a b+c&d=e/f~g", keepSlash: true) == "a%20b%2Bc%26d%3De/f~g")
        #expect(SigV4Signer.encode("a/b", keepSlash: false) == "a%2Fb")
        #expect(SigV4Signer.encode("é", keepSlash: false) == "%C3%A9")
        #expect(SigV4Signer.canonicalQuery([("b", "2"), ("a", "x y"), ("a", "1")]) == "a=1&a=x%20y&b=2")
    }

    @Test func timestampsAreUTC() {
        let (amz, day) = SigV4Signer.timestamps(1_440_938_160)
        #expect(amz == "20150830T123600Z")
        #expect(day == "20150830")
    }
}
