import SluiceTestSupport
import Foundation
import Parquet
import Testing
@testable import ObjectStore

/// Against moto's S3 server with signature checking on; boto3 (through the fixture script) uploads the
/// inputs and checks what we wrote.
@Suite(.serialized)
struct S3EndToEndTests {
    static func server() throws -> MotoServer { try MotoServer.authenticated.get() }

    @Test func listsWithPaginationInKeyOrder() async throws {
        try await onWorkerThread {
            // moto's signature check rejects prefix=dir/ (even boto3's), so listings use the open server.
            let moto = try MotoServer.open.get()
            let bucket = try moto.makeBucket("list")
            let keys = (0..<23).map { String(format: "data/part-%05d.parquet", $0) } + ["data/sub/deeper.txt", "other/x.txt", "data/a b.txt"]
            for key in keys.shuffled() { try moto.command(["op": "put", "bucket": bucket, "key": key, "text": key]) }
            let client = try moto.client()
            defer { client.shutdown() }

            let all = try client.listObjects(bucket: bucket, prefix: "data/", pageSize: 5)
            let expected = keys.filter { $0.hasPrefix("data/") }.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
            #expect(all.objects.map(\.key) == expected)
            #expect(all.objects.allSatisfy { $0.size == Int64($0.key.utf8.count) })
            #expect(all.pages == 5)  // 25 keys, 5 per page

            let shallow = try client.listObjects(bucket: bucket, prefix: "data/", delimiter: "/", pageSize: 7)
            #expect(shallow.commonPrefixes == ["data/sub/"])
            #expect(shallow.objects.count == 24)
            #expect(try client.listObjects(bucket: bucket, prefix: "nothing/").objects.isEmpty)

            // Through the store and storage layers.
            let storage = ObjectStorage(client: client)
            let parquet = try storage.expand(["s3://\(bucket)/data/"], suffix: ".parquet")
            #expect(parquet.count == 23)
            #expect(parquet.first?.url == "s3://\(bucket)/data/part-00000.parquet")
            let noSlash = try storage.expand(["s3://\(bucket)/data"], suffix: ".parquet")
            #expect(noSlash == parquet)
            let one = try storage.expand(["s3://\(bucket)/other/x.txt"], suffix: ".parquet")
            #expect(one.map(\.key) == ["other/x.txt"])
        }
    }

    @Test func rangedReadsSplitCoalesceAndPrefetch() async throws {
        try await onWorkerThread {
            let moto = try Self.server()
            let bucket = try moto.makeBucket("ranges")
            let directory = try TestPaths.temporaryDirectory("ranges")
            let bytes = testBytes(1_000_003, seed: 3)
            try Data(bytes).write(to: URL(fileURLWithPath: directory + "/blob"))
            try moto.command(["op": "put", "bucket": bucket, "key": "blob", "path": directory + "/blob"])
            let client = try moto.client()
            defer { client.shutdown() }

            let source = try S3ObjectSource(client: client, bucket: bucket, key: "blob")
            #expect(try source.size() == 1_000_003)
            // Odd offsets and sizes, parts of 64 KiB, the last byte, a read spanning many parts.
            for (offset, count) in [(0, 4), (999_999, 4), (1, 1), (70_000, 200_000), (65_535, 2), (0, 1_000_003), (12_345, 0)] {
                let got = try source.read(offset: Int64(offset), count: count)
                #expect(got == Array(bytes[offset..<(offset + count)]), "\(offset)+\(count)")
            }
            #expect(throws: ByteIOError(.outOfRange, "range 999999..<1000004 lies outside the object's 1000003 bytes",
                                        name: "s3://\(bucket)/blob", offset: 999_999)) { try source.read(offset: 999_999, count: 5) }

