import Foundation

/// What an S3 answer may claim, checked before anything is believed: S3 stores objects of at most 5 TiB.
enum S3Limits {
    static let maxObjectSize: Int64 = 5 << 40
    /// An XML answer larger than this is refused.
    static let maxXMLBytes = XMLElement.maxDocumentBytes
}

/// One page of a ListObjectsV2 answer, as listed: keys outside the requested prefix are kept as they are
/// (the caller decides what a key may be used for, see `ObjectKeyPath`).
struct ListObjectsV2Page: Sendable, Equatable {
    var objects: [S3ObjectSummary] = []
    /// With a delimiter: the "directories" (`prefix/sub/`).
    var commonPrefixes: [String] = []
    /// Set when the page says it is truncated; never empty.
    var nextToken: String?

    /// Parses one answer's raw bytes; `bucket` and `prefix` only name the listing in errors. Every failure is
    /// an `ObjectStoreError(.badResponse)` saying what is wrong (and which entry).
    static func parse(_ body: [UInt8], bucket: String = "bucket", prefix: String = "") throws -> ListObjectsV2Page {
        let object = "s3://\(bucket)/\(prefix)"
        func bad(_ message: String) -> ObjectStoreError {
            ObjectStoreError(.badResponse, operation: "list", object: object, message: message)
        }
        let root: XMLElement
        do {
            root = try XMLElement.parse(body)
        } catch {
            throw bad("the ListObjectsV2 answer is not XML: \(error)")
        }
        guard root.name == "ListBucketResult" else { throw bad("expected <ListBucketResult>, got <\(root.name)>") }
        let urlEncoded = root.value("EncodingType") == "url"
        func decode(_ text: String) -> String { urlEncoded ? percentDecode(text, plusIsSpace: true) : text }
        var page = ListObjectsV2Page()
        for (index, item) in root.children("Contents").enumerated() {
            guard let rawKey = item.value("Key"), let sizeText = item.value("Size") else {
                throw bad("<Contents> entry \(index) has no Key or no Size")
            }
            let key = decode(rawKey)
            guard !key.isEmpty else { throw bad("<Contents> entry \(index) has an empty Key") }
            let size = try checkedSize(sizeText, what: "the Size of '\(key)'", bad: bad)
            page.objects.append(S3ObjectSummary(key: key, size: size, etag: item.value("ETag"), lastModified: item.value("LastModified")))
        }
        for common in root.children("CommonPrefixes") {
            if let value = common.value("Prefix") { page.commonPrefixes.append(decode(value)) }
        }
        if root.value("IsTruncated")?.lowercased() == "true" {
            guard let token = root.value("NextContinuationToken"), !token.isEmpty else {
                throw bad("a truncated listing without a NextContinuationToken")
            }
            page.nextToken = token
        }
        return page
    }

    static func parse(_ data: Data) throws -> ListObjectsV2Page { try parse([UInt8](data)) }

    /// A decimal size within 0...5 TiB.
    static func checkedSize(_ text: String, what: String, bad: (String) -> ObjectStoreError) throws -> Int64 {
        guard let size = Int64(text) else { throw bad("\(what) is not a number: '\(text.prefix(40))'") }
        guard size >= 0 else { throw bad("\(what) is negative (\(size))") }
        guard size <= S3Limits.maxObjectSize else { throw bad("\(what) is \(size) bytes, more than S3's 5 TiB limit") }
        return size
    }
}

/// The other XML answers the client reads, each from raw bytes.
enum S3ResponseXML {
    /// The UploadId of an InitiateMultipartUploadResult.
    static func initiatedUploadID(_ body: [UInt8], object: String) throws -> String {
        guard let root = try? XMLElement.parse(body), root.name == "InitiateMultipartUploadResult",
              let uploadID = root.value("UploadId"), !uploadID.isEmpty else {
            throw ObjectStoreError(.badResponse, operation: "create multipart upload", object: object, message: "the answer has no UploadId")
        }
        return uploadID
    }

    /// Upload ids in a ListMultipartUploadsResult for exactly `key`.
    static func uploadIDs(_ body: [UInt8], key: String, object: String) throws -> [String] {
        guard let root = try? XMLElement.parse(body), root.name == "ListMultipartUploadsResult" else {
            throw ObjectStoreError(.badResponse, operation: "list multipart uploads", object: object,
                                   message: "expected <ListMultipartUploadsResult>")
        }
        return root.children("Upload").filter { $0.value("Key") == key }.compactMap { $0.value("UploadId") }
    }

    /// The ETag of a CompleteMultipartUploadResult; an `<Error>` sent with status 200 is a failure.
    static func completedETag(_ body: [UInt8]) throws -> String? {
        guard let root = try? XMLElement.parse(body) else {
            throw TransientResponseError(description: "the CompleteMultipartUpload answer is not XML")
        }
        if root.name == "Error" {
            throw S3ErrorBodyInSuccess(code: root.value("Code"), message: root.value("Message") ?? "the upload could not be completed")
        }
        return root.value("ETag")
    }

    /// Feeds `bytes` to every parser of S3 answers (the fuzz targets' single entry point) and says how many
    /// accepted them. Any input must end in a value or a thrown error: never a trap, a hang or a huge allocation.
    @discardableResult
    static func parseEveryKind(_ bytes: [UInt8]) -> Int {
        var accepted = 0
        if (try? ListObjectsV2Page.parse(bytes)) != nil { accepted += 1 }
        if S3ErrorBody(bytes).code != nil { accepted += 1 }
        if (try? initiatedUploadID(bytes, object: "s3://bucket/key")) != nil { accepted += 1 }
        if (try? uploadIDs(bytes, key: "key", object: "s3://bucket/key")) != nil { accepted += 1 }
        if (try? completedETag(bytes)) != nil { accepted += 1 }
        return accepted
    }

    static func parseEveryKind(_ data: Data) -> Int { parseEveryKind([UInt8](data)) }
}
