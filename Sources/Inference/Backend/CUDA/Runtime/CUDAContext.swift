/// A device's primary context, retained for as long as this object lives. CUDA's current context is per thread:
/// call `makeCurrent()` on every thread that calls the driver (the pipeline's feeder threads are not the thread
/// that compiled the model).
public final class CUDAContext: @unchecked Sendable {
    public let driver: CUDADriver
    public let ordinal: Int
    public let device: CUdevice
    /// The CUcontext.
    public let handle: OpaquePointer

    /// Retains `ordinal`'s primary context (shared with every other user of the device in this process, PyTorch's
    /// included). Throws `.noDevice` for an ordinal the driver does not have.
    public init(driver: CUDADriver, ordinal: Int) throws {
        let device = try driver.device(ordinal: ordinal)
        var context: OpaquePointer?
        try driver.check(driver.cuDevicePrimaryCtxRetain(&context, device), "cuDevicePrimaryCtxRetain(cuda:\(ordinal))")
        guard let context else {
            throw CUDAError.call(api: CUDADriver.apiName, function: "cuDevicePrimaryCtxRetain(cuda:\(ordinal))",
                                 code: 0, message: "the driver returned no context")
        }
        self.driver = driver
        self.ordinal = ordinal
        self.device = device
        self.handle = context
    }

    /// Loads the driver through `search` and retains `ordinal`'s primary context.
    public convenience init(ordinal: Int, search: CUDALibrarySearch = CUDALibrarySearch()) throws {
        try self.init(driver: CUDADriver.load(search: search), ordinal: ordinal)
    }

    /// Makes this context current on the calling thread.
    public func makeCurrent() throws {
        try driver.check(driver.cuCtxSetCurrent(handle), "cuCtxSetCurrent(cuda:\(ordinal))")
    }

    deinit {
        _ = driver.cuDevicePrimaryCtxRelease_v2(device)
    }
}

/// Page-locked (pinned) host memory from cuMemHostAlloc, portable across contexts: what the GPU's copy engines
/// read at full speed, so the pipeline's input batches live in it.
public final class PinnedHostAllocator: HostMemoryAllocator {
    public let context: CUDAContext

    public init(context: CUDAContext) {
        self.context = context
    }

    /// `byteCount` bytes, page-aligned. Makes the context current on the calling thread first (cuMemHostAlloc
    /// needs one).
    public func allocate(byteCount: Int) throws -> UnsafeMutableRawPointer {
        guard byteCount > 0 else {
            throw CUDAError.invalidArgument(function: "cuMemHostAlloc", reason: "asked for \(byteCount) bytes of pinned memory")
        }
        try context.makeCurrent()
        let driver = context.driver
        var pointer: UnsafeMutableRawPointer?
        try driver.check(driver.cuMemHostAlloc(&pointer, byteCount, CUDAHostAllocFlags.portable),
                         "cuMemHostAlloc(\(byteCount) bytes)")
        guard let pointer else {
            throw CUDAError.call(api: CUDADriver.apiName, function: "cuMemHostAlloc(\(byteCount) bytes)", code: 0,
                                 message: "the driver returned no memory")
        }
        return pointer
    }

    public func deallocate(_ pointer: UnsafeMutableRawPointer) {
        // Nothing to report to: a failure here (a context already torn down at exit) leaks the pages at worst.
        guard (try? context.makeCurrent()) != nil else { return }
        _ = context.driver.cuMemFreeHost(pointer)
    }
}
