import Foundation
@testable import ObjectStore

/// Runs `body` on a new thread and waits for it without blocking Swift's cooperative pool: the S3 client's
/// blocking calls (like Sluice's workers) must never run on the pool's few threads.
func onWorkerThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread {
            continuation.resume(with: Result { try body() })
        }
        thread.stackSize = 4 << 20
        thread.start()
    }
}

enum TestPaths {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    static let fixtures = repository.appendingPathComponent("Tests/Fixtures")
    static let vectors = repository.appendingPathComponent("Tests/ObjectStoreTests/Vectors")

    /// A fresh temporary directory.
    static func temporaryDirectory(_ label: String) throws -> String {
        let path = NSTemporaryDirectory() + "sluice-objectstore-\(label)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}

struct MotoError: Error, CustomStringConvertible {
    var description: String
}

/// moto's S3 server, started once per test process by `Tests/Fixtures/moto_server.py` (127.0.0.1, a free
/// port) and stopped when this process exits (the script ends when its stdin closes). Commands go to the
/// script's boto3 client, the independent reference.
final class MotoServer: @unchecked Sendable {
    // @unchecked: the pipes are used under `lock` only.
    let endpoint: String
    let accessKey: String
    let secretKey: String
    private let process: Process
    private let input: FileHandle
    private let outputFD: Int32
    private var pending: [UInt8] = []
    private let lock = NSLock()

    /// With signature checking (wrong secrets fail).
    static let authenticated = Result { try MotoServer(auth: true) }
    /// Without (anonymous access, keys that moto's own signature check mis-handles).
    static let open = Result { try MotoServer(auth: false) }

    private init(auth: Bool) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", TestPaths.fixtures.appendingPathComponent("moto_server.py").path] + (auth ? ["--auth"] : [])
        let stdin = Pipe(), stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = FileHandle.standardError
        try process.run()
        self.process = process
        input = stdin.fileHandleForWriting
        outputFD = stdout.fileHandleForReading.fileDescriptor
        var pendingBytes: [UInt8] = []
        guard let first = Self.readLine(outputFD, &pendingBytes),
              let hello = try JSONSerialization.jsonObject(with: Data(first.utf8)) as? [String: Any],
              let endpoint = hello["endpoint"] as? String, let accessKey = hello["access_key"] as? String,
              let secretKey = hello["secret_key"] as? String else {
            process.terminate()
            throw MotoError(description: "moto_server.py did not start (is moto[server] installed? run scripts/bootstrap)")
        }
        pending = pendingBytes
        self.endpoint = endpoint
        self.accessKey = accessKey
        self.secretKey = secretKey
    }

    private static func readLine(_ fd: Int32, _ pending: inout [UInt8]) -> String? {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            if let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: pending[..<newline], as: UTF8.self)
                pending.removeFirst(newline + 1)
                return line
            }
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, 65536) }
            if n <= 0 { return nil }
            pending += chunk[0..<n]
        }
    }

    /// Sends one command to the boto3 side and returns its answer (blocking: call from a worker thread).
    @discardableResult
    func command(_ fields: [String: Any]) throws -> [String: Any] {
        lock.lock()
        defer { lock.unlock() }
        var data = try JSONSerialization.data(withJSONObject: fields)
        data.append(UInt8(ascii: "\n"))
        input.write(data)
        guard let line = Self.readLine(outputFD, &pending),
              let reply = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            throw MotoError(description: "moto_server.py stopped answering")
        }
        guard reply["ok"] as? Bool == true else {
            throw MotoError(description: "boto3 \(fields["op"] ?? "?"): \(reply["error"] ?? "failed")")
        }
        return reply
    }

    /// A bucket of its own for one test.
    func makeBucket(_ label: String) throws -> String {
        let name = "\(label)-\(UUID().uuidString.lowercased().prefix(8))"
        try command(["op": "create_bucket", "bucket": name])
        return name
    }

    func configuration(secret: String? = nil, endpoint: String? = nil, tuning: S3Tuning = .forTests) throws -> S3Configuration {
        S3Configuration(endpoint: try S3Endpoint(parsing: endpoint ?? self.endpoint), region: "us-east-1",
                        authentication: .signed(AWSCredentials(accessKeyID: accessKey, secretAccessKey: secret ?? secretKey, source: "test")),
                        addressing: .path, tuning: tuning)
    }

    func client(secret: String? = nil, endpoint: String? = nil, tuning: S3Tuning = .forTests) throws -> S3Client {
        S3Client(configuration: try configuration(secret: secret, endpoint: endpoint, tuning: tuning))
    }
}

extension S3Tuning {
    /// Small parts so that small test objects still exercise splitting, parallel parts and multipart.
    static var forTests: S3Tuning {
        var tuning = S3Tuning()
        tuning.readPartSize = 64 << 10
        tuning.readAheadBytes = 128 << 10
        tuning.coalesceGap = 16 << 10
        tuning.maxBufferedBytesPerReader = 4 << 20
        tuning.uploadPartSize = 5 << 20
        tuning.singlePutThreshold = 5 << 20
        tuning.uploadConcurrency = 3
        tuning.maxConcurrentRequests = 8
        tuning.retry = RetryPolicy(maxAttempts: 10, baseDelaySeconds: 0.01, maxDelaySeconds: 0.2)
        return tuning
    }
}

/// Deterministic bytes for test objects.
func testBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
    return (0..<count).map { _ in
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return UInt8(truncatingIfNeeded: state >> 24)
    }
}
