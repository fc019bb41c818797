/// Owners of the driver, cuDNN and cuBLASLt objects a compiled model holds. Each keeps its session, so that
/// the primary context outlives it, and makes the context current before destroying (a pipeline may release
/// a model on another thread than the one that compiled it).

final class Stream {
    let session: CUDASession
    let handle: OpaquePointer

    init(session: CUDASession) throws {
        self.session = session
        var handle: OpaquePointer?
        // Non-blocking: no implicit ordering with the legacy default stream, which other libraries may use.
        try session.driver.check(session.driver.cuStreamCreate(&handle, CUDAStreamFlags.nonBlocking), "cuStreamCreate")
        guard let handle else { throw CUDAError.call(api: "CUDA driver", function: "cuStreamCreate", code: -1, message: "no stream") }
        self.handle = handle
    }

    deinit {
        try? session.makeCurrent()
        _ = session.driver.cuStreamDestroy_v2(handle)
    }
}

final class Event {
    let session: CUDASession
    let handle: OpaquePointer

    /// `blocking`: waiting for it sleeps instead of spinning a core (the feeder thread's cores decode images).
    init(session: CUDASession, blocking: Bool) throws {
        self.session = session
        var handle: OpaquePointer?
        try session.driver.check(session.driver.cuEventCreate(&handle, blocking ? CUDAEventFlags.blockingSync : CUDAEventFlags.default),
                                 "cuEventCreate")
        guard let handle else { throw CUDAError.call(api: "CUDA driver", function: "cuEventCreate", code: -1, message: "no event") }
        self.handle = handle
    }

    deinit {
        try? session.makeCurrent()
        _ = session.driver.cuEventDestroy_v2(handle)
    }
}

/// Sluice's kernels, compiled by NVRTC to a cubin for the device's architecture, loaded into the context.
final class KernelModule {
    let session: CUDASession
    let handle: OpaquePointer
    private var functions: [String: OpaquePointer] = [:]

    init(session: CUDASession, image: [UInt8]) throws {
        self.session = session
        handle = try session.driver.loadModule(image: image)
    }

    func function(_ name: String) throws -> OpaquePointer {
        if let known = functions[name] { return known }
        var function: OpaquePointer?
        try session.driver.check(session.driver.cuModuleGetFunction(&function, handle, name), "cuModuleGetFunction (\(name))")
        guard let function else { throw CUDAError.call(api: "CUDA driver", function: "cuModuleGetFunction", code: -1, message: "no function \(name)") }
        functions[name] = function
        return function
    }

    deinit {
        try? session.makeCurrent()
        _ = session.driver.cuModuleUnload(handle)
    }
}

/// An instantiated CUDA graph of one forward pass.
final class GraphExec {
    let session: CUDASession
    let handle: OpaquePointer

    /// Records `steps` on `stream` (capture mode thread-local: other threads' allocations do not break it)
    /// and instantiates the graph. A step that fails ends the capture before the error is rethrown.
    init(session: CUDASession, stream: Stream, steps: [any DeviceStep]) throws {
        self.session = session
        let driver = session.driver
        try driver.check(driver.cuStreamBeginCapture_v2(stream.handle, CUDAStreamCaptureMode.threadLocal.rawValue), "cuStreamBeginCapture_v2")
        var graph: OpaquePointer?
        do {
            for step in steps { try step.enqueue(on: stream.handle) }
        } catch {
            _ = driver.cuStreamEndCapture(stream.handle, &graph)
            if let graph { _ = driver.cuGraphDestroy(graph) }
            throw error
        }
        try driver.check(driver.cuStreamEndCapture(stream.handle, &graph), "cuStreamEndCapture")
        guard let graph else { throw CUDAError.call(api: "CUDA driver", function: "cuStreamEndCapture", code: -1, message: "no graph captured") }
        defer { _ = driver.cuGraphDestroy(graph) }
        var exec: OpaquePointer?
        try driver.check(driver.cuGraphInstantiateWithFlags(&exec, graph, 0), "cuGraphInstantiateWithFlags")
        guard let exec else { throw CUDAError.call(api: "CUDA driver", function: "cuGraphInstantiateWithFlags", code: -1, message: "no executable graph") }
        handle = exec
    }

    func launch(on stream: Stream) throws {
        try session.driver.check(session.driver.cuGraphLaunch(handle, stream.handle), "cuGraphLaunch")
    }

    deinit {
        try? session.makeCurrent()
        _ = session.driver.cuGraphExecDestroy(handle)
    }
}

/// A cuDNN handle bound to one stream (handles are not shared between threads). It keeps the stream, so that
/// the stream is destroyed after the handle that enqueues on it (cudnnDestroy may still use it), whatever order
/// its owner releases them in.
final class CUDNNHandle {
    let session: CUDASession
    let handle: OpaquePointer
    let stream: Stream

    init(session: CUDASession, stream: Stream) throws {
        self.session = session
        self.stream = stream
        let cudnn = session.cudnn
        var handle: OpaquePointer?
        try cudnn.check(cudnn.cudnnCreate(&handle), "cudnnCreate")
        guard let handle else { throw CUDAError.call(api: "cuDNN", function: "cudnnCreate", code: -1, message: "no handle") }
        self.handle = handle
        try cudnn.check(cudnn.cudnnSetStream(handle, stream.handle), "cudnnSetStream")
    }

    deinit {
        try? session.makeCurrent()
        _ = session.cudnn.cudnnDestroy(handle)
    }
}

final class CUBLASLtHandle {
    let session: CUDASession
    let handle: OpaquePointer

    init(session: CUDASession) throws {
        self.session = session
        var handle: OpaquePointer?
        try session.cublasLt.check(session.cublasLt.cublasLtCreate(&handle), "cublasLtCreate")
        guard let handle else { throw CUDAError.call(api: "cuBLASLt", function: "cublasLtCreate", code: -1, message: "no handle") }
        self.handle = handle
    }

    deinit {
        try? session.makeCurrent()
        _ = session.cublasLt.cublasLtDestroy(handle)
    }
}
