#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Status of every NVRTC call (`nvrtcResult`); 0 is NVRTC_SUCCESS.
public typealias NVRTCResult = Int32

/// NVRTC (libnvrtc.so.13, or .12), loaded at run time: compiles Sluice's own CUDA C kernels (embedded as source)
/// to PTX, which the driver then JIT-compiles for the GPU at hand. Works without a GPU.
public final class NVRTC: @unchecked Sendable {
    public static let apiName = "NVRTC"
    public static let minimumMajorVersion = 12

    /// The library file loaded.
    public let path: String
    /// nvrtcVersion(), e.g. (13, 0).
    public let major: Int
    public let minor: Int

    public let nvrtcVersion: @convention(c) (UnsafeMutablePointer<Int32>?, UnsafeMutablePointer<Int32>?) -> NVRTCResult
    public let nvrtcGetErrorString: @convention(c) (NVRTCResult) -> UnsafePointer<CChar>?
    /// (program, source, name, header count, headers, include names).
    public let nvrtcCreateProgram: @convention(c) (
        UnsafeMutablePointer<OpaquePointer?>?, UnsafePointer<CChar>?, UnsafePointer<CChar>?, Int32,
        UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<UnsafePointer<CChar>?>?
    ) -> NVRTCResult
    /// (program, option count, options).
    public let nvrtcCompileProgram: @convention(c) (OpaquePointer?, Int32, UnsafePointer<UnsafePointer<CChar>?>?) -> NVRTCResult
    public let nvrtcGetPTXSize: @convention(c) (OpaquePointer?, UnsafeMutablePointer<Int>?) -> NVRTCResult
    public let nvrtcGetPTX: @convention(c) (OpaquePointer?, UnsafeMutablePointer<CChar>?) -> NVRTCResult
    public let nvrtcGetProgramLogSize: @convention(c) (OpaquePointer?, UnsafeMutablePointer<Int>?) -> NVRTCResult
    public let nvrtcGetProgramLog: @convention(c) (OpaquePointer?, UnsafeMutablePointer<CChar>?) -> NVRTCResult
    public let nvrtcDestroyProgram: @convention(c) (UnsafeMutablePointer<OpaquePointer?>?) -> NVRTCResult
    /// Machine code for a real architecture ("--gpu-architecture=sm_90"), which the driver loads without a JIT step.
    public let nvrtcGetCUBINSize: @convention(c) (OpaquePointer?, UnsafeMutablePointer<Int>?) -> NVRTCResult
    public let nvrtcGetCUBIN: @convention(c) (OpaquePointer?, UnsafeMutablePointer<CChar>?) -> NVRTCResult

    /// Finds libnvrtc.so.13 (or .12) through `search` and checks it is NVRTC 12 or newer.
    public static func load(search: CUDALibrarySearch = CUDALibrarySearch()) throws -> NVRTC {
        try NVRTC(library: DynamicLibrary.open(.nvrtc, search: search))
    }

    private init(library: DynamicLibrary) throws {
        path = library.path
        nvrtcVersion = try library.symbol("nvrtcVersion")
        var major: Int32 = 0
        var minor: Int32 = 0
        let status = nvrtcVersion(&major, &minor)
        guard status == 0 else {
            throw CUDAError.call(api: Self.apiName, function: "nvrtcVersion", code: status,
                                 message: "\(library.path) could not report its version")
        }
        self.major = Int(major)
        self.minor = Int(minor)
        guard self.major >= Self.minimumMajorVersion else {
            throw CUDAError.incompatibleVersion(library: library.path, found: "\(major).\(minor)",
                                                required: "NVRTC 12.0 or newer")
        }
        nvrtcGetErrorString = try library.symbol("nvrtcGetErrorString")
        nvrtcCreateProgram = try library.symbol("nvrtcCreateProgram")
        nvrtcCompileProgram = try library.symbol("nvrtcCompileProgram")
        nvrtcGetPTXSize = try library.symbol("nvrtcGetPTXSize")
        nvrtcGetPTX = try library.symbol("nvrtcGetPTX")
        nvrtcGetProgramLogSize = try library.symbol("nvrtcGetProgramLogSize")
        nvrtcGetProgramLog = try library.symbol("nvrtcGetProgramLog")
        nvrtcDestroyProgram = try library.symbol("nvrtcDestroyProgram")
        nvrtcGetCUBINSize = try library.symbol("nvrtcGetCUBINSize")
        nvrtcGetCUBIN = try library.symbol("nvrtcGetCUBIN")
    }

