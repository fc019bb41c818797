/// Status of every CUDA driver API call (`CUresult`); 0 is CUDA_SUCCESS.
public typealias CUresult = Int32
/// A device ordinal's handle (`CUdevice`).
public typealias CUdevice = Int32
/// A device address (`CUdeviceptr`, 64-bit on every platform CUDA 12+ supports).
public typealias CUdeviceptr = UInt64

/// The CUDA driver API (libcuda.so.1, installed with the NVIDIA driver), loaded at run time, with `cuInit(0)`
/// done. Each property is the C entry point of the same name (the versioned `_v2` names that cuda.h maps the
/// plain names to). Handles (CUcontext, CUstream, CUevent, CUmodule, CUfunction, CUgraph, CUgraphExec) are
/// `OpaquePointer?`; `size_t` is `Int`.
public final class CUDADriver: @unchecked Sendable {
    public static let apiName = "CUDA driver"
    /// The oldest driver API the backend calls into (CUDA 12.0), as cuDriverGetVersion reports it.
    public static let minimumVersion = 12000

    /// The library file loaded.
    public let path: String
    /// cuDriverGetVersion: 1000 × major + 10 × minor (13000 for CUDA 13.0).
    public let version: Int

    public let cuInit: @convention(c) (UInt32) -> CUresult
    public let cuDriverGetVersion: @convention(c) (UnsafeMutablePointer<Int32>?) -> CUresult
    public let cuGetErrorName: @convention(c) (CUresult, UnsafeMutablePointer<UnsafePointer<CChar>?>?) -> CUresult
    public let cuGetErrorString: @convention(c) (CUresult, UnsafeMutablePointer<UnsafePointer<CChar>?>?) -> CUresult

    // Devices and contexts
    public let cuDeviceGetCount: @convention(c) (UnsafeMutablePointer<Int32>?) -> CUresult
    public let cuDeviceGet: @convention(c) (UnsafeMutablePointer<CUdevice>?, Int32) -> CUresult
    public let cuDeviceGetName: @convention(c) (UnsafeMutablePointer<CChar>?, Int32, CUdevice) -> CUresult
    /// (value, CUdevice_attribute, device): see `CUDADeviceAttribute`.
    public let cuDeviceGetAttribute: @convention(c) (UnsafeMutablePointer<Int32>?, Int32, CUdevice) -> CUresult
    public let cuDeviceTotalMem_v2: @convention(c) (UnsafeMutablePointer<Int>?, CUdevice) -> CUresult
    public let cuDevicePrimaryCtxRetain: @convention(c) (UnsafeMutablePointer<OpaquePointer?>?, CUdevice) -> CUresult
    public let cuDevicePrimaryCtxRelease_v2: @convention(c) (CUdevice) -> CUresult
    public let cuCtxSetCurrent: @convention(c) (OpaquePointer?) -> CUresult
    public let cuCtxSynchronize: @convention(c) () -> CUresult
    /// (free, total) bytes of the current context's device.
    public let cuMemGetInfo_v2: @convention(c) (UnsafeMutablePointer<Int>?, UnsafeMutablePointer<Int>?) -> CUresult

    // Streams and events
    /// (stream, flags): `CUDAStreamFlags`.
    public let cuStreamCreate: @convention(c) (UnsafeMutablePointer<OpaquePointer?>?, UInt32) -> CUresult
    public let cuStreamDestroy_v2: @convention(c) (OpaquePointer?) -> CUresult
    public let cuStreamSynchronize: @convention(c) (OpaquePointer?) -> CUresult
    /// (stream, event, flags 0).
    public let cuStreamWaitEvent: @convention(c) (OpaquePointer?, OpaquePointer?, UInt32) -> CUresult
    /// (event, flags): `CUDAEventFlags`.
    public let cuEventCreate: @convention(c) (UnsafeMutablePointer<OpaquePointer?>?, UInt32) -> CUresult
    /// (event, stream).
    public let cuEventRecord: @convention(c) (OpaquePointer?, OpaquePointer?) -> CUresult
    public let cuEventSynchronize: @convention(c) (OpaquePointer?) -> CUresult
    /// (milliseconds, start, end). CUDA 12.8+ drivers export it as cuEventElapsedTime_v2, which is what cuda.h 13
    /// maps cuEventElapsedTime to; older 12.x drivers only have the original, same-signature cuEventElapsedTime.
    public let cuEventElapsedTime_v2: @convention(c) (UnsafeMutablePointer<Float>?, OpaquePointer?, OpaquePointer?) -> CUresult
    public let cuEventDestroy_v2: @convention(c) (OpaquePointer?) -> CUresult

