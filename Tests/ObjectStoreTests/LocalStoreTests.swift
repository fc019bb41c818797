import Foundation
import Parquet
import Testing
@testable import ObjectStore

struct LocalStoreTests {
    @Test func writerIsInvisibleUntilCommitThenRenamed() throws {
        let directory = try TestPaths.temporaryDirectory("local")
        let target = directory + "/out/nested/part-0.parquet"
        let writer = try LocalObjectWriter(path: target)
        try writer.write(Array("hello ".utf8))
        try writer.write(Array("world".utf8))
        #expect(!FileManager.default.fileExists(atPath: target))
        #expect(FileManager.default.fileExists(atPath: writer.temporaryPath))
        // The temporary file is hidden from listings.
        #expect(try LocalFileStore().list(prefix: directory + "/out/nested", recursive: false).objects.isEmpty)
        try writer.close()
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "hello world")
        #expect(!FileManager.default.fileExists(atPath: writer.temporaryPath))
        #expect(writer.bytesWritten == 11)
        try writer.close()  // twice is fine
        #expect(throws: ObjectStoreError.self) { try writer.write([1]) }
    }

    @Test func abortAndDropLeaveNothing() throws {
        let directory = try TestPaths.temporaryDirectory("local-abort")
        let writer = try LocalObjectWriter(path: directory + "/a.bin")
        try writer.write([1, 2, 3])
        writer.abort()
        #expect(throws: ObjectStoreError.self) { try writer.close() }
        do {
            let dropped = try LocalObjectWriter(path: directory + "/b.bin")
            try dropped.write([4])
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == [])
        // An existing file is replaced only on commit.
        try Data([9]).write(to: URL(fileURLWithPath: directory + "/c.bin"))
        let replacing = try LocalObjectWriter(path: directory + "/c.bin")
        try replacing.write([7, 7])
        #expect(try Data(contentsOf: URL(fileURLWithPath: directory + "/c.bin")) == Data([9]))
        try replacing.close()
        #expect(try Data(contentsOf: URL(fileURLWithPath: directory + "/c.bin")) == Data([7, 7]))
    }

    @Test func listsExpandsAndCopiesLocally() throws {
        let directory = try TestPaths.temporaryDirectory("local-list")
        let store = LocalFileStore()
        try store.put(key: directory + "/b.parquet", bytes: [2])
        try store.put(key: directory + "/a.parquet", bytes: [1, 1])
        try store.put(key: directory + "/notes.txt", bytes: [3])
        try store.put(key: directory + "/sub/c.parquet", bytes: [4])
        let shallow = try store.list(prefix: directory, recursive: false)
        #expect(shallow.objects.map(\.key) == [directory + "/a.parquet", directory + "/b.parquet", directory + "/notes.txt"])
        #expect(shallow.directories == [directory + "/sub/"])
        #expect(try store.list(prefix: directory, recursive: true).objects.count == 4)
        #expect(try store.info(key: directory + "/a.parquet").size == 2)
        #expect(throws: ObjectStoreError.self) { try store.info(key: directory + "/missing") }

        let storage = ObjectStorage(environment: [:], homeDirectory: "/nonexistent")
        let expanded = try storage.expand([directory, directory + "/sub/c.parquet"])
        #expect(expanded.map(\.url) == [directory + "/a.parquet", directory + "/b.parquet", directory + "/sub/c.parquet"])
        #expect(throws: ObjectStoreError.self) { try storage.expand([directory + "/nope"]) }
        // Local work never needs S3 credentials.
        let report = try ObjectCopy(storage: storage).copy(directory, to: directory + "-copy", recursive: true)
        #expect(report.objects == 4)
        #expect(try store.get(key: directory + "-copy/sub/c.parquet") == [4])
        #expect(storage.stats.totalRequests == 0)
    }

    @Test func urlsParse() throws {
        #expect(try ObjectURL(parsing: "s3://bucket/a/b.parquet") == .s3(bucket: "bucket", key: "a/b.parquet"))
        #expect(try ObjectURL(parsing: "s3a://bucket") == .s3(bucket: "bucket", key: ""))
        #expect(try ObjectURL(parsing: "s3://bucket/") == .s3(bucket: "bucket", key: ""))
        #expect(try ObjectURL(parsing: "file:///tmp/x") == .local(path: "/tmp/x"))
        #expect(try ObjectURL(parsing: "relative/path") == .local(path: "relative/path"))
        #expect(throws: ObjectStoreError.self) { try ObjectURL(parsing: "gs://bucket/x") }
        #expect(throws: ObjectStoreError.self) { try ObjectURL(parsing: "s3:///key") }
        #expect(try ObjectURL(parsing: "s3://b/p/").looksLikeDirectory)
        #expect(try ObjectURL(parsing: "s3://b/p").appending("x") == .s3(bucket: "b", key: "p/x"))
        #expect(try ObjectURL(parsing: "s3://b/p/file.parquet").lastComponent == "file.parquet")
    }
}

