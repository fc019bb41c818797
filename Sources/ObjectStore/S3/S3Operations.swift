import AsyncHTTPClient
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1

/// One object in a listing or a HEAD answer.
public struct S3ObjectSummary: Sendable, Equatable {
    public var key: String
    public var size: Int64
    public var etag: String?
    public var lastModified: String?

    public init(key: String, size: Int64, etag: String? = nil, lastModified: String? = nil) {
        self.key = key
        self.size = size
        self.etag = etag
        self.lastModified = lastModified
    }
}

/// A ListObjectsV2 result, all pages together.
public struct S3Listing: Sendable, Equatable {
    public var objects: [S3ObjectSummary] = []
    /// With a delimiter: the "directories" (`prefix/sub/`).
    public var commonPrefixes: [String] = []
    /// How many pages (requests) it took.
    public var pages = 0
}

extension S3Client {
    // MARK: list

    func listPageFuture(bucket: String, prefix: String, delimiter: String?, continuationToken: String?,
                        maxKeys: Int?) -> EventLoopFuture<ListObjectsV2Page> {
        var query: [(String, String)] = [("list-type", "2"), ("encoding-type", "url"), ("prefix", prefix)]
        if let delimiter { query.append(("delimiter", delimiter)) }
        if let continuationToken { query.append(("continuation-token", continuationToken)) }
        if let maxKeys { query.append(("max-keys", String(maxKeys))) }
        let request = Request(method: .GET, bucket: bucket, key: nil, query: query, kind: "LIST", operation: "list",
                              objectOverride: "s3://\(bucket)/\(prefix)")
        return perform(request) { CollectSink(limit: S3Limits.maxXMLBytes) }.flatMapThrowing { reply in
            try ListObjectsV2Page.parse(reply.body, bucket: bucket, prefix: prefix)
        }
    }

    /// Truncated pages in a row that hold nothing before the listing is taken for a server going in circles
    /// with fresh tokens. S3 may answer an empty truncated page now and then, never hundreds in a row.
    static let maxEmptyPagesInARow = 1000

    /// Every object whose key starts with `prefix`, in key order, following continuation tokens.
    /// With `delimiter` ("/"), keys below the next delimiter are rolled up into `commonPrefixes`.
    /// A server that hands out a continuation token it gave before (or keeps sending empty truncated pages)
    /// would make this loop forever: that is a `.badResponse` naming the page.
    public func listObjects(bucket: String, prefix: String, delimiter: String? = nil, pageSize: Int? = nil) throws -> S3Listing {
        var listing = S3Listing()
        var token: String?
        var seenTokens: Set<String> = []
        var emptyPagesInARow = 0
        repeat {
            let page = try listPageFuture(bucket: bucket, prefix: prefix, delimiter: delimiter, continuationToken: token,
                                          maxKeys: pageSize).wait()
            listing.objects += page.objects
            listing.commonPrefixes += page.commonPrefixes
            listing.pages += 1
            token = page.nextToken
            guard let next = token else { break }
            // Digests, not tokens: a server sending huge fresh tokens must not make this set grow by them.
            guard seenTokens.insert(SigV4Signer.hexSHA256(Array(next.utf8))).inserted else {
                throw ObjectStoreError(.badResponse, operation: "list", object: "s3://\(bucket)/\(prefix)",
                                       message: "page \(listing.pages) repeats the continuation token '\(next.prefix(64))' of an earlier page: the server is listing in a loop")
            }
            emptyPagesInARow = page.objects.isEmpty && page.commonPrefixes.isEmpty ? emptyPagesInARow + 1 : 0
            guard emptyPagesInARow < Self.maxEmptyPagesInARow else {
                throw ObjectStoreError(.badResponse, operation: "list", object: "s3://\(bucket)/\(prefix)",
                                       message: "\(emptyPagesInARow) truncated pages in a row without a single entry (up to page \(listing.pages)): the server is listing in a loop")
            }
        } while true
        return listing
    }

    // MARK: read

    public func headObject(bucket: String, key: String) throws -> S3ObjectSummary {
        try headObjectFuture(bucket: bucket, key: key).wait()
    }