            // Prefetched ranges are served without new requests.
            let fresh = try S3ObjectSource(client: client, bucket: bucket, key: "blob", size: 1_000_003, prefetchFooter: false)
            fresh.prefetch([100_000..<110_000, 112_000..<130_000, 500_000..<520_000])
            let getsBefore = client.stats.requests["GET"] ?? 0
            Thread.sleep(forTimeInterval: 0.3)
            #expect(try fresh.read(offset: 100_000, count: 10_000) == Array(bytes[100_000..<110_000]))
            #expect(try fresh.read(offset: 112_000, count: 18_000) == Array(bytes[112_000..<130_000]))
            #expect(try fresh.read(offset: 505_000, count: 10_000) == Array(bytes[505_000..<515_000]))
            let getsAfter = client.stats.requests["GET"] ?? 0
            #expect(getsAfter - getsBefore <= 2)  // 100k..130k coalesced into one request, 500k..520k another

            // Whole-object GET and the storage's openSource.
            #expect(try client.getObject(bucket: bucket, key: "blob") == bytes)
            #expect(try client.getRange(bucket: bucket, key: "blob", offset: 10, count: 10) == Array(bytes[10..<20]))
        }
    }

    @Test func parquetFromS3ReadsLikeTheLocalFile() async throws {
        try await onWorkerThread {
            let moto = try Self.server()
            let bucket = try moto.makeBucket("parquet")
            let directory = try TestPaths.temporaryDirectory("parquet")
            let path = directory + "/table.parquet"
            try moto.command(["op": "make_parquet", "path": path, "rows": 600, "row_group_size": 100, "image_side": 16])
            try moto.command(["op": "put", "bucket": bucket, "key": "in/table.parquet", "path": path])
            let client = try moto.client()
            defer { client.shutdown() }
            let storage = ObjectStorage(client: client)

            let local = try ParquetFileReader(path: path)
            let files = try storage.expand(["s3://\(bucket)/in/table.parquet"])
            #expect(files.count == 1)
            #expect(files.first?.size == (try local.source.size()))
            let remote = try ParquetFileReader(source: storage.openSource(files[0]))
            #expect(remote.rowGroupCount == 6)
            #expect(remote.numRows == local.numRows)
            #expect(FileDescription(remote).render().replacingOccurrences(of: "s3://\(bucket)/in/table.parquet", with: path)
                    == FileDescription(local).render())
            let remoteRows = try RowPreview(remote).lines(limit: 1000)
            #expect(remoteRows == (try RowPreview(local).lines(limit: 1000)))
            #expect(remoteRows.count == 600)

            // The tensor column through prefetch hints, row group by row group.
            let columns = remote.leafColumns(of: ["image"])
            #expect(!columns.isEmpty)
            let ranges = remote.chunkRanges(rowGroups: 0..<6, columns: columns)
            #expect(ranges.count == 6)
            remote.prefetch(rowGroups: 0..<6, columns: columns)
            for range in ranges {
                let remoteBytes = try remote.source.read(offset: range.lowerBound, count: range.count)
                #expect(remoteBytes == (try local.source.read(offset: range.lowerBound, count: range.count)))
            }
            #expect(client.stats.totalRetries == 0)
        }
    }

    @Test func multipartUploadIsReadBackByBoto3() async throws {
        try await onWorkerThread {
            let moto = try Self.server()
            let bucket = try moto.makeBucket("upload")
            let client = try moto.client()
            defer { client.shutdown() }
            let bytes = testBytes(12 << 20 | 12345, seed: 9)  // 3 parts of 5 MiB
            let writer = S3ObjectWriter(client: client, bucket: bucket, key: "out/big.bin")
            var offset = 0
            while offset < bytes.count {  // uneven writes
                let count = min(bytes.count - offset, 777_777)
                try writer.write(Array(bytes[offset..<(offset + count)]))
                offset += count
                // Not visible before the commit.
                if offset == 777_777 * 8 {
                    #expect(try moto.command(["op": "list", "bucket": bucket])["keys"] as? [String] == [])
                }
            }
            #expect(writer.partsStarted == 2)
            try writer.close()
            #expect(writer.partsStarted == 3)
            let directory = try TestPaths.temporaryDirectory("upload")
            let reply = try moto.command(["op": "get", "bucket": bucket, "key": "out/big.bin", "path": directory + "/back"])
            #expect(reply["size"] as? Int == bytes.count)
            #expect(try Data(contentsOf: URL(fileURLWithPath: directory + "/back")) == Data(bytes))
            #expect(try moto.command(["op": "uploads", "bucket": bucket])["uploads"] as? [String] == [])

            // Small outputs are one PUT; an empty object is fine.
            let small = S3ObjectWriter(client: client, bucket: bucket, key: "out/small.bin")
            try small.write([1, 2, 3])
            try small.close()
            #expect(small.partsStarted == 0)
            try S3ObjectWriter(client: client, bucket: bucket, key: "out/empty.bin").close()
            #expect(try client.getObject(bucket: bucket, key: "out/small.bin") == [1, 2, 3])
            #expect(try client.headObject(bucket: bucket, key: "out/empty.bin").size == 0)
        }
    }

    @Test func abortedUploadLeavesNothingBehind() async throws {
        try await onWorkerThread {
            let moto = try Self.server()
            let bucket = try moto.makeBucket("abort")
            let client = try moto.client()
            defer { client.shutdown() }
            let writer = S3ObjectWriter(client: client, bucket: bucket, key: "out/partial.bin")
            try writer.write(testBytes(11 << 20, seed: 1))
            #expect(writer.partsStarted == 2)
            var open: [String]?
            for _ in 0..<50 {  // the CreateMultipartUpload may still be in flight
                open = try moto.command(["op": "uploads", "bucket": bucket])["uploads"] as? [String]
                if open == ["out/partial.bin"] { break }
                Thread.sleep(forTimeInterval: 0.05)
            }
            #expect(open == ["out/partial.bin"])
            writer.abort()
            #expect(try moto.command(["op": "uploads", "bucket": bucket])["uploads"] as? [String] == [])
            #expect(try moto.command(["op": "list", "bucket": bucket])["keys"] as? [String] == [])
            #expect(throws: ObjectStoreError.self) { try writer.close() }
            #expect(client.stats.abortedUploads == 1)

            // Dropped without close: aborted too.
            do {
                let dropped = S3ObjectWriter(client: client, bucket: bucket, key: "out/dropped.bin")
                try dropped.write(testBytes(6 << 20, seed: 2))
            }
            #expect(try moto.command(["op": "uploads", "bucket": bucket])["uploads"] as? [String] == [])
        }
    }

    @Test func wrongSecretIsSignatureDoesNotMatchAndNeverShowsTheSecret() async throws {
        try await onWorkerThread {
            let moto = try Self.server()
            let bucket = try moto.makeBucket("secret")
            try moto.command(["op": "put", "bucket": bucket, "key": "k", "text": "x"])
            let wrongSecret = "WRONG-secret-\(UUID().uuidString)"
            let client = try moto.client(secret: wrongSecret)
            defer { client.shutdown() }
            let error = #expect(throws: ObjectStoreError.self) { try client.getObject(bucket: bucket, key: "k") }
            #expect(error?.code == "SignatureDoesNotMatch")
            #expect(error?.kind == .accessDenied)
            #expect(error?.httpStatus == 403)
            #expect(error?.attempts == 1)  // not retried
            let text = "\(error.map { "\($0)" } ?? "")"
            #expect(text.contains("s3://\(bucket)/k"))
            #expect(text.contains("SignatureDoesNotMatch"))
            #expect(text.contains("secret access key does not match"))
            #expect(!text.contains(wrongSecret))
            #expect(!text.contains(moto.secretKey))
            let listError = #expect(throws: ObjectStoreError.self) { try client.listObjects(bucket: bucket, prefix: "") }
            #expect(listError?.code == "SignatureDoesNotMatch")
            #expect(!"\(client.configuration)".contains(wrongSecret))
            #expect(!"\(client.stats)".contains(wrongSecret))
        }
    }

    @Test func missingBucketAndKeyAreNamed() async throws {
        try await onWorkerThread {
            let moto = try Self.server()
            let client = try moto.client()
            defer { client.shutdown() }
            let missing = "no-such-bucket-\(UUID().uuidString.lowercased().prefix(8))"
            let getError = #expect(throws: ObjectStoreError.self) { try client.getObject(bucket: missing, key: "k") }
            #expect(getError?.code == "NoSuchBucket")
            #expect(getError?.kind == .notFound)
            #expect(getError?.httpStatus == 404)
            #expect(getError?.attempts == 1)
            #expect("\(getError.map { "\($0)" } ?? "")".contains("s3://\(missing)/k"))
            #expect("\(getError.map { "\($0)" } ?? "")".contains("does not exist"))
            let listError = #expect(throws: ObjectStoreError.self) { try client.listObjects(bucket: missing, prefix: "") }
            #expect(listError?.code == "NoSuchBucket")

            let bucket = try moto.makeBucket("missing")
            let keyError = #expect(throws: ObjectStoreError.self) { try client.getObject(bucket: bucket, key: "nope") }
            #expect(keyError?.code == "NoSuchKey")
            let headError = #expect(throws: ObjectStoreError.self) { try client.headObject(bucket: bucket, key: "nope") }
            #expect(headError?.kind == .notFound)
            // A missing bucket is not mistaken for a prefix (open server: the listing has prefix=data/).
            let open = try MotoServer.open.get().client()
            defer { open.shutdown() }
            let expandError = #expect(throws: ObjectStoreError.self) { try ObjectStorage(client: open).expand(["s3://\(missing)/data"]) }
            #expect(expandError?.code == "NoSuchBucket")
            #expect("\(expandError.map { "\($0)" } ?? "")".contains("s3://\(missing)/data"))
        }
    }

    @Test func copiesBetweenLocalAndS3() async throws {
        try await onWorkerThread {
            let moto = try MotoServer.open.get()  // recursive copies list prefixes
            let bucket = try moto.makeBucket("copy")
            let client = try moto.client()
            defer { client.shutdown() }
            let storage = ObjectStorage(client: client)
            let directory = try TestPaths.temporaryDirectory("copy")
            try FileManager.default.createDirectory(atPath: directory + "/src/sub", withIntermediateDirectories: true)
            let big = testBytes(7 << 20 | 3, seed: 5)
            try Data(big).write(to: URL(fileURLWithPath: directory + "/src/big.bin"))
            try Data("hello".utf8).write(to: URL(fileURLWithPath: directory + "/src/sub/small.txt"))

            var copy = ObjectCopy(storage: storage)
            copy.chunkSize = 1 << 20
            let up = try copy.copy(directory + "/src", to: "s3://\(bucket)/dst/", recursive: true)
            #expect(up.objects == 2)
            #expect(try moto.command(["op": "list", "bucket": bucket])["keys"] as? [String] == ["dst/big.bin", "dst/sub/small.txt"])
            let down = try copy.copy("s3://\(bucket)/dst/big.bin", to: directory + "/back/")
            #expect(down.bytes == Int64(big.count))
            #expect(try Data(contentsOf: URL(fileURLWithPath: directory + "/back/big.bin")) == Data(big))
            let tree = try copy.copy("s3://\(bucket)/dst/", to: directory + "/tree", recursive: true)
            #expect(tree.objects == 2)
            #expect(try String(contentsOfFile: directory + "/tree/sub/small.txt", encoding: .utf8) == "hello")
            // No temporary files left behind.
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory + "/back") == ["big.bin"])
        }
    }
}

