import Foundation
import Pipeline

/// `sluice serve` inside the running process, on a loopback port: what `run --strategy per-request` talks to
/// when no --endpoint is given, so that the strategy's real costs (HTTP, serialisation, splitting) are paid.
public final class LoopbackServer: @unchecked Sendable {
    public let url: String
    private let server: InferenceServer
    private let task: Task<Void, Error>

    /// Starts the server and waits until its model is loaded (GET /ping answers 200).
    public init(server: InferenceServer, timeout: TimeInterval = 600) throws {
        self.server = server
        let started = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var port = 0
        task = Task {
            try await server.run { bound in
                port = bound
                started.signal()
            }
        }
        guard started.wait(timeout: .now() + timeout) == .success, port > 0 else {
            task.cancel()
            throw ServingError.modelNotReady("the loopback server did not start")
        }
        url = "http://127.0.0.1:\(port)"
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            switch server.modelStatus {
            case .ready: return
            case let .failed(reason):
                task.cancel()
                throw ServingError.modelNotReady("the model failed to load: \(reason)")
            case .loading: Thread.sleep(forTimeInterval: 0.05)
            }
        }
        task.cancel()
        throw ServingError.modelNotReady("the model did not load within \(Int(timeout)) s")
    }

    /// Stops the server (requests in flight finish first) and waits until it has.
    public func stop() {
        let done = DispatchSemaphore(value: 0)
        Task { [server, task] in
            await server.shutdown()
            _ = await task.result
            done.signal()
        }
        done.wait()
    }
}
