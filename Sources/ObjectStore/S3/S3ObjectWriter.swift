import NIOCore

/// Writes an S3 object atomically: small outputs with one PUT at `close()`, larger ones as a multipart
/// upload (parts of `uploadPartSize` sent while later bytes are still being written, at most
/// `uploadConcurrency` in flight) completed at `close()`. S3 shows the object only once the PUT or the
/// CompleteMultipartUpload succeeds; on any failure, on `abort()`, or when the writer is dropped unclosed,
/// the multipart upload is aborted so that no parts are left behind.
///
/// `write` blocks when `uploadConcurrency` parts are in flight (backpressure), so memory stays at about
/// (uploadConcurrency + 1) × uploadPartSize. Use from one thread; see `S3Client` for threading rules.
public final class S3ObjectWriter: ObjectWriter {
    public let name: String
    public let bucket: String
    public let key: String
    private let client: S3Client
    private let partSize: Int
    private let singlePutThreshold: Int
    private let concurrency: Int
    private let contentType: String?

    private enum Phase { case open, committed, aborted, failed }
    private var phase = Phase.open
    private var buffer: [UInt8] = []
    private var upload: EventLoopFuture<(uploadID: String, attempts: Int)>?
    private var uploadID: EventLoopFuture<String>? { upload.map { future in future.map { $0.uploadID } } }
    private var inFlight: [(number: Int, etag: EventLoopFuture<String>)] = []
    private var finished: [(number: Int, etag: String)] = []
    private var nextPart = 1
    public private(set) var bytesWritten: Int64 = 0
    /// Parts started (for tests and stats).
    public var partsStarted: Int { nextPart - 1 }

    public init(client: S3Client, bucket: String, key: String, contentType: String? = nil) {
        self.client = client
        self.bucket = bucket
        self.key = key
        self.contentType = contentType
        name = "s3://\(bucket)/\(key)"
        let tuning = client.configuration.tuning
        partSize = max(5 << 20, tuning.uploadPartSize)
        singlePutThreshold = max(0, tuning.singlePutThreshold)
        concurrency = max(1, tuning.uploadConcurrency)
    }

    deinit {
        if phase == .open, upload != nil { abort() }
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        try ensureOpen("write")
        buffer.append(contentsOf: bytes)
        bytesWritten += Int64(bytes.count)
        // Stay in a single PUT until the output outgrows it; then send whole parts as they fill.
        while buffer.count >= partSize, upload != nil || buffer.count > singlePutThreshold {
            let part = Array(buffer[0..<partSize])
            buffer.removeFirst(partSize)
            try guarded { try startPart(part) }
        }
    }

    public func close() throws {
        if phase == .committed { return }
        try ensureOpen("close")
        try guarded {
            if upload == nil {
                _ = try client.putObjectFuture(bucket: bucket, key: key, bytes: buffer, contentType: contentType).wait()
            } else {
                if !buffer.isEmpty { try startPart(buffer) }
                for part in inFlight { finished.append((part.number, try part.etag.wait())) }
                inFlight = []
                guard let uploadID = try uploadID?.wait() else { return }
                do {
                    _ = try client.completeMultipartUpload(bucket: bucket, key: key, uploadID: uploadID,
                                                           parts: finished.sorted { $0.number < $1.number }).wait()
                } catch let error as ObjectStoreError where error.code == "NoSuchUpload" && error.attempts > 1 {
                    // An earlier attempt completed the upload but its answer was lost: the object must be there.
                    guard let head = try? client.headObject(bucket: bucket, key: key), head.size == bytesWritten else { throw error }
                }
            }
            buffer = []
            phase = .committed
            cleanUpOrphans()
        }
    }

    /// After a retried CreateMultipartUpload, an upload created by a lost attempt may be pending.
    private func cleanUpOrphans() {
        guard let upload, let created = try? upload.wait(), created.attempts > 1 else { return }
        client.abortOtherUploads(bucket: bucket, key: key, keep: nil)
    }

    public func abort() {
        guard phase == .open || phase == .failed else { return }
        phase = .aborted
        buffer = []
        guard let uploadID else { return }
        for part in inFlight { _ = try? part.etag.wait() }
        inFlight = []
        if let id = try? uploadID.wait() {
            _ = try? client.abortMultipartUpload(bucket: bucket, key: key, uploadID: id).wait()
        }
        cleanUpOrphans()
    }

    private func startPart(_ bytes: [UInt8]) throws {
        if upload == nil {
            upload = client.createMultipartUpload(bucket: bucket, key: key, contentType: contentType)
        }
        guard let uploadID else { return }
        let number = nextPart
        guard number <= 10_000 else {
            throw ObjectStoreError(.invalidArgument, operation: "upload part", object: name,
                                   message: "more than 10,000 parts: raise the upload part size (now \(partSize) bytes)")
        }
        nextPart += 1
        let client = self.client, bucket = self.bucket, key = self.key
        let etag = uploadID.flatMap { id in
            client.uploadPart(bucket: bucket, key: key, uploadID: id, partNumber: number, bytes: bytes)
        }
        inFlight.append((number, etag))
        // Backpressure: wait for the oldest parts while too many are in flight.
        while inFlight.count >= concurrency {
            let oldest = inFlight.removeFirst()
            finished.append((oldest.number, try oldest.etag.wait()))
        }
    }

    private func ensureOpen(_ operation: String) throws {
        switch phase {
        case .open: return
        case .committed:
            throw ObjectStoreError(.invalidArgument, operation: operation, object: name, message: "the object was already committed")
        case .aborted, .failed:
            throw ObjectStoreError(.aborted, operation: operation, object: name, message: "the write was aborted; nothing was committed")
        }
    }

    /// Runs `body`; on failure aborts the upload (nothing stays behind) and rethrows the first error.
    private func guarded(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch {
            phase = .failed
            abort()
            throw error
        }
    }
}
