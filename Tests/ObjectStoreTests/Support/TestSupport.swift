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

import SluiceTestSupport

enum TestPaths {
    static let repository = TestData.repository
    static let fixtures = TestData.fixtures
    static let vectors = repository.appendingPathComponent("Tests/ObjectStoreTests/Vectors")

    /// A fresh temporary directory.
    static func temporaryDirectory(_ label: String) throws -> String { try TestData.temporaryDirectory("objectstore-\(label)") }
}

extension MotoServer {
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
    var random = SplitMix64(seed: seed)
    return (0..<count).map { _ in UInt8(truncatingIfNeeded: random.next() >> 56) }
}
