import AsyncHTTPClient
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import SluiceTestSupport

/// What the proxy does to one request.
enum Fault: Sendable, Equatable {
    /// Forward it and relay the answer.
    case none
    /// Answer with this status and an S3 `<Error>` body with this code (nil: no body).
    case status(Int, String?)
    /// Close the connection without answering.
    case drop
    /// Forward it, relay the head and half the body, then close the connection.
    case truncate
    /// Forward it after this many seconds (below the client's read timeout: no retry expected).
    case delay(Double)
    /// Never answer (the client's read timeout must fire).
    case stall
    /// Answer with this status and body, without asking upstream (a hostile or broken server).
    case reply(Int, String)

    var label: String {
        switch self {
        case .none: return "none"
        case .status(let code, let s3Code): return "\(code)\(s3Code.map { " \($0)" } ?? "")"
        case .drop: return "drop"
        case .truncate: return "truncate"
        case .delay: return "delay"
        case .stall: return "stall"
        case .reply(let code, _): return "reply \(code)"
        }
    }

    /// Whether the client is expected to retry after it.
    var isRetryable: Bool {
        switch self {
        case .none, .delay, .reply: return false
        case .status(let code, let s3Code): return code >= 500 || code == 429 || s3Code == "SlowDown"
        case .drop, .truncate, .stall: return true
        }
    }
}

/// An HTTP proxy on 127.0.0.1 (a free port) in front of the moto server, injecting faults per request as
/// `plan` decides from the request's number (from 0) and head. It forwards the request unchanged, Host
/// header included, so signatures still verify upstream.
final class FaultProxy: Sendable {
    let port: Int
    let upstream: String
    let plan: @Sendable (Int, HTTPRequestHead) -> Fault
    let http: HTTPClient
    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel
    private let counters = NIOLockedValueBox(Counters())

    struct Counters {
        var requests = 0
        var faults: [String: Int] = [:]
        var retryable = 0
    }

    init(upstream: String, plan: @escaping @Sendable (Int, HTTPRequestHead) -> Fault) throws {
        self.upstream = upstream
        self.plan = plan
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        http = HTTPClient(eventLoopGroup: group)
        let box = NIOLockedValueBox<FaultProxy?>(nil)
        channel = try ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMapThrowing {
                    guard let proxy = box.withLockedValue({ $0 }) else { throw ChannelError.ioOnClosedChannel }
                    try channel.pipeline.syncOperations.addHandler(ProxyHandler(proxy: proxy))
                }
            }
            .bind(host: "127.0.0.1", port: 0).wait()
        port = channel.localAddress?.port ?? 0
        box.withLockedValue { $0 = self }
    }

    var endpoint: String { "http://127.0.0.1:\(port)" }

    func shutdown() {
        try? channel.close().wait()
        try? http.syncShutdown()
        try? group.syncShutdownGracefully()
    }

    var snapshot: Counters { counters.withLockedValue { $0 } }

    func decide(_ head: HTTPRequestHead) -> Fault {
        counters.withLockedValue { counters in
            let fault = plan(counters.requests, head)
            counters.requests += 1
            if fault != .none {
                counters.faults[fault.label, default: 0] += 1
                if fault.isRetryable { counters.retryable += 1 }
            }
            return fault
        }
    }

    /// A plan that injects faults into about `rate` of the requests, deterministically per request number.
    static func randomPlan(seed: UInt64, rate: Double, stallAt: Int? = nil) -> @Sendable (Int, HTTPRequestHead) -> Fault {
        { number, _ in
            if number == stallAt { return .stall }
            let x = SplitMix64.mix64((UInt64(number) &+ 1) &* SplitMix64.gamma ^ seed)
            let u = Double(x % 1_000_000) / 1_000_000
            guard u < rate else { return .none }
            switch Int(u / rate * 6) {
            case 0: return .status(503, "SlowDown")
            case 1: return .status(500, "InternalError")
            case 2: return .status(503, nil)
            case 3: return .drop
            case 4: return .truncate
            default: return .delay(0.05)
            }
        }
    }
}

