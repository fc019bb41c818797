import Foundation
import NIOHTTP1
import NIOPosix
import Testing
@testable import ObjectStore

/// Answers a hostile or broken S3-compatible server may give, served by the loopback proxy without an
/// upstream, and an endpoint where nothing listens.
@Suite(.serialized)
struct HostileServerTests {
    /// A client of `endpoint`, unsigned (nothing checks signatures here).
    static func client(_ endpoint: String, tuning: S3Tuning = .forTests) throws -> S3Client {
        S3Client(configuration: S3Configuration(endpoint: try S3Endpoint(parsing: endpoint), region: "us-east-1",
                                                authentication: .anonymous, addressing: .path, tuning: tuning))
    }

    static func listing(keys: [String], truncated: Bool, token: String?) -> String {
        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListBucketResult><Name>b</Name><EncodingType>url</EncodingType>"
        xml += "<IsTruncated>\(truncated)</IsTruncated>"
        if let token { xml += "<NextContinuationToken>\(token)</NextContinuationToken>" }
        for key in keys { xml += "<Contents><Key>\(key)</Key><Size>3</Size></Contents>" }
        return xml + "</ListBucketResult>"
    }

    @Test func aRepeatedContinuationTokenEndsTheListing() async throws {
        try await onWorkerThread {
            // Bounded: after 50 pages the server gives up, so a client that loops still ends (and fails below).
            let proxy = try FaultProxy(upstream: "http://127.0.0.1:9") { number, _ in
                .reply(200, Self.listing(keys: ["p/k\(number)"], truncated: number < 50, token: number < 50 ? "same" : nil))
            }
            defer { proxy.shutdown() }
            let client = try Self.client(proxy.endpoint)
            defer { client.shutdown() }
            let error = #expect(throws: ObjectStoreError.self) { try client.listObjects(bucket: "b", prefix: "p/") }
            #expect(error?.kind == .badResponse)
            #expect(error?.object == "s3://b/p/")
            #expect(error?.message.contains("page 2 repeats the continuation token 'same'") == true, "\(String(describing: error))")
            #expect(proxy.snapshot.requests == 2)
        }
    }

    @Test func tokensGoingRoundInACycleAreCaughtToo() async throws {
        try await onWorkerThread {
            let proxy = try FaultProxy(upstream: "http://127.0.0.1:9") { number, _ in
                .reply(200, Self.listing(keys: ["k\(number)"], truncated: number < 50, token: number < 50 ? "t\(number % 3)" : nil))
            }
            defer { proxy.shutdown() }
            let client = try Self.client(proxy.endpoint)
            defer { client.shutdown() }
            let error = #expect(throws: ObjectStoreError.self) { try client.listObjects(bucket: "b", prefix: "") }
            #expect(error?.message.contains("page 4 repeats the continuation token 't0'") == true, "\(String(describing: error))")
            #expect(proxy.snapshot.requests == 4)
        }
    }

    @Test func aTruncatedPageWithoutATokenIsAnError() async throws {
        try await onWorkerThread {
            let proxy = try FaultProxy(upstream: "http://127.0.0.1:9") { _, _ in
                .reply(200, Self.listing(keys: ["k"], truncated: true, token: nil))
            }
            defer { proxy.shutdown() }
            let client = try Self.client(proxy.endpoint)
            defer { client.shutdown() }
            let error = #expect(throws: ObjectStoreError.self) { try client.listObjects(bucket: "b", prefix: "") }
            #expect(error?.kind == .badResponse)
            #expect(error?.message == "a truncated listing without a NextContinuationToken")
            #expect(error?.attempts == 1)
        }
    }

