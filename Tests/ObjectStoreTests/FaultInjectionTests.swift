import SluiceTestSupport
import Foundation
import NIOHTTP1
import Parquet
import Testing
@testable import ObjectStore

/// Through a loopback proxy that drops connections, cuts responses short, delays, stalls and answers
/// 500/503/SlowDown: the work completes with the same results, and every injected fault shows up as
/// exactly one retry in the stats.
@Suite(.serialized)
struct FaultInjectionTests {
    static var faultTuning: S3Tuning {
        var tuning = S3Tuning.forTests
        tuning.readTimeoutSeconds = 3  // the stall fault waits this long; moto under load stays well below it
        tuning.retry = RetryPolicy(maxAttempts: 12, baseDelaySeconds: 0.005, maxDelaySeconds: 0.05)
        return tuning
    }

    @Test func parquetReadsIdenticallyThroughFaults() async throws {
        try await onWorkerThread {
            let moto = try MotoServer.authenticated.get()
            let bucket = try moto.makeBucket("faults")
            let directory = try TestPaths.temporaryDirectory("faults")
            let path = directory + "/table.parquet"
            try moto.command(["op": "make_parquet", "path": path, "rows": 1500, "row_group_size": 250, "image_side": 24])
            try moto.command(["op": "put", "bucket": bucket, "key": "in/table.parquet", "path": path])

            let proxy = try FaultProxy(upstream: moto.endpoint, plan: FaultProxy.randomPlan(seed: 11, rate: 0.3, stallAt: 4))
            defer { proxy.shutdown() }
            let client = try moto.client(endpoint: proxy.endpoint, tuning: Self.faultTuning)
            defer { client.shutdown() }
            let storage = ObjectStorage(client: client)

            let local = try ParquetFileReader(path: path)
            let remote = try ParquetFileReader(source: storage.openSource("s3://\(bucket)/in/table.parquet"))
            remote.prefetch(rowGroups: 0..<3, columns: remote.leafColumns(of: nil))
            let remoteRows = try RowPreview(remote).lines(limit: 10_000)
            #expect(remoteRows == (try RowPreview(local).lines(limit: 10_000)))
            #expect(remoteRows.count == 1500)

            let counters = proxy.snapshot
            let stats = client.stats
            #expect(counters.retryable >= 10, "\(counters.faults)")
            // Every injected fault is one retry. Timeouts are compared as "at least": a machine loaded
            // enough to make moto itself slower than the read timeout would add genuine ones.
            let stalls = counters.faults["stall"] ?? 0
            #expect(stats.totalRetries - (stats.retries["timeout"] ?? 0) == counters.retryable - stalls,
                    "stats \(stats), faults \(counters.faults)")
            #expect((stats.retries["timeout"] ?? 0) >= stalls)
            #expect(stalls == 1)
            #expect((stats.retries["throttled"] ?? 0) >= 1)
            #expect((stats.retries["serverError"] ?? 0) >= 1)
            #expect((stats.retries["network"] ?? 0) >= 1)
            #expect(stats.failures == 0)
        }
    }

    @Test func multipartUploadCommitsTheSameBytesThroughFaults() async throws {
        try await onWorkerThread {
            let moto = try MotoServer.authenticated.get()
            let bucket = try moto.makeBucket("upfaults")
            let proxy = try FaultProxy(upstream: moto.endpoint, plan: FaultProxy.randomPlan(seed: 5, rate: 0.5))
            defer { proxy.shutdown() }
            let client = try moto.client(endpoint: proxy.endpoint, tuning: Self.faultTuning)
            defer { client.shutdown() }

            let bytes = testBytes(16 << 20 | 999, seed: 21)
            // A key without '/': cleaning up after a retried CreateMultipartUpload lists uploads with
            // prefix=KEY, and moto's signature check rejects query values containing '/'.
            let writer = S3ObjectWriter(client: client, bucket: bucket, key: "result.bin")
            for start in stride(from: 0, to: bytes.count, by: 1 << 20) {
                try writer.write(Array(bytes[start..<min(bytes.count, start + (1 << 20))]))
            }
            try writer.close()
            let directory = try TestPaths.temporaryDirectory("upfaults")
            try moto.command(["op": "get", "bucket": bucket, "key": "result.bin", "path": directory + "/back"])
            #expect(try Data(contentsOf: URL(fileURLWithPath: directory + "/back")) == Data(bytes))
            #expect(try moto.command(["op": "uploads", "bucket": bucket])["uploads"] as? [String] == [])
            let stats = client.stats
            #expect(stats.totalRetries - (stats.retries["timeout"] ?? 0) == proxy.snapshot.retryable, "\(stats) \(proxy.snapshot.faults)")
            #expect(proxy.snapshot.retryable >= 2)
        }
    }

    @Test func aFailedPartAbortsTheUpload() async throws {
        try await onWorkerThread {
            let moto = try MotoServer.authenticated.get()
            let bucket = try moto.makeBucket("partfail")
            let proxy = try FaultProxy(upstream: moto.endpoint) { _, head in
                head.method == .PUT && head.uri.contains("partNumber=2") ? .status(403, "AccessDenied") : .none
            }
            defer { proxy.shutdown() }
            let client = try moto.client(endpoint: proxy.endpoint, tuning: Self.faultTuning)
            defer { client.shutdown() }
            let writer = S3ObjectWriter(client: client, bucket: bucket, key: "out/never.bin")
            let error = #expect(throws: ObjectStoreError.self) {
                try writer.write(testBytes(12 << 20, seed: 4))
                try writer.close()
            }
            #expect(error?.code == "AccessDenied")
            #expect(error?.operation == "upload part 2")
            #expect(error?.attempts == 1)
            #expect(try moto.command(["op": "uploads", "bucket": bucket])["uploads"] as? [String] == [])
            #expect(try moto.command(["op": "list", "bucket": bucket])["keys"] as? [String] == [])
            #expect(client.stats.abortedUploads == 1)
            #expect(throws: ObjectStoreError.self) { try writer.write([1]) }
        }
    }

    @Test func retriesStopAtTheBudgetAndSaySo() async throws {
        try await onWorkerThread {
            let moto = try MotoServer.authenticated.get()
            let bucket = try moto.makeBucket("budget")
            try moto.command(["op": "put", "bucket": bucket, "key": "k", "text": "x"])
            let proxy = try FaultProxy(upstream: moto.endpoint) { _, _ in .status(503, "SlowDown") }
            defer { proxy.shutdown() }
            var tuning = Self.faultTuning
            tuning.retry.maxAttempts = 4
            let client = try moto.client(endpoint: proxy.endpoint, tuning: tuning)
            defer { client.shutdown() }
            let error = #expect(throws: ObjectStoreError.self) { try client.getObject(bucket: bucket, key: "k") }
            #expect(error?.kind == .unavailable)
            #expect(error?.code == "SlowDown")
            #expect(error?.attempts == 4)
            #expect("\(error.map { "\($0)" } ?? "")".contains("after 4 attempts"))
            #expect(client.stats.retries["throttled"] == 3)
            #expect(client.stats.failures == 1)
        }
    }
}