    // Memory
    public let cuMemAlloc_v2: @convention(c) (UnsafeMutablePointer<CUdeviceptr>?, Int) -> CUresult
    public let cuMemFree_v2: @convention(c) (CUdeviceptr) -> CUresult
    /// (pointer, bytes, flags): `CUDAHostAllocFlags`; page-locked memory the copy engines read directly.
    public let cuMemHostAlloc: @convention(c) (UnsafeMutablePointer<UnsafeMutableRawPointer?>?, Int, UInt32) -> CUresult
    public let cuMemFreeHost: @convention(c) (UnsafeMutableRawPointer?) -> CUresult
    /// (device destination, host source, bytes, stream).
    public let cuMemcpyHtoDAsync_v2: @convention(c) (CUdeviceptr, UnsafeRawPointer?, Int, OpaquePointer?) -> CUresult
    /// (host destination, device source, bytes, stream).
    public let cuMemcpyDtoHAsync_v2: @convention(c) (UnsafeMutableRawPointer?, CUdeviceptr, Int, OpaquePointer?) -> CUresult
    public let cuMemcpyHtoD_v2: @convention(c) (CUdeviceptr, UnsafeRawPointer?, Int) -> CUresult
    public let cuMemcpyDtoH_v2: @convention(c) (UnsafeMutableRawPointer?, CUdeviceptr, Int) -> CUresult
    /// (destination, byte value, count, stream).
    public let cuMemsetD8Async: @convention(c) (CUdeviceptr, UInt8, Int, OpaquePointer?) -> CUresult

    // Modules and kernels
    /// (module, image): `image` is NUL-terminated PTX text (or a cubin).
    public let cuModuleLoadData: @convention(c) (UnsafeMutablePointer<OpaquePointer?>?, UnsafeRawPointer?) -> CUresult
    public let cuModuleGetFunction: @convention(c) (UnsafeMutablePointer<OpaquePointer?>?, OpaquePointer?, UnsafePointer<CChar>?) -> CUresult
    public let cuModuleUnload: @convention(c) (OpaquePointer?) -> CUresult
    /// (function, grid x y z, block x y z, dynamic shared bytes, stream, kernel parameters, extra).
    public let cuLaunchKernel: @convention(c) (
        OpaquePointer?, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, OpaquePointer?,
        UnsafeMutablePointer<UnsafeMutableRawPointer?>?, UnsafeMutablePointer<UnsafeMutableRawPointer?>?
    ) -> CUresult

    // Graphs
    /// (stream, CUstreamCaptureMode): `CUDAStreamCaptureMode`.
    public let cuStreamBeginCapture_v2: @convention(c) (OpaquePointer?, Int32) -> CUresult
    /// (stream, graph).
    public let cuStreamEndCapture: @convention(c) (OpaquePointer?, UnsafeMutablePointer<OpaquePointer?>?) -> CUresult
    /// (graph exec, graph, flags: `CUDAGraphInstantiateFlags`).
    public let cuGraphInstantiateWithFlags: @convention(c) (UnsafeMutablePointer<OpaquePointer?>?, OpaquePointer?, UInt64) -> CUresult
    /// (graph exec, stream).
    public let cuGraphLaunch: @convention(c) (OpaquePointer?, OpaquePointer?) -> CUresult
    public let cuGraphExecDestroy: @convention(c) (OpaquePointer?) -> CUresult
    public let cuGraphDestroy: @convention(c) (OpaquePointer?) -> CUresult