    public func headObjectFuture(bucket: String, key: String) -> EventLoopFuture<S3ObjectSummary> {
        let request = Request(method: .HEAD, bucket: bucket, key: key, kind: "HEAD", operation: "HEAD")
        return perform(request) { HeadersSink() }.flatMapThrowing { headers in
            guard let length = headers.first(name: "content-length") else {
                throw ObjectStoreError(.badResponse, operation: "HEAD", object: "s3://\(bucket)/\(key)",
                                       message: "the answer has no Content-Length")
            }
            let size = try ListObjectsV2Page.checkedSize(length, what: "the Content-Length") {
                ObjectStoreError(.badResponse, operation: "HEAD", object: "s3://\(bucket)/\(key)", message: $0)
            }
            return S3ObjectSummary(key: key, size: size, etag: headers.first(name: "etag"), lastModified: headers.first(name: "last-modified"))
        }.flatMapError { error in
            // A HEAD error has no body, so no S3 error code: ask a 1-byte GET for the real reason
            // (SignatureDoesNotMatch rather than 403, NoSuchBucket rather than 404).
            guard let failure = error as? ObjectStoreError, let status = failure.httpStatus, (400..<500).contains(status) else {
                return self.group.next().makeFailedFuture(error)
            }
            var probe = Request(method: .GET, bucket: bucket, key: key, headers: [("Range", "bytes=0-0")], kind: "GET", operation: "HEAD")
            probe.objectOverride = nil
            return self.perform(probe) { CollectSink(limit: 16) }.flatMapThrowing { _ -> S3ObjectSummary in
                throw failure
            }.flatMapErrorThrowing { probeError in
                guard let detailed = probeError as? ObjectStoreError, detailed.code != nil, detailed.httpStatus == status else { throw failure }
                throw detailed
            }
        }
    }

    /// `count` bytes from `offset`, in one ranged GET (retried as a whole). With `ifMatch`, a changed object
    /// fails with `.changed` instead of mixing two versions' bytes.
    func getRangeFuture(bucket: String, key: String, offset: Int64, count: Int, ifMatch: String? = nil)
        -> EventLoopFuture<(FetchBuffer, RangeReply)> {
        var headers = [("Range", "bytes=\(offset)-\(offset + Int64(count) - 1)")]
        if let ifMatch { headers.append(("If-Match", ifMatch)) }
        let request = Request(method: .GET, bucket: bucket, key: key, headers: headers, kind: "GET", operation: "GET bytes \(offset)-\(offset + Int64(count) - 1)")
        let buffer = FetchBuffer(count: count)
        let recorder = self.recorder
        return perform(request) { RangeSink(offset: offset, count: count, into: buffer) }.map { reply in
            recorder.read(count)
            return (buffer, reply)
        }
    }

    public func getRange(bucket: String, key: String, offset: Int64, count: Int) throws -> [UInt8] {
        guard count > 0 else { return [] }
        return try getRangeFuture(bucket: bucket, key: key, offset: offset, count: count).wait().0.bytes
    }

    /// The whole object, in one GET.
    public func getObject(bucket: String, key: String) throws -> [UInt8] {
        let request = Request(method: .GET, bucket: bucket, key: key, kind: "GET", operation: "GET")
        let body = try perform(request) { CollectSink(limit: Int.max) }.wait().body
        recorder.read(body.count)
        return body
    }

    // MARK: write

    /// A single PUT: the object appears whole or not at all. Returns the ETag. With `ifNoneMatch`, only if
    /// no object has the key (S3's conditional write; 412 PreconditionFailed otherwise).
    @discardableResult
    public func putObject(bucket: String, key: String, bytes: [UInt8], contentType: String? = nil, ifNoneMatch: Bool = false) throws -> String? {
        try putObjectFuture(bucket: bucket, key: key, bytes: bytes, contentType: contentType, ifNoneMatch: ifNoneMatch).wait()
    }

    func putObjectFuture(bucket: String, key: String, bytes: [UInt8], contentType: String? = nil, ifNoneMatch: Bool = false) -> EventLoopFuture<String?> {
        var headers: [(String, String)] = []
        if let contentType { headers.append(("Content-Type", contentType)) }
        if ifNoneMatch { headers.append(("If-None-Match", "*")) }
        let request = Request(method: .PUT, bucket: bucket, key: key, headers: headers, body: bytes, kind: "PUT", operation: "PUT")
        let recorder = self.recorder
        return perform(request) { HeadersSink() }.map { headers in
            recorder.wrote(bytes.count)
            return headers.first(name: "etag")
        }
    }

    public func deleteObject(bucket: String, key: String) throws {
        let request = Request(method: .DELETE, bucket: bucket, key: key, kind: "DELETE", operation: "DELETE")
        _ = try perform(request) { HeadersSink() }.wait()
    }

    // MARK: multipart upload

    /// Starts a multipart upload. `attempts` > 1 means an earlier attempt may have created an upload whose
    /// answer was lost (CreateMultipartUpload is not idempotent): see `abortOtherUploads`.
    func createMultipartUpload(bucket: String, key: String, contentType: String? = nil) -> EventLoopFuture<(uploadID: String, attempts: Int)> {
        var headers: [(String, String)] = []
        if let contentType { headers.append(("Content-Type", contentType)) }
        let request = Request(method: .POST, bucket: bucket, key: key, query: [("uploads", "")], headers: headers,
                              kind: "MPU", operation: "create multipart upload")
        let attempts = NIOLockedValueBox(0)
        return perform(request) { () -> CollectSink in
            attempts.withLockedValue { $0 += 1 }
            return CollectSink(limit: S3Limits.maxXMLBytes)
        }.flatMapThrowing { reply in
            let uploadID = try S3ResponseXML.initiatedUploadID(reply.body, object: "s3://\(bucket)/\(key)")
            return (uploadID, attempts.withLockedValue { $0 })
        }
    }

