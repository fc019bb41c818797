import Foundation

/// The CUDA libraries and one device's primary context, shared by every model compiled on that device (and
/// kept alive by everything allocated in the context, so that the context is released last).
final class CUDASession: @unchecked Sendable {
    let driver: CUDADriver
    let context: CUDAContext
    let device: CUDADeviceInfo
    let cudnn: CUDNN
    let cublasLt: CUBLASLt
    let nvrtc: NVRTC

    /// Loads the driver first, so that a machine without one fails before anything else is looked for.
    init(ordinal: Int, search: CUDALibrarySearch) throws {
        let driver = try CUDADriver.load(search: search)
        let count = try driver.deviceCount()
        guard count > 0 else { throw CUDAError.noDevice(reason: "the CUDA driver at \(driver.path) reports no devices") }
        guard ordinal >= 0, ordinal < count else {
            throw CUDAError.noDevice(reason: "cuda:\(ordinal) asked for; the driver reports \(count) device\(count == 1 ? "" : "s") (cuda:0…cuda:\(count - 1))")
        }
        self.driver = driver
        device = try CUDADevices.info(ordinal: ordinal, driver: driver)
        context = try CUDAContext(driver: driver, ordinal: ordinal)
        try context.makeCurrent()
        cudnn = try CUDNN.load(search: search)
        cublasLt = try CUBLASLt.load(search: search)
        nvrtc = try NVRTC.load(search: search)
    }

    var ordinal: Int { device.ordinal }
    var computeCapability: CUDADeviceInfo.ComputeCapability { device.computeCapability }

    /// The device as statistics and reports name it, e.g. "cuda:0 NVIDIA H100 80GB HBM3".
    var label: String { "cuda:\(device.ordinal) \(device.name)" }

    /// Makes the context current on the calling thread (the feeder threads are not the compiling thread).
    func makeCurrent() throws { try context.makeCurrent() }
}

/// Device memory from cuMemAlloc, freed when the last user lets go.
final class DeviceMemory: @unchecked Sendable {
    let session: CUDASession
    let address: CUdeviceptr
    let byteCount: Int

    init(session: CUDASession, byteCount: Int, purpose: String) throws {
        guard byteCount >= 0 else {
            throw CUDAError.invalidArgument(function: "cuMemAlloc_v2", reason: "\(byteCount) bytes asked for the \(purpose)")
        }
        self.session = session
        self.byteCount = byteCount
        var address: CUdeviceptr = 0
        // cuMemAlloc refuses 0 bytes; an empty buffer still gets a valid address.
        try session.driver.check(session.driver.cuMemAlloc_v2(&address, max(byteCount, 256)), "cuMemAlloc_v2 (\(purpose), \(byteCount) bytes)")
        self.address = address
    }

    /// The address `offset` bytes in, as cuDNN and cuBLASLt take pointers.
    func pointer(at offset: Int = 0) -> UnsafeMutableRawPointer? {
        UnsafeMutableRawPointer(bitPattern: UInt(address) + UInt(offset))
    }

    deinit {
        // cuMemFree needs the owning context current on this thread (a pipeline may free on another thread).
        try? session.makeCurrent()
        _ = session.driver.cuMemFree_v2(address)
    }
}
