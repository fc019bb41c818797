/// One CUDA device as the driver describes it.
public struct CUDADeviceInfo: Sendable, Equatable, CustomStringConvertible {
    public let ordinal: Int
    public let name: String
    public let computeCapability: ComputeCapability
    public let multiprocessorCount: Int
    public let totalMemoryBytes: Int

    public struct ComputeCapability: Sendable, Equatable, Comparable, CustomStringConvertible {
        public let major: Int
        public let minor: Int
        public init(major: Int, minor: Int) {
            self.major = major
            self.minor = minor
        }
        public static func < (a: Self, b: Self) -> Bool { (a.major, a.minor) < (b.major, b.minor) }
        /// "9.0"
        public var description: String { "\(major).\(minor)" }
        /// NVRTC's virtual architecture for it: "compute_90" (PTX, which the driver JIT-compiles: the driver must
        /// be at least as new as NVRTC).
        public var virtualArchitecture: String { "compute_\(major)\(minor)" }
        /// NVRTC's real architecture for it: "sm_90" (a cubin, loaded without JIT by any driver that knows the GPU).
        public var realArchitecture: String { "sm_\(major)\(minor)" }
    }

    public init(ordinal: Int, name: String, computeCapability: ComputeCapability, multiprocessorCount: Int,
                totalMemoryBytes: Int) {
        self.ordinal = ordinal
        self.name = name
        self.computeCapability = computeCapability
        self.multiprocessorCount = multiprocessorCount
        self.totalMemoryBytes = totalMemoryBytes
    }

    /// "cuda:0 NVIDIA H100 80GB HBM3 (compute 9.0, 132 SMs, 79.1 GiB)".
    public var description: String {
        let gibibytes = Double(totalMemoryBytes) / Double(1 << 30)
        let memory = (gibibytes * 10).rounded() / 10
        return "cuda:\(ordinal) \(name) (compute \(computeCapability), \(multiprocessorCount) SMs, \(memory) GiB)"
    }
}

/// The CUDA devices of this machine.
public enum CUDADevices {
    /// Loads the driver through `search` and lists its devices. Throws `.libraryNotFound` naming libcuda.so.1 and
    /// every folder searched when no driver is installed, `.noDevice` when it has no device.
    public static func probe(search: CUDALibrarySearch = CUDALibrarySearch()) throws -> [CUDADeviceInfo] {
        try probe(driver: CUDADriver.load(search: search))
    }

    public static func probe(driver: CUDADriver) throws -> [CUDADeviceInfo] {
        let count = try driver.deviceCount()
        guard count > 0 else {
            throw CUDAError.noDevice(reason: "the CUDA driver at \(driver.path) (\(driver.versionText)) reports no devices")
        }
        return try (0..<count).map { ordinal in try info(ordinal: ordinal, driver: driver) }
    }

    static func info(ordinal: Int, driver: CUDADriver) throws -> CUDADeviceInfo {
        let device = try driver.device(ordinal: ordinal)
        return CUDADeviceInfo(
            ordinal: ordinal,
            name: try driver.deviceName(device),
            computeCapability: .init(major: try driver.attribute(.computeCapabilityMajor, of: device),
                                     minor: try driver.attribute(.computeCapabilityMinor, of: device)),
            multiprocessorCount: try driver.attribute(.multiprocessorCount, of: device),
            totalMemoryBytes: try driver.totalMemory(of: device))
    }
}

extension CUDADriver {
    public func deviceCount() throws -> Int {
        var count: Int32 = 0
        try check(cuDeviceGetCount(&count), "cuDeviceGetCount")
        return Int(count)
    }

    /// The device handle for `ordinal`, which must be below `deviceCount()`.
    public func device(ordinal: Int) throws -> CUdevice {
        let count = try deviceCount()
        guard ordinal >= 0 && ordinal < count else {
            let available = count == 0 ? "none" : "cuda:0 to cuda:\(count - 1)"
            throw CUDAError.noDevice(reason: "cuda:\(ordinal) asked for; the CUDA driver at \(path) has \(count) device(s) (\(available))")
        }
        var device: CUdevice = 0
        try check(cuDeviceGet(&device, Int32(ordinal)), "cuDeviceGet(\(ordinal))")
        return device
    }

    public func deviceName(_ device: CUdevice) throws -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        try check(buffer.withUnsafeMutableBufferPointer { cuDeviceGetName($0.baseAddress, Int32($0.count - 1), device) },
                  "cuDeviceGetName")
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public func attribute(_ attribute: CUDADeviceAttribute, of device: CUdevice) throws -> Int {
        var value: Int32 = 0
        try check(cuDeviceGetAttribute(&value, attribute.rawValue, device), "cuDeviceGetAttribute(\(attribute))")
        return Int(value)
    }

    public func totalMemory(of device: CUdevice) throws -> Int {
        var bytes = 0
        try check(cuDeviceTotalMem_v2(&bytes, device), "cuDeviceTotalMem_v2")
        return bytes
    }
}