/// Against moto without signature checking: unsigned requests, and keys that moto's own check mis-handles.
@Suite(.serialized)
struct S3OpenServerTests {
    @Test func anonymousRequestsAreUnsignedAndWork() async throws {
        try await onWorkerThread {
            let moto = try MotoServer.open.get()
            let bucket = try moto.makeBucket("anon")
            try moto.command(["op": "put", "bucket": bucket, "key": "public/data.bin", "text": "public bytes", "acl": "public-read"])
            let configuration = S3Configuration(endpoint: try S3Endpoint(parsing: moto.endpoint), region: "us-east-1",
                                                authentication: .anonymous, addressing: .path, tuning: .forTests)
            let client = S3Client(configuration: configuration)
            defer { client.shutdown() }
            #expect(try client.getObject(bucket: bucket, key: "public/data.bin") == Array("public bytes".utf8))
            #expect(try client.listObjects(bucket: bucket, prefix: "public/").objects.map(\.key) == ["public/data.bin"])
            let resolved = try S3Configuration.resolve(S3Options(endpointURL: moto.endpoint, noSignRequest: true), environment: [:],
                                                       homeDirectory: "/nonexistent")
            #expect(resolved.authentication == .anonymous)
        }
    }

    @Test func keysWithAwkwardCharactersRoundTrip() async throws {
        try await onWorkerThread {
            let moto = try MotoServer.open.get()
            let bucket = try moto.makeBucket("keys")
            let client = try moto.client()
            defer { client.shutdown() }
            let keys = ["a+b.txt", "a&b=c.txt", "sp ace/x.txt", "é/ü.txt", "q?s#h%25.txt", "paren(1)*!'@;:,$.txt", "x~y.txt"]
            for (index, key) in keys.enumerated() {
                try client.putObject(bucket: bucket, key: key, bytes: [UInt8(index)])
            }
            let boto = try moto.command(["op": "list", "bucket": bucket])["keys"] as? [String]
            #expect(Set(boto ?? []) == Set(keys))
            let listed = try client.listObjects(bucket: bucket, prefix: "", pageSize: 3).objects.map(\.key)
            #expect(Set(listed) == Set(keys))
            for (index, key) in keys.enumerated() {
                #expect(try client.getObject(bucket: bucket, key: key) == [UInt8(index)], "\(key)")
            }
        }
    }
}

