import AsyncHTTPClient
import NIOCore
import NIOHTTP1

/// A non-2xx answer: its status, headers and (the start of) its XML body, for `S3Client` to turn into an
/// `ObjectStoreError` or a retry.
struct S3ErrorReply: Error, Sendable {
    var status: Int
    var headers: HTTPHeaders
    var body: [UInt8]
}

/// A response that broke off or did not match what was asked (short body, wrong range): worth retrying.
struct TransientResponseError: Error, Sendable, CustomStringConvertible {
    var description: String
}

/// A body larger than the answer can legitimately be: another attempt would get the same, so not retried.
struct ResponseTooLargeError: Error, Sendable, CustomStringConvertible {
    var limit: Int
    var announced: Int?
    var description: String {
        "the answer's body " + (announced.map { "announces \($0) bytes, more than" } ?? "exceeds") + " the \(limit) bytes it may hold"
    }
}

/// What to do with a successful response's body. A sink lives on one event loop: AsyncHTTPClient calls a
/// delegate's methods one at a time on the task's event loop.
protocol ResponseSink: AnyObject, SendableMetatype {
    associatedtype Payload: Sendable
    func begin(_ head: HTTPResponseHead) throws
    func append(_ buffer: ByteBuffer) throws
    func finish() throws -> Payload
}

/// Runs a `ResponseSink` for 2xx answers and collects the body of anything else (up to 64 KiB) as an
/// `S3ErrorReply`.
final class S3ResponseDelegate<Sink: ResponseSink>: HTTPClientResponseDelegate, @unchecked Sendable {
    // @unchecked: AsyncHTTPClient calls every method on the task's event loop, one at a time.
    typealias Response = Sink.Payload

    private let sink: Sink
    private var errorHead: HTTPResponseHead?
    private var errorBody: [UInt8] = []
    private static var errorBodyLimit: Int { 64 << 10 }

    init(_ sink: Sink) { self.sink = sink }

    func didReceiveHead(task: HTTPClient.Task<Response>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
        guard (200..<300).contains(Int(head.status.code)) else {
            errorHead = head
            return task.eventLoop.makeSucceededVoidFuture()
        }
        do {
            try sink.begin(head)
            return task.eventLoop.makeSucceededVoidFuture()
        } catch {
            return task.eventLoop.makeFailedFuture(error)
        }
    }

    func didReceiveBodyPart(task: HTTPClient.Task<Response>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        if errorHead != nil {
            let room = Self.errorBodyLimit - errorBody.count
            if room > 0 { errorBody += buffer.readableBytesView.prefix(room) }
            return task.eventLoop.makeSucceededVoidFuture()
        }
        do {
            try sink.append(buffer)
            return task.eventLoop.makeSucceededVoidFuture()
        } catch {
            return task.eventLoop.makeFailedFuture(error)
        }
    }

    func didFinishRequest(task: HTTPClient.Task<Response>) throws -> Response {
        if let errorHead {
            throw S3ErrorReply(status: Int(errorHead.status.code), headers: errorHead.headers, body: errorBody)
        }
        return try sink.finish()
    }
}

/// Headers and the whole body (XML answers, small objects).
struct CollectedReply: Sendable {
    var status: Int
    var headers: HTTPHeaders
    var body: [UInt8]
}

final class CollectSink: ResponseSink {
    private var head: HTTPResponseHead?
    private var body: [UInt8] = []
    private let limit: Int

    init(limit: Int = 64 << 20) { self.limit = limit }

    func begin(_ head: HTTPResponseHead) throws {
        self.head = head
        if let length = head.headers.first(name: "content-length").flatMap(Int.init) {
            guard length <= limit else { throw ResponseTooLargeError(limit: limit, announced: length) }
            if length > 0 { body.reserveCapacity(length) }
        }
    }

    func append(_ buffer: ByteBuffer) throws {
        guard buffer.readableBytes <= limit - body.count else { throw ResponseTooLargeError(limit: limit, announced: nil) }
        body += buffer.readableBytesView
    }

