import NIOConcurrencyHelpers
import NIOCore

/// At most `limit` operations in flight; the rest wait in FIFO order. Each attempt of a request holds a
/// slot only while it is on the wire, never while it waits to be retried.
final class RequestLimiter: Sendable {
    let limit: Int
    private struct State {
        var inFlight = 0
        var waiting: [@Sendable () -> Void] = []
        var head = 0
    }
    private let state = NIOLockedValueBox(State())

    init(limit: Int) { self.limit = max(1, limit) }

    func run<T: Sendable>(on eventLoop: any EventLoop, _ start: @escaping @Sendable () -> EventLoopFuture<T>) -> EventLoopFuture<T> {
        let promise = eventLoop.makePromise(of: T.self)
        let launch: @Sendable () -> Void = {
            start().hop(to: eventLoop).whenComplete { result in
                self.release()
                promise.completeWith(result)
            }
        }
        let runNow = state.withLockedValue { state -> Bool in
            if state.inFlight < limit {
                state.inFlight += 1
                return true
            }
            state.waiting.append(launch)
            return false
        }
        if runNow { launch() }
        return promise.futureResult
    }

    /// Hands the slot to the next waiter, or frees it.
    private func release() {
        let next = state.withLockedValue { state -> (@Sendable () -> Void)? in
            if state.head < state.waiting.count {
                let next = state.waiting[state.head]
                state.head += 1
                if state.head > 64, state.head * 2 > state.waiting.count {
                    state.waiting.removeFirst(state.head)
                    state.head = 0
                }
                return next
            }
            state.inFlight -= 1
            return nil
        }
        next?()
    }

    var inFlight: Int { state.withLockedValue { $0.inFlight } }
}