private final class ProxyHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let proxy: FaultProxy
    private var head: HTTPRequestHead?
    private var body = ByteBuffer()

    init(proxy: FaultProxy) { self.proxy = proxy }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = context.channel.allocator.buffer(capacity: 0)
        case .body(var part):
            body.writeBuffer(&part)
        case .end:
            guard let head else { return }
            handle(context: context, head: head, body: body, fault: proxy.decide(head))
        }
    }

    private func handle(context: ChannelHandlerContext, head: HTTPRequestHead, body: ByteBuffer, fault: Fault) {
        switch fault {
        case .drop:
            context.close(promise: nil)
        case .stall:
            break
        case .status(let code, let s3Code):
            var payload = context.channel.allocator.buffer(capacity: 256)
            if let s3Code {
                payload.writeString("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>\(s3Code)</Code><Message>injected by the test proxy</Message><RequestId>proxy</RequestId></Error>")
            }
            var headers = HTTPHeaders()
            headers.add(name: "Content-Length", value: String(payload.readableBytes))
            if s3Code != nil { headers.add(name: "Content-Type", value: "application/xml") }
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: code), headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(payload))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        case .reply(let code, let text):
            var payload = context.channel.allocator.buffer(capacity: text.utf8.count)
            payload.writeString(text)
            var headers = HTTPHeaders()
            headers.add(name: "Content-Length", value: String(payload.readableBytes))
            headers.add(name: "Content-Type", value: "application/xml")
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: code), headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(payload))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        case .none, .truncate, .delay:
            let bound = NIOLoopBound((context, self), eventLoop: context.eventLoop)
            let eventLoop = context.eventLoop
            let proxy = self.proxy
            let forward: @Sendable () -> Void = {
                proxy.forward(head: head, body: body).hop(to: eventLoop).whenComplete { result in
                    let (context, handler) = bound.value
                    handler.relay(context: context, result: result, truncate: fault == .truncate, isHead: head.method == .HEAD)
                }
            }
            if case .delay(let seconds) = fault {
                eventLoop.scheduleTask(in: .milliseconds(Int64(seconds * 1000))) { forward() }
            } else {
                forward()
            }
        }
    }

    /// Relays the upstream answer. Truncating an answer without a body loses it entirely (the request took
    /// effect upstream, the client never hears): the retry must cope, as after a real lost response.
    private func relay(context: ChannelHandlerContext, result: Result<HTTPClient.Response, any Error>, truncate: Bool, isHead: Bool) {
        guard case .success(let response) = result else {
            context.close(promise: nil)
            return
        }
        var body = response.body ?? ByteBuffer()
        if truncate, body.readableBytes <= 1 || isHead {
            context.close(promise: nil)
            return
        }
        var headers = response.headers
        for name in ["connection", "transfer-encoding"] { headers.remove(name: name) }
        if !isHead {
            headers.remove(name: "content-length")
            headers.add(name: "Content-Length", value: String(body.readableBytes))
        }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: response.status, headers: headers))), promise: nil)
        if isHead {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            return
        }
        if truncate {
            let half = body.readSlice(length: body.readableBytes / 2) ?? ByteBuffer()
            context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(half))), promise: nil)
            context.close(promise: nil)
            return
        }
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }
}

extension FaultProxy {
    func forward(head: HTTPRequestHead, body: ByteBuffer) -> EventLoopFuture<HTTPClient.Response> {
        do {
            var headers = head.headers
            for name in ["connection", "transfer-encoding", "content-length"] { headers.remove(name: name) }
            var request = try HTTPClient.Request(url: upstream + head.uri, method: head.method, headers: headers)
            if body.readableBytes > 0 || head.method == .PUT || head.method == .POST {
                request.body = .byteBuffer(body)
            }
            return http.execute(request: request)
        } catch {
            return group.next().makeFailedFuture(error)
        }
    }
}
