/// Throwing wrappers over the driver entry points the backend calls most, so callers do not repeat the out
/// parameters and status checks. The current context must be set on the calling thread (`CUDAContext.makeCurrent`).
extension CUDADriver {
    /// `byteCount` bytes of device memory (256-byte aligned).
    public func allocateDevice(byteCount: Int) throws -> CUdeviceptr {
        guard byteCount > 0 else {
            throw CUDAError.invalidArgument(function: "cuMemAlloc_v2", reason: "asked for \(byteCount) bytes of device memory")
        }
        var address: CUdeviceptr = 0
        try check(cuMemAlloc_v2(&address, byteCount), "cuMemAlloc_v2(\(byteCount) bytes)")
        return address
    }

    public func freeDevice(_ address: CUdeviceptr) throws {
        try check(cuMemFree_v2(address), "cuMemFree_v2")
    }

    /// (free, total) bytes of the current context's device.
    public func memoryInfo() throws -> (free: Int, total: Int) {
        var free = 0
        var total = 0
        try check(cuMemGetInfo_v2(&free, &total), "cuMemGetInfo_v2")
        return (free, total)
    }

    /// A stream that does not synchronise with the legacy NULL stream, unless `flags` says otherwise.
    public func createStream(flags: UInt32 = CUDAStreamFlags.nonBlocking) throws -> OpaquePointer {
        var stream: OpaquePointer?
        try check(cuStreamCreate(&stream, flags), "cuStreamCreate")
        guard let stream else { throw Self.nullHandle("cuStreamCreate") }
        return stream
    }

    public func createEvent(flags: UInt32 = CUDAEventFlags.default) throws -> OpaquePointer {
        var event: OpaquePointer?
        try check(cuEventCreate(&event, flags), "cuEventCreate")
        guard let event else { throw Self.nullHandle("cuEventCreate") }
        return event
    }

    /// Milliseconds between two recorded, completed events (created without CUDAEventFlags.disableTiming).
    public func elapsedMilliseconds(from start: OpaquePointer, to end: OpaquePointer) throws -> Float {
        var milliseconds: Float = 0
        try check(cuEventElapsedTime_v2(&milliseconds, start, end), "cuEventElapsedTime")
        return milliseconds
    }

    /// Loads PTX text (NVRTC's output) as a module; the driver JIT-compiles it for the current device.
    public func loadModule(ptx: String) throws -> OpaquePointer {
        var module: OpaquePointer?
        let status = ptx.withCString { cuModuleLoadData(&module, UnsafeRawPointer($0)) }
        try check(status, "cuModuleLoadData")
        guard let module else { throw Self.nullHandle("cuModuleLoadData") }
        return module
    }

    /// Loads a cubin (`NVRTC.compileToCUBIN`) as a module.
    public func loadModule(image: [UInt8]) throws -> OpaquePointer {
        guard !image.isEmpty else { throw CUDAError.invalidArgument(function: "cuModuleLoadData", reason: "an empty module image") }
        var module: OpaquePointer?
        let status = image.withUnsafeBytes { cuModuleLoadData(&module, $0.baseAddress) }
        try check(status, "cuModuleLoadData")
        guard let module else { throw Self.nullHandle("cuModuleLoadData") }
        return module
    }

    /// The kernel `name` (its extern "C" name) of `module`.
    public func function(named name: String, in module: OpaquePointer) throws -> OpaquePointer {
        var function: OpaquePointer?
        try check(cuModuleGetFunction(&function, module, name), "cuModuleGetFunction(\(name))")
        guard let function else { throw Self.nullHandle("cuModuleGetFunction(\(name))") }
        return function
    }

    /// Ends `stream`'s capture and instantiates the captured graph; the graph itself is destroyed (the executable
    /// keeps what it needs). Destroy the result with cuGraphExecDestroy.
    public func endCaptureAndInstantiate(_ stream: OpaquePointer) throws -> OpaquePointer {
        var graph: OpaquePointer?
        try check(cuStreamEndCapture(stream, &graph), "cuStreamEndCapture")
        guard let graph else { throw Self.nullHandle("cuStreamEndCapture") }
        defer { _ = cuGraphDestroy(graph) }
        var executable: OpaquePointer?
        try check(cuGraphInstantiateWithFlags(&executable, graph, 0), "cuGraphInstantiateWithFlags")
        guard let executable else { throw Self.nullHandle("cuGraphInstantiateWithFlags") }
        return executable
    }

    static func nullHandle(_ function: String) -> CUDAError {
        .call(api: apiName, function: function, code: 0, message: "reported success but returned no handle")
    }
}
