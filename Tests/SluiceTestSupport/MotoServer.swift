import Foundation

public struct MotoError: Error, CustomStringConvertible {
    public var description: String
}

/// moto's S3 server, started by `Tests/Fixtures/moto_server.py` (127.0.0.1, a free port) and stopped when
/// this process exits (the script ends when its stdin closes). Commands go to the script's boto3 client,
/// the independent reference. Used by the ObjectStore tests and the S3 benchmark.
public final class MotoServer: @unchecked Sendable {
    // @unchecked: the pipes are used under `lock` only.
    public let endpoint: String
    public let accessKey: String
    public let secretKey: String
    private let process: Process
    private let input: FileHandle
    private let outputFD: Int32
    private var pending: [UInt8] = []
    private let lock = NSLock()

    /// One per test process, with signature checking (wrong secrets fail).
    public static let authenticated = Result { try MotoServer(auth: true) }
    /// One per test process, without (anonymous access, keys that moto's own signature check mis-handles).
    public static let open = Result { try MotoServer(auth: false) }

    public init(auth: Bool) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", TestData.fixtures.appendingPathComponent("moto_server.py").path] + (auth ? ["--auth"] : [])
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

    /// Stops the server now (otherwise it ends with this process).
    public func stop() {
        lock.withLock {
            try? input.close()
            process.waitUntilExit()
        }
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
    public func command(_ fields: [String: Any]) throws -> [String: Any] {
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
    public func makeBucket(_ label: String) throws -> String {
        let name = "\(label)-\(UUID().uuidString.lowercased().prefix(8))"
        try command(["op": "create_bucket", "bucket": name])
        return name
    }
}