    @Test func copyRefusesKeysThatWouldLeaveTheDestination() async throws {
        let hostileKeys = [
            "p%2F..%2F..%2Fescape.txt",   // p/../../escape.txt, URL-encoded as in a real listing
            "p/sub/../../../escape.txt",
            "p//etc/passwd",
            "p/./x",
            "p/a%00b",
            "p/..%2F%CC%81escape.txt",    // "../" + a combining mark: one Character, still a '/' to the file system
        ]
        for key in hostileKeys {
            try await onWorkerThread {
                let proxy = try FaultProxy(upstream: "http://127.0.0.1:9") { _, head in
                    head.uri.contains("list-type=2") ? .reply(200, Self.listing(keys: ["p/fine.txt", key], truncated: false, token: nil))
                        : .status(500, "InternalError")
                }
                defer { proxy.shutdown() }
                let client = try Self.client(proxy.endpoint)
                defer { client.shutdown() }
                let parent = try TestPaths.temporaryDirectory("escape")
                let destination = parent + "/inside/deeper"
                let error = #expect(throws: ObjectStoreError.self, "\(key)") {
                    try ObjectCopy(storage: ObjectStorage(client: client)).copy("s3://b/p/", to: destination, recursive: true)
                }
                let decoded = percentDecode(key, plusIsSpace: true)
                #expect(error?.kind == .invalidArgument, "\(key)")
                #expect(error?.object == decoded, "\(key)")
                #expect(error?.message.hasPrefix("the key cannot be copied under \(destination): it ") == true, "\(String(describing: error))")
                // Refused before anything was read or written: one LIST, no file anywhere.
                #expect(proxy.snapshot.requests == 1, "\(key)")
                #expect(!FileManager.default.fileExists(atPath: parent + "/escape.txt"))
                #expect(!FileManager.default.fileExists(atPath: parent + "/inside/escape.txt"))
                #expect(!FileManager.default.fileExists(atPath: destination))
            }
        }
    }

    @Test func twoKeysForOneFileAreRefusedNotOverwritten() async throws {
        try await onWorkerThread {
            // `s3://b/p` lists `pq/x` as well; outside `p/`, it keeps only its last segment and meets `p/x`.
            let proxy = try FaultProxy(upstream: "http://127.0.0.1:9") { _, _ in
                .reply(200, Self.listing(keys: ["p/x", "pq/x"], truncated: false, token: nil))
            }
            defer { proxy.shutdown() }
            let client = try Self.client(proxy.endpoint)
            defer { client.shutdown() }
            let destination = try TestPaths.temporaryDirectory("collide")
            let error = #expect(throws: ObjectStoreError.self) {
                try ObjectCopy(storage: ObjectStorage(client: client)).copy("s3://b/p", to: destination, recursive: true)
            }
            #expect(error?.object == "pq/x")
            #expect(error?.message == "this key and 'p/x' would both be copied to \(destination)/x; nothing was copied")
            #expect(proxy.snapshot.requests == 1)
        }
    }

    @Test func keyPathsAreCheckedByteByByte() throws {
        for bad in ["..", "../x", "a/../../x", "a/..", "/etc/passwd", "a//b", "./a", "a/.", "a/", "", "a\u{0}b", "../\u{301}x", "a/..\u{0}"] {
            let error = #expect(throws: ObjectStoreError.self, "\(bad.debugDescription)") {
                try ObjectKeyPath.checkedRelativePath(bad, key: "k", destination: "/d")
            }
            #expect(error?.kind == .invalidArgument)
            #expect(error?.object == "k")
        }
        for good in ["a", "a/b.parquet", "..a", "a..", "...", "a/.b", "é/\u{301}x"] {
            #expect(try ObjectKeyPath.checkedRelativePath(good, key: "k", destination: "/d") == good)
        }
        // A key outside the listed prefix keeps only its last segment, checked like any other.
        #expect(try ObjectKeyPath.relativePath(of: "pq/x", below: "p/", destination: "/d") == "x")
        #expect(throws: ObjectStoreError.self) { try ObjectKeyPath.relativePath(of: "q/..", below: "p/", destination: "/d") }
    }

    @Test func aSingleObjectNamedDotDotIsNotCopiedAboveTheDirectory() async throws {
        try await onWorkerThread {
            let proxy = try FaultProxy(upstream: "http://127.0.0.1:9") { _, _ in .reply(200, "") }
            defer { proxy.shutdown() }
            let client = try Self.client(proxy.endpoint)
            defer { client.shutdown() }
            let directory = try TestPaths.temporaryDirectory("dotdot")
            // The source's last component names the copy inside a directory destination.
            let error = #expect(throws: ObjectStoreError.self) {
                try ObjectCopy(storage: ObjectStorage(client: client)).copy("s3://b/p/..", to: directory + "/into/")
            }
            #expect(error?.kind == .invalidArgument)
            #expect(error?.message.contains("'..' path segment") == true, "\(String(describing: error))")
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == [])
        }
    }

    @Test func connectionRefusedFailsFastNamingTheEndpoint() async throws {
        try await onWorkerThread {
            let port = try Self.closedPort()
            var tuning = S3Tuning.forTests
            tuning.retry = RetryPolicy()  // the defaults: 8 attempts for 5xx, 3 quick ones to connect
            let client = try Self.client("http://127.0.0.1:\(port)", tuning: tuning)
            defer { client.shutdown() }
            let start = Date()
            let error = #expect(throws: ObjectStoreError.self) { try client.listObjects(bucket: "b", prefix: "p/") }
            let seconds = Date().timeIntervalSince(start)
            #expect(seconds < 15, "took \(seconds) s")
            #expect(error?.kind == .unreachable, "\(String(describing: error))")
            #expect(error?.attempts == 3)
            #expect(error?.message.contains("cannot connect to http://127.0.0.1:\(port)") == true, "\(String(describing: error))")
            #expect(error?.message.contains("connection refused") == true, "\(String(describing: error))")
            #expect(client.stats.retries["connect"] == 2)

            // Through the storage API too (what `sluice cp` and the pipeline use).
            let storage = ObjectStorage(client: client)
            let again = #expect(throws: ObjectStoreError.self) { try storage.openSource("s3://b/k").size() }
            #expect(again?.kind == .unreachable)
        }
    }

    @Test func anUnknownHostFailsFast() async throws {
        try await onWorkerThread {
            let client = try Self.client("http://no-such-host.invalid:9000")
            defer { client.shutdown() }
            let start = Date()
            let error = #expect(throws: ObjectStoreError.self) { try client.headObject(bucket: "b", key: "k") }
            #expect(Date().timeIntervalSince(start) < 15)
            #expect(error?.kind == .unreachable, "\(String(describing: error))")
            #expect(error?.message.contains("no-such-host.invalid") == true)
        }
    }

    /// A port on 127.0.0.1 where nothing listens (bound, then closed).
    static func closedPort() throws -> Int {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let channel = try ServerBootstrap(group: group).bind(host: "127.0.0.1", port: 0).wait()
        let port = channel.localAddress?.port ?? 0
        try channel.close().wait()
        return port
    }
}