    func finish() throws -> CollectedReply {
        CollectedReply(status: Int(head?.status.code ?? 200), headers: head?.headers ?? [:], body: body)
    }
}

/// Headers only; a body, if any, is dropped (HEAD, PUT, DELETE, UploadPart).
final class HeadersSink: ResponseSink {
    private var headers: HTTPHeaders = [:]
    func begin(_ head: HTTPResponseHead) throws { headers = head.headers }
    func append(_ buffer: ByteBuffer) throws {}
    func finish() throws -> HTTPHeaders { headers }
}

/// The bytes of one ranged GET, written in place into a buffer allocated for exactly the range.
final class FetchBuffer: @unchecked Sendable {
    // @unchecked: written only by one attempt's sink on its event loop; read only after that request's
    // future has completed (which orders the writes before the reads).
    var bytes: [UInt8]
    init(count: Int) { bytes = [UInt8](repeating: 0, count: count) }
}

/// What a ranged GET learnt about the object besides its bytes.
struct RangeReply: Sendable {
    /// The object's total size, from `Content-Range`.
    var objectSize: Int64?
    var etag: String?
}

/// Writes the body of `GET Range: bytes=offset-(offset+count-1)` into `buffer`, checking that the server
/// sent that range and all of it. A server that ignores `Range` (200 with the whole object) is handled by
/// skipping to the range.
final class RangeSink: ResponseSink {
    private let offset: Int64
    private let count: Int
    private let buffer: FetchBuffer
    private var skip: Int64 = 0
    private var written = 0
    private var reply = RangeReply()

    init(offset: Int64, count: Int, into buffer: FetchBuffer) {
        self.offset = offset
        self.count = count
        self.buffer = buffer
    }

    func begin(_ head: HTTPResponseHead) throws {
        reply.etag = head.headers.first(name: "etag")
        if head.status.code == 206 {
            guard let range = head.headers.first(name: "content-range").flatMap(ContentRange.init) else {
                throw TransientResponseError(description: "206 without a valid Content-Range header")
            }
            guard range.first == offset, range.last == offset + Int64(count) - 1 else {
                throw TransientResponseError(description: "asked for bytes \(offset)-\(offset + Int64(count) - 1), got \(range.first)-\(range.last)")
            }
            reply.objectSize = range.total
        } else {
            // 200: the whole object; keep the requested slice.
            skip = offset
            reply.objectSize = head.headers.first(name: "content-length").flatMap(Int64.init)
        }
    }

    func append(_ part: ByteBuffer) throws {
        var view = part.readableBytesView[...]
        if skip > 0 {
            let dropped = min(Int64(view.count), skip)
            view = view.dropFirst(Int(dropped))
            skip -= dropped
        }
        let take = min(view.count, count - written)
        guard take > 0 else { return }
        let start = written
        buffer.bytes.withUnsafeMutableBytes { destination in
            // destination has `count` bytes and start + take <= count.
            UnsafeMutableRawBufferPointer(rebasing: destination[start..<(start + take)]).copyBytes(from: view.prefix(take))
        }
        written += take
    }

    func finish() throws -> RangeReply {
        guard written == count else {
            throw TransientResponseError(description: "the response ended after \(written) of \(count) bytes")
        }
        return reply
    }
}

/// `Content-Range: bytes FIRST-LAST/TOTAL` (TOTAL may be `*`).
struct ContentRange: Equatable {
    var first: Int64
    var last: Int64
    var total: Int64?

    init?(_ text: String) {
        let trimmed = text.trimmingSpaces()
        guard trimmed.hasPrefix("bytes ") else { return nil }
        let spec = trimmed.dropFirst(6)
        let parts = spec.split(separator: "/", maxSplits: 1)
        guard parts.count == 2 else { return nil }
        let bounds = parts[0].split(separator: "-", maxSplits: 1)
        guard bounds.count == 2, let first = Int64(bounds[0]), let last = Int64(bounds[1]), first <= last else { return nil }
        self.first = first
        self.last = last
        total = parts[1] == "*" ? nil : Int64(parts[1])
        if parts[1] != "*", total == nil { return nil }
    }
}