    /// Finds libcuda.so.1 through `search`, checks the driver is CUDA 12.0 or newer, and initialises it.
    /// Throws `.libraryNotFound` (no driver installed), `.incompatibleVersion`, `.missingSymbol`, or
    /// `.noDevice` (a driver without any usable GPU).
    public static func load(search: CUDALibrarySearch = CUDALibrarySearch()) throws -> CUDADriver {
        try CUDADriver(library: DynamicLibrary.open(.driver, search: search))
    }

    private init(library: DynamicLibrary) throws {
        path = library.path
        // The version first, before any symbol an old driver may lack: an old driver is reported as old.
        cuDriverGetVersion = try library.symbol("cuDriverGetVersion")
        var reported: Int32 = 0
        let versionStatus = cuDriverGetVersion(&reported)
        guard versionStatus == 0 else {
            throw CUDAError.call(api: Self.apiName, function: "cuDriverGetVersion", code: versionStatus,
                                 message: "the driver at \(library.path) could not report its version")
        }
        version = Int(reported)
        guard version >= Self.minimumVersion else {
            throw CUDAError.incompatibleVersion(library: library.path, found: Self.versionText(version),
                                                required: "CUDA driver 12.0 or newer (an NVIDIA driver from 2022 on, R525+)")
        }
        cuInit = try library.symbol("cuInit")
        cuGetErrorName = try library.symbol("cuGetErrorName")
        cuGetErrorString = try library.symbol("cuGetErrorString")

        cuDeviceGetCount = try library.symbol("cuDeviceGetCount")
        cuDeviceGet = try library.symbol("cuDeviceGet")
        cuDeviceGetName = try library.symbol("cuDeviceGetName")
        cuDeviceGetAttribute = try library.symbol("cuDeviceGetAttribute")
        cuDeviceTotalMem_v2 = try library.symbol("cuDeviceTotalMem_v2")
        cuDevicePrimaryCtxRetain = try library.symbol("cuDevicePrimaryCtxRetain")
        cuDevicePrimaryCtxRelease_v2 = try library.symbol("cuDevicePrimaryCtxRelease_v2")
        cuCtxSetCurrent = try library.symbol("cuCtxSetCurrent")
        cuCtxSynchronize = try library.symbol("cuCtxSynchronize")
        cuMemGetInfo_v2 = try library.symbol("cuMemGetInfo_v2")

        cuStreamCreate = try library.symbol("cuStreamCreate")
        cuStreamDestroy_v2 = try library.symbol("cuStreamDestroy_v2")
        cuStreamSynchronize = try library.symbol("cuStreamSynchronize")
        cuStreamWaitEvent = try library.symbol("cuStreamWaitEvent")
        cuEventCreate = try library.symbol("cuEventCreate")
        cuEventRecord = try library.symbol("cuEventRecord")
        cuEventSynchronize = try library.symbol("cuEventSynchronize")
        cuEventElapsedTime_v2 = try library.optionalSymbol("cuEventElapsedTime_v2")
            ?? library.symbol("cuEventElapsedTime")
        cuEventDestroy_v2 = try library.symbol("cuEventDestroy_v2")

        cuMemAlloc_v2 = try library.symbol("cuMemAlloc_v2")
        cuMemFree_v2 = try library.symbol("cuMemFree_v2")
        cuMemHostAlloc = try library.symbol("cuMemHostAlloc")
        cuMemFreeHost = try library.symbol("cuMemFreeHost")
        cuMemcpyHtoDAsync_v2 = try library.symbol("cuMemcpyHtoDAsync_v2")
        cuMemcpyDtoHAsync_v2 = try library.symbol("cuMemcpyDtoHAsync_v2")
        cuMemcpyHtoD_v2 = try library.symbol("cuMemcpyHtoD_v2")
        cuMemcpyDtoH_v2 = try library.symbol("cuMemcpyDtoH_v2")
        cuMemsetD8Async = try library.symbol("cuMemsetD8Async")

        cuModuleLoadData = try library.symbol("cuModuleLoadData")
        cuModuleGetFunction = try library.symbol("cuModuleGetFunction")
        cuModuleUnload = try library.symbol("cuModuleUnload")
        cuLaunchKernel = try library.symbol("cuLaunchKernel")

        cuStreamBeginCapture_v2 = try library.symbol("cuStreamBeginCapture_v2")
        cuStreamEndCapture = try library.symbol("cuStreamEndCapture")
        cuGraphInstantiateWithFlags = try library.symbol("cuGraphInstantiateWithFlags")
        cuGraphLaunch = try library.symbol("cuGraphLaunch")
        cuGraphExecDestroy = try library.symbol("cuGraphExecDestroy")
        cuGraphDestroy = try library.symbol("cuGraphDestroy")

        let initStatus = cuInit(0)
        if initStatus == CUDADriverStatus.noDevice {
            throw CUDAError.noDevice(reason: "the CUDA driver at \(library.path) (\(Self.versionText(version))) "
                                     + "found no CUDA-capable device (cuInit: CUDA_ERROR_NO_DEVICE)")
        }
        try check(initStatus, "cuInit")
    }