    /// Upload ids of the multipart uploads in progress for exactly `key`.
    func listMultipartUploads(bucket: String, key: String) throws -> [String] {
        let request = Request(method: .GET, bucket: bucket, key: nil, query: [("uploads", ""), ("prefix", key)],
                              kind: "MPU", operation: "list multipart uploads", objectOverride: "s3://\(bucket)/\(key)")
        let reply = try perform(request) { CollectSink(limit: S3Limits.maxXMLBytes) }.wait()
        return try S3ResponseXML.uploadIDs(reply.body, key: key, object: "s3://\(bucket)/\(key)")
    }

    /// Aborts the uploads in progress for `key` other than `keep`: the orphans of retried
    /// CreateMultipartUpload requests. Safe because one writer at a time owns an output key.
    func abortOtherUploads(bucket: String, key: String, keep: String?) {
        guard let ids = try? listMultipartUploads(bucket: bucket, key: key) else { return }
        for id in ids where id != keep {
            _ = try? abortMultipartUpload(bucket: bucket, key: key, uploadID: id).wait()
        }
    }

    func uploadPart(bucket: String, key: String, uploadID: String, partNumber: Int, bytes: [UInt8]) -> EventLoopFuture<String> {
        let request = Request(method: .PUT, bucket: bucket, key: key, query: [("partNumber", String(partNumber)), ("uploadId", uploadID)],
                              body: bytes, kind: "MPU", operation: "upload part \(partNumber)")
        let recorder = self.recorder
        return perform(request) { HeadersSink() }.flatMapThrowing { headers in
            guard let etag = headers.first(name: "etag") else {
                throw ObjectStoreError(.badResponse, operation: "upload part \(partNumber)", object: "s3://\(bucket)/\(key)",
                                       message: "the answer has no ETag")
            }
            recorder.wrote(bytes.count)
            return etag
        }
    }

    func completeMultipartUpload(bucket: String, key: String, uploadID: String, parts: [(number: Int, etag: String)]) -> EventLoopFuture<String?> {
        var xml = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        for part in parts {
            xml += "<Part><PartNumber>\(part.number)</PartNumber><ETag>\(xmlEscape(part.etag))</ETag></Part>"
        }
        xml += "</CompleteMultipartUpload>"
        let request = Request(method: .POST, bucket: bucket, key: key, query: [("uploadId", uploadID)],
                              headers: [("Content-Type", "application/xml")], body: Array(xml.utf8),
                              kind: "MPU", operation: "complete multipart upload")
        return perform(request) { CompleteSink() }
    }

    func abortMultipartUpload(bucket: String, key: String, uploadID: String) -> EventLoopFuture<Void> {
        let request = Request(method: .DELETE, bucket: bucket, key: key, query: [("uploadId", uploadID)],
                              kind: "MPU", operation: "abort multipart upload")
        let recorder = self.recorder
        return perform(request) { HeadersSink() }.map { _ in recorder.abortedUpload() }.flatMapError { error in
            // Already gone (completed elsewhere, or aborted by an earlier attempt whose answer was lost).
            if let error = error as? ObjectStoreError, error.code == "NoSuchUpload" {
                recorder.abortedUpload()
                return self.group.next().makeSucceededVoidFuture()
            }
            return self.group.next().makeFailedFuture(error)
        }
    }
}

/// CompleteMultipartUpload answers 200 and may still carry an `<Error>` in the body (S3 sends the status
/// before it knows the outcome): that is a failure, retried like a 500.
final class CompleteSink: ResponseSink {
    private let collect = CollectSink(limit: 1 << 20)
    func begin(_ head: HTTPResponseHead) throws { try collect.begin(head) }
    func append(_ buffer: ByteBuffer) throws { try collect.append(buffer) }
    func finish() throws -> String? {
        try S3ResponseXML.completedETag(collect.finish().body)
    }
}

/// `%XX` decoding; with `plusIsSpace`, `+` is a space (S3's `encoding-type=url` listings).
func percentDecode(_ text: String, plusIsSpace: Bool) -> String {
    var out: [UInt8] = []
    out.reserveCapacity(text.utf8.count)
    var bytes = text.utf8.makeIterator()
    func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
    while let byte = bytes.next() {
        if byte == UInt8(ascii: "+"), plusIsSpace {
            out.append(UInt8(ascii: " "))
        } else if byte == UInt8(ascii: "%") {
            let high = bytes.next()
            let low = bytes.next()
            if let high, let low, let h = hexValue(high), let l = hexValue(low) {
                out.append(h << 4 | l)
            } else {
                out.append(byte)
                if let high { out.append(high) }
                if let low { out.append(low) }
            }
        } else {
            out.append(byte)
        }
    }
    return String(decoding: out, as: UTF8.self)
}