@Suite("putIfAbsent: of writers racing for one name, exactly one creates it", .serialized)
struct PutIfAbsentTests {
    static func race(_ count: Int, _ attempt: @escaping @Sendable (Int) throws -> Bool) -> [Bool] {
        let lock = NSLock()
        nonisolated(unsafe) var results: [Bool] = []
        DispatchQueue.concurrentPerform(iterations: count) { i in
            let won = (try? attempt(i)) ?? false
            lock.withLock { results.append(won) }
        }
        return results
    }

    @Test func localFiles() throws {
        let directory = try TestPaths.temporaryDirectory("put-if-absent")
        let storage = ObjectStorage()
        let path = directory + "/_summary.json"
        let results = Self.race(16) { i in try storage.putIfAbsent(path, bytes: Array("writer \(i)".utf8)) }
        #expect(results.filter { $0 }.count == 1)
        #expect(String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self).hasPrefix("writer "))
        #expect(try !storage.putIfAbsent(path, bytes: [1]), "an existing file is kept")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["_summary.json"], "no temporaries left")
    }

    @Test func s3ConditionalWrite() async throws {
        try await onWorkerThread {
            let moto = try MotoServer.open.get()
            let bucket = try moto.makeBucket("conditional")
            let client = try moto.client()
            defer { client.shutdown() }
            let storage = ObjectStorage(client: client)
            let url = "s3://\(bucket)/out/_summary.json"
            let results = Self.race(8) { i in try storage.putIfAbsent(url, bytes: Array("writer \(i)".utf8)) }
            #expect(results.filter { $0 }.count == 1)
            #expect(try !storage.putIfAbsent(url, bytes: [1]))
            #expect(String(decoding: try client.getObject(bucket: bucket, key: "out/_summary.json"), as: UTF8.self).hasPrefix("writer "))
        }
    }
}