struct XMLAndResponseTests {
    @Test func parsesAListingWithEntitiesAndURLEncodedKeys() throws {
        let body = """
        <?xml version="1.0" encoding="UTF-8"?>
        <ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
          <Name>b</Name><Prefix>d%2F</Prefix><EncodingType>url</EncodingType><IsTruncated>true</IsTruncated>
          <NextContinuationToken>tok&amp;en==</NextContinuationToken>
          <Contents><Key>d/a+b%2Bc%26.txt</Key><Size>12</Size><ETag>&quot;abc&quot;</ETag></Contents>
          <Contents><Key>d/%C3%A9</Key><Size>0</Size></Contents>
          <CommonPrefixes><Prefix>d/sub%2F</Prefix></CommonPrefixes>
          <!-- a comment --><Empty/>
        </ListBucketResult>
        """
        let page = try ListObjectsV2Page.parse(Array(body.utf8), bucket: "b", prefix: "d/")
        #expect(page.objects.map(\.key) == ["d/a b+c&.txt", "d/é"])
        #expect(page.objects.first?.etag == "\"abc\"")
        #expect(page.objects.map(\.size) == [12, 0])
        #expect(page.commonPrefixes == ["d/sub/"])
        #expect(page.nextToken == "tok&en==")
    }

    @Test func malformedAnswersAreErrorsNotCrashes() {
        for text in ["", "<a>", "<a></b>", "<ListBucketResult><Contents><Key>k</Key></Contents></ListBucketResult>",
                     "<Error>&bogus;</Error>", String(repeating: "<a>", count: 100) + String(repeating: "</a>", count: 100),
                     "<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>"] {
            #expect(throws: (any Error).self, "\(text.prefix(40))") { _ = try ListObjectsV2Page.parse(Array(text.utf8), bucket: "b", prefix: "") }
        }
        #expect(S3ErrorBody(Array("not xml".utf8)).code == nil)
        let error = S3ErrorBody(Array("<Error><Code>NoSuchKey</Code><Message>gone</Message><RequestId>r1</RequestId><CanonicalRequest>secret-ish</CanonicalRequest></Error>".utf8))
        #expect(error.code == "NoSuchKey")
        #expect(error.message == "gone")
        #expect(error.requestID == "r1")
    }

    @Test func contentRangeAndRetryClassification() {
        #expect(ContentRange("bytes 0-9/443") == ContentRange("bytes 0-9/443"))
        #expect(ContentRange("bytes 5-9/*")?.total == nil)
        #expect(ContentRange("bytes 9-5/10") == nil)
        #expect(ContentRange("items 0-1/2") == nil)
        #expect(RetryPolicy.reason(httpStatus: 503, code: "SlowDown") == .throttled)
        #expect(RetryPolicy.reason(httpStatus: 429, code: nil) == .throttled)
        #expect(RetryPolicy.reason(httpStatus: 500, code: "InternalError") == .serverError)
        #expect(RetryPolicy.reason(httpStatus: 400, code: "RequestTimeout") == .serverError)
        #expect(RetryPolicy.reason(httpStatus: 403, code: "AccessDenied") == nil)
        #expect(RetryPolicy.reason(httpStatus: 404, code: "NoSuchKey") == nil)
        let policy = RetryPolicy(maxAttempts: 5, baseDelaySeconds: 0.1, maxDelaySeconds: 1)
        #expect(policy.delay(afterAttempt: 1, random: 0.999) < 0.1)
        #expect(policy.delay(afterAttempt: 10, random: 0.999) <= 1)
        #expect(percentDecode("a%2Fb+c%zz", plusIsSpace: true) == "a/b c%zz")
    }
}