    /// "13.0".
    public var versionText: String { "\(major).\(minor)" }

    /// Throws `CUDAError.call` naming `function` and NVRTC's text for `status`, unless it is success.
    public func check(_ status: NVRTCResult, _ function: String) throws {
        guard status != 0 else { return }
        let message = nvrtcGetErrorString(status).map { String(cString: $0) } ?? "unknown nvrtcResult \(status)"
        throw CUDAError.call(api: Self.apiName, function: function, code: status, message: message)
    }

    /// Compiles CUDA C `source` (the program's `name` appears in diagnostics) with `options` (e.g.
    /// "--gpu-architecture=compute_80", "-default-device") and returns the PTX text. A source the compiler rejects
    /// throws `.compilation` with its log. PTX is JIT-compiled by the driver, which must be at least as new as
    /// this NVRTC (else cuModuleLoadData fails with CUDA_ERROR_UNSUPPORTED_PTX_VERSION): `compileToCUBIN` avoids that.
    public func compileToPTX(source: String, name: String, options: [String]) throws -> String {
        let bytes = try compile(source: source, name: name, options: options, output: "PTX",
                                size: nvrtcGetPTXSize, copy: nvrtcGetPTX)
        return String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }

    /// Compiles for a real architecture (options must name one: "--gpu-architecture=sm_90") and returns the cubin,
    /// which `CUDADriver.loadModule(image:)` loads on a device of that compute capability with no JIT step.
    public func compileToCUBIN(source: String, name: String, options: [String]) throws -> [UInt8] {
        let bytes = try compile(source: source, name: name, options: options, output: "CUBIN",
                                size: nvrtcGetCUBINSize, copy: nvrtcGetCUBIN)
        guard !bytes.isEmpty else {
            throw CUDAError.invalidArgument(function: "nvrtcGetCUBIN",
                                            reason: "no cubin: the options name a virtual architecture (compute_XY), not a real one (sm_XY)")
        }
        return bytes
    }

    private func compile(
        source: String, name: String, options: [String], output: String,
        size: @convention(c) (OpaquePointer?, UnsafeMutablePointer<Int>?) -> NVRTCResult,
        copy: @convention(c) (OpaquePointer?, UnsafeMutablePointer<CChar>?) -> NVRTCResult
    ) throws -> [UInt8] {
        var program: OpaquePointer?
        try check(nvrtcCreateProgram(&program, source, name, 0, nil, nil), "nvrtcCreateProgram")
        defer { _ = nvrtcDestroyProgram(&program) }

        let status = withCStrings(options) { pointers in
            nvrtcCompileProgram(program, Int32(pointers.count), pointers.baseAddress)
        }
        if status == NVRTCStatus.compilationFailed {
            throw CUDAError.compilation(log: log(of: program))
        }
        try check(status, "nvrtcCompileProgram")

        var byteCount = 0
        try check(size(program, &byteCount), "nvrtcGet\(output)Size")
        guard byteCount > 0 else { return [] }
        var bytes = [UInt8](repeating: 0, count: byteCount)
        try check(bytes.withUnsafeMutableBytes { copy(program, $0.baseAddress?.assumingMemoryBound(to: CChar.self)) },
                  "nvrtcGet\(output)")
        return bytes
    }

    /// The compiler's messages for `program` (empty when it printed none).
    private func log(of program: OpaquePointer?) -> String {
        var size = 0
        guard nvrtcGetProgramLogSize(program, &size) == 0, size > 1 else { return "" }
        var bytes = [CChar](repeating: 0, count: size)
        guard bytes.withUnsafeMutableBufferPointer({ nvrtcGetProgramLog(program, $0.baseAddress) }) == 0 else { return "" }
        return String(decoding: bytes.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// The nvrtcResult values Sluice tells apart.
public enum NVRTCStatus {
    public static let success: NVRTCResult = 0
    public static let compilationFailed: NVRTCResult = 6
}

/// Calls `body` with NUL-terminated copies of `strings`, valid for the call only.
func withCStrings<Result>(_ strings: [String], _ body: (UnsafeBufferPointer<UnsafePointer<CChar>?>) -> Result) -> Result {
    let copies = strings.map { strdup($0) }
    defer { copies.forEach { free($0) } }
    let pointers = copies.map { UnsafePointer<CChar>($0) }
    return pointers.withUnsafeBufferPointer(body)
}
