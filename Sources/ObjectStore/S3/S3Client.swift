import AsyncHTTPClient
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// The S3 REST API over AsyncHTTPClient: signing, addressing, bounded concurrency, retries, errors.
///
/// Threads: the client owns a `MultiThreadedEventLoopGroup` (`S3Tuning.eventLoopThreads`, one by default)
/// on which all HTTP I/O runs. The blocking methods (`listObjects`, `headObject`, `getObject`, ... and the
/// `ByteRangeSource`/`ByteSink` built on them) wait for their futures on the calling thread: call them
/// from dedicated threads (Sluice's workers), never from an event loop, and not from Swift's cooperative
/// pool, whose few threads they would block (async code hands such work to a thread of its own, as the
/// tests' `onWorkerThread` does). Internally every request is an `EventLoopFuture`, so an async API can
/// be added on top (`future.get()`) without touching the HTTP layer.
///
/// Call `shutdown()` when done; requests after it fail.
public final class S3Client: Sendable {
    public let configuration: S3Configuration
    let group: MultiThreadedEventLoopGroup
    private let http: HTTPClient
    let limiter: RequestLimiter
    let recorder = StatsRecorder()
    private let signer: SigV4Signer?
    private let isShutDown = NIOLockedValueBox(false)

    public init(configuration: S3Configuration) {
        self.configuration = configuration
        group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, configuration.tuning.eventLoopThreads))
        var http = HTTPClient.Configuration()
        http.timeout = .init(connect: .milliseconds(Int64(configuration.tuning.connectTimeoutSeconds * 1000)),
                             read: .milliseconds(Int64(configuration.tuning.readTimeoutSeconds * 1000)))
        http.connectionPool = .init(idleTimeout: .seconds(60),
                                    concurrentHTTP1ConnectionsPerHostSoftLimit: max(1, configuration.tuning.maxConcurrentRequests))
        http.httpVersion = .http1Only
        http.decompression = .disabled
        // A failed connect fails the request at once (AsyncHTTPClient would otherwise keep trying for the
        // whole connect timeout); `perform` then retries it under `RetryPolicy.maxConnectAttempts`.
        http.connectionPool.retryConnectionEstablishment = false
        http.redirectConfiguration = .disallow
        self.http = HTTPClient(eventLoopGroup: group, configuration: http)
        limiter = RequestLimiter(limit: configuration.tuning.maxConcurrentRequests)
        if case .signed(let credentials) = configuration.authentication {
            signer = SigV4Signer(credentials: credentials, region: configuration.region, service: "s3")
        } else {
            signer = nil
        }
    }

    /// Closes connections and stops the event loop threads. Call it once, from outside the event loops.
    public func shutdown() {
        let first = isShutDown.withLockedValue { done -> Bool in
            defer { done = true }
            return !done
        }
        guard first else { return }
        try? http.syncShutdown()
        try? group.syncShutdownGracefully()
    }

    /// Requests, retries and bytes so far.
    public var stats: ObjectStoreStats { recorder.snapshot }

    // MARK: requests

    struct Request: Sendable {
        var method: HTTPMethod
        var bucket: String
        var key: String?
        var query: [(String, String)] = []
        /// Extra headers, all signed (Range, If-Match, Content-Type ...).
        var headers: [(String, String)] = []
        var body: [UInt8]?
        /// Stats category: GET, PUT, HEAD, LIST, DELETE, MPU.
        var kind: String
        /// For messages: "GET", "list", "upload part 3" ...
        var operation: String
        /// What to name in errors when it is not the key (a prefix being listed).
        var objectOverride: String?

        var objectName: String {
            objectOverride ?? "s3://\(bucket)/\(key ?? "")"
        }
    }

    /// Sends `request`, retrying what can be retried, and hands a 2xx body to a fresh sink per attempt.
    func perform<Sink: ResponseSink>(_ request: Request, sink makeSink: @escaping @Sendable () -> Sink) -> EventLoopFuture<Sink.Payload> {
        let eventLoop = group.next()
        guard !isShutDown.withLockedValue({ $0 }) else {
            return eventLoop.makeFailedFuture(ObjectStoreError(.invalidArgument, operation: request.operation, object: request.objectName,
                                                               message: "the S3 client has been shut down"))
        }
        let payloadHash: String
        if let body = request.body {
            payloadHash = configuration.tuning.signPayload ? SigV4Signer.hexSHA256(body) : SigV4Signer.unsignedPayload
        } else {
            payloadHash = SigV4Signer.emptyPayloadSHA256
        }
        let policy = configuration.tuning.retry
        let promise = eventLoop.makePromise(of: Sink.Payload.self)

        @Sendable func attempt(_ number: Int) {
            let started = limiter.run(on: eventLoop) { () -> EventLoopFuture<Sink.Payload> in
                do {
                    let httpRequest = try self.makeHTTPRequest(request, payloadHash: payloadHash)
                    let delegate = S3ResponseDelegate(makeSink())
                    return self.http.execute(request: httpRequest, delegate: delegate, eventLoop: .delegate(on: eventLoop)).futureResult
                } catch {
                    return eventLoop.makeFailedFuture(error)
                }
            }
            started.whenComplete { result in
                self.recorder.request(request.kind)
                switch result {
                case .success(let payload):
                    promise.succeed(payload)
                case .failure(let error):
                    let (reason, failure) = self.classify(error, request, attempts: number)
                    if let reason, policy.allowsRetry(afterAttempt: number, reason: reason) {
                        self.recorder.retry(reason)
                        let delay = policy.delay(afterAttempt: number, reason: reason, random: Double.random(in: 0..<1))
                        eventLoop.scheduleTask(in: .nanoseconds(Int64(delay * 1e9))) { attempt(number + 1) }
                    } else {
                        self.recorder.failure()
                        promise.fail(failure)
                    }
                }
            }
        }
        attempt(1)
        return promise.futureResult
    }

    private func makeHTTPRequest(_ request: Request, payloadHash: String) throws -> HTTPClient.Request {
        let endpoint = configuration.endpoint
        let virtual = configuration.usesVirtualHost(for: request.bucket)
        let host = endpoint.hostHeader(prefix: virtual ? request.bucket : nil)
        var rawPath = virtual ? "/" : "/\(request.bucket)"
        if let key = request.key {
            rawPath += virtual ? key : "/\(key)"
        }
        let path = SigV4Signer.encodePath(rawPath)
        let query = SigV4Signer.canonicalQuery(request.query)
        let url = "\(endpoint.scheme)://\(host)\(path)\(query.isEmpty ? "" : "?\(query)")"

        var headers = HTTPHeaders()
        headers.add(name: "Host", value: host)
        for (name, value) in request.headers { headers.add(name: name, value: value) }
        if let signer {
            var toSign = request.headers
            toSign.append(("host", host))
            let signature = signer.sign(method: request.method.rawValue, canonicalURI: path, query: request.query,
                                        headers: toSign, payloadHash: payloadHash, date: Int(Date().timeIntervalSince1970))
            for (name, value) in signature.headers { headers.add(name: name, value: value) }
        } else if request.body != nil {
            headers.add(name: "x-amz-content-sha256", value: payloadHash)
        }
        var httpRequest = try HTTPClient.Request(url: url, method: request.method, headers: headers)
        if let body = request.body {
            httpRequest.body = .bytes(body)
        }
        return httpRequest
    }

    /// Whether a failure may be retried, and the error to report if it is not (or no longer) retried.
    private func classify(_ error: any Error, _ request: Request, attempts: Int) -> (RetryPolicy.Reason?, ObjectStoreError) {
        switch error {
        case let reply as S3ErrorReply:
            let parsed = S3ErrorBody(reply.body)
            let code = parsed.code ?? Self.codeForStatus(reply.status, request: request)
            let reason = RetryPolicy.reason(httpStatus: reply.status, code: code)
            var message = parsed.message ?? HTTPResponseStatus(statusCode: reply.status).reasonPhrase
            if let hint = ObjectStoreError.hint(for: code) { message += " — \(hint)" }
            let kind: ObjectStoreError.Kind
            switch (reply.status, code) {
            case (404, _), (_, "NoSuchKey"), (_, "NoSuchBucket"), (_, "NoSuchUpload"): kind = .notFound
            case (403, _), (_, "SignatureDoesNotMatch"), (_, "InvalidAccessKeyId"), (_, "AccessDenied"): kind = .accessDenied
            case (412, _): kind = .changed
            case (500..., _), (429, _): kind = .unavailable
            default: kind = .requestFailed
            }
            let requestID = parsed.requestID ?? reply.headers.first(name: "x-amz-request-id")
            return (reason, ObjectStoreError(kind, operation: request.operation, object: request.objectName, httpStatus: reply.status,
                                             code: code, message: message, requestID: requestID, attempts: attempts))
        case let error as ObjectStoreError:
            return (nil, error)
        case let error as ResponseTooLargeError:
            return (nil, ObjectStoreError(.badResponse, operation: request.operation, object: request.objectName,
                                          message: error.description, attempts: attempts))
        case _ where Self.connectFailure(error) != nil:
            let reason = Self.connectFailure(error) ?? "cannot connect"
            return (.connect, ObjectStoreError(.unreachable, operation: request.operation, object: request.objectName,
                                               message: "cannot connect to \(configuration.endpoint): \(reason) (check --endpoint-url, the network, and that the server is running)",
                                               attempts: attempts))
        case let error as TransientResponseError:
            return (.network, ObjectStoreError(.badResponse, operation: request.operation, object: request.objectName,
                                               message: error.description, attempts: attempts))
        case let error as S3ErrorBodyInSuccess:
            let reason = RetryPolicy.reason(httpStatus: 500, code: error.code) ?? .serverError
            return (reason, ObjectStoreError(.unavailable, operation: request.operation, object: request.objectName, httpStatus: 200,
                                             code: error.code, message: error.message, attempts: attempts))
        case let error as HTTPClientError:
            if error == .readTimeout || error == .connectTimeout || error == .deadlineExceeded || error == .tlsHandshakeTimeout
                || error == .getConnectionFromPoolTimeout {
                return (.timeout, ObjectStoreError(.unavailable, operation: request.operation, object: request.objectName,
                                                   message: "timed out (\(error))", attempts: attempts))
            }
            if error == .alreadyShutdown || error == .invalidURL || error == .emptyHost || error == .cancelled {
                return (nil, ObjectStoreError(.invalidArgument, operation: request.operation, object: request.objectName,
                                              message: "\(error)", attempts: attempts))
            }
            return (.network, ObjectStoreError(.unavailable, operation: request.operation, object: request.objectName,
                                               message: "network error: \(error)", attempts: attempts))
        default:
            // Connection refused or reset, a response cut short mid-header, TLS alerts: all transient.
            return (.network, ObjectStoreError(.unavailable, operation: request.operation, object: request.objectName,
                                               message: "network error: \(error)", attempts: attempts))
        }
    }

    /// Why connecting failed, when `error` says the endpoint could not be reached at all; nil for failures
    /// of a connection that was established (resets, responses cut short), which are retried as usual.
    static func connectFailure(_ error: any Error) -> String? {
        switch error {
        case let error as NIOConnectionError:
            if let dns = error.dnsAError ?? error.dnsAAAAError { return "cannot resolve the host name (\(dns))" }
            let reasons = error.connectionErrors.map { "\($0.target): \(connectFailure($0.error) ?? "\($0.error)")" }
            return reasons.isEmpty ? "no address to connect to" : reasons.joined(separator: "; ")
        case let error as IOError:
            switch error.errnoCode {
            case ECONNREFUSED: return "connection refused"
            case EHOSTUNREACH: return "no route to host"
            case ENETUNREACH: return "network unreachable"
            case EADDRNOTAVAIL: return "address not available"
            default: return nil
            }
        case ChannelError.connectTimeout:
            return "connect timed out"
        case is SocketAddressError:
            return "cannot resolve the host name (\(error))"
        case let error as HTTPClientError where error == .connectTimeout:
            return "connect timed out"
        default:
            return nil
        }
    }

    /// HEAD and some errors carry no body: name the likely code from the status.
    private static func codeForStatus(_ status: Int, request: Request) -> String? {
        switch status {
        case 404: return request.key == nil ? "NoSuchBucket" : "NoSuchKey"
        case 403: return "AccessDenied"
        case 412: return "PreconditionFailed"
        case 503: return "ServiceUnavailable"
        case 500: return "InternalError"
        default: return nil
        }
    }
}

/// `<Error><Code>..</Code><Message>..</Message><RequestId>..</RequestId></Error>`; only these fields are
/// kept (S3's SignatureDoesNotMatch body also echoes the canonical request, which can hold a session token).
struct S3ErrorBody {
    var code: String?
    var message: String?
    var requestID: String?

    init(_ body: [UInt8]) {
        guard !body.isEmpty, let root = try? XMLElement.parse(body), root.name == "Error" else { return }
        code = root.value("Code")
        message = root.value("Message")
        requestID = root.value("RequestId")
    }
}

/// S3 can answer 200 and put an `<Error>` in the body (CompleteMultipartUpload, CopyObject).
struct S3ErrorBodyInSuccess: Error, Sendable {
    var code: String?
    var message: String
}