    /// Throws `CUDAError.call` naming `function` and the driver's name and text for `status`, unless it is success.
    public func check(_ status: CUresult, _ function: String) throws {
        guard status != 0 else { return }
        throw CUDAError.call(api: Self.apiName, function: function, code: status, message: errorText(status))
    }

    /// "CUDA_ERROR_OUT_OF_MEMORY: out of memory" for a status code.
    public func errorText(_ status: CUresult) -> String {
        var name: UnsafePointer<CChar>?
        var text: UnsafePointer<CChar>?
        let knownName = cuGetErrorName(status, &name) == 0 ? name.map { String(cString: $0) } : nil
        let knownText = cuGetErrorString(status, &text) == 0 ? text.map { String(cString: $0) } : nil
        switch (knownName, knownText) {
        case let (name?, text?): return "\(name): \(text)"
        case let (name?, nil): return name
        case let (nil, text?): return text
        case (nil, nil): return "unknown CUresult \(status)"
        }
    }

    /// "13.0" for 13000.
    public var versionText: String { Self.versionText(version) }

    static func versionText(_ version: Int) -> String { "\(version / 1000).\(version % 1000 / 10)" }
}

/// The CUresult values Sluice tells apart.
public enum CUDADriverStatus {
    public static let success: CUresult = 0
    public static let outOfMemory: CUresult = 2
    public static let notInitialized: CUresult = 3
    public static let noDevice: CUresult = 100
    public static let invalidDevice: CUresult = 101
    public static let notReady: CUresult = 600
}

/// CUdevice_attribute values, for cuDeviceGetAttribute.
public enum CUDADeviceAttribute: Int32, Sendable {
    case maxThreadsPerBlock = 1
    case maxSharedMemoryPerBlock = 8
    case warpSize = 10
    case clockRate = 13
    case multiprocessorCount = 16
    case concurrentKernels = 31
    case pciBusID = 33
    case pciDeviceID = 34
    case asyncEngineCount = 40
    case unifiedAddressing = 41
    case computeCapabilityMajor = 75
    case computeCapabilityMinor = 76
    case maxSharedMemoryPerMultiprocessor = 81
    case maxSharedMemoryPerBlockOptin = 97
}

/// CUstream_flags.
public enum CUDAStreamFlags {
    public static let `default`: UInt32 = 0
    /// Does not synchronise with the legacy NULL stream.
    public static let nonBlocking: UInt32 = 1
}

/// CUevent_flags.
public enum CUDAEventFlags {
    public static let `default`: UInt32 = 0
    public static let blockingSync: UInt32 = 1
    public static let disableTiming: UInt32 = 2
}

/// cuMemHostAlloc flags.
public enum CUDAHostAllocFlags {
    /// Pinned for every context, not only the current one (the pipeline's batch pool serves several).
    public static let portable: UInt32 = 1
    public static let deviceMap: UInt32 = 2
    public static let writeCombined: UInt32 = 4
}

/// CUstreamCaptureMode.
public enum CUDAStreamCaptureMode: Int32, Sendable {
    case global = 0
    case threadLocal = 1
    case relaxed = 2
}

/// CUgraphInstantiate_flags.
public enum CUDAGraphInstantiateFlags {
    public static let autoFreeOnLaunch: UInt64 = 1
    public static let upload: UInt64 = 2
    public static let useNodePriority: UInt64 = 8
}
