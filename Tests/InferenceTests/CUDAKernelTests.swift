import Foundation
import Testing
@testable import Inference
#if canImport(Glibc)
import Glibc
#endif

/// Sluice's CUDA kernels: NVRTC compiles the embedded source for Ampere and Hopper (where NVRTC is found;
/// skipped where not, failed with SLUICE_REQUIRE_CUDA_LIBS=1), every entry point is in the PTX, and on a
/// GPU the normaliser matches its CPU reference within fp16 rounding.
@Suite(.serialized)
struct CUDAKernelTests {
    static let required = ProcessInfo.processInfo.environment["SLUICE_REQUIRE_CUDA_LIBS"] == "1"

    @Test(.enabled(if: KernelTestLibraries.nvrtc != nil || CUDAKernelTests.required, "NVRTC (libnvrtc.so.13/.12) not found"),
          arguments: ["compute_80", "compute_90"])
    func sourceCompilesWithEveryEntryPoint(architecture: String) throws {
        guard let nvrtc = KernelTestLibraries.nvrtc else {
            Issue.record("NVRTC is required (SLUICE_REQUIRE_CUDA_LIBS=1) but was not found in \(KernelTestLibraries.folders)")
            return
        }
        let ptx = try nvrtc.compile(CUDAKernelSource.text, options: CUDAKernelSource.compileOptions + ["--gpu-architecture=\(architecture)"])
        let entries = Set(ptx.split(separator: "\n").compactMap { line -> String? in
            guard let range = line.range(of: ".entry ") else { return nil }
            return String(line[range.upperBound...].prefix { $0 == "_" || $0.isLetter || $0.isNumber })
        })
        #expect(entries == Set(CUDAKernels.entryPoints.map(\.name)))
        // Every kernel a plan launches is one of them.
        for precision in [Precision.fp16, .bf16, .tf32] {
            let plan = try CUDAPlan.build(graph: CUDAPlanGraphs.everyOperation(), batchSize: 2, precision: precision,
                                          inputEncoding: .uint8NHWC(CUDAPlanTests.imagenet))
            for name in plan.kernelNames { #expect(entries.contains(name), "\(name)") }
        }
    }

    /// A compile error comes back with NVRTC's log (the helper reports it the way the runtime does).
    @Test(.enabled(if: KernelTestLibraries.nvrtc != nil, "NVRTC (libnvrtc.so.13/.12) not found"))
    func brokenSourceReportsTheLog() throws {
        guard let nvrtc = KernelTestLibraries.nvrtc else { return }
        #expect(throws: KernelTestLibraries.Failure.self) {
            try nvrtc.compile("extern \"C\" __global__ void k() { undeclared(); }", options: ["--gpu-architecture=compute_80"])
        }
    }

    /// The normaliser on the GPU against `CUDAInputNormalizerReference`, for fp16, bf16 and float32, with
    /// channel padding to 8 and 4 and a pixel count that is not a multiple of the block.
    @Test(.enabled(if: KernelTestLibraries.gpu != nil, "needs a CUDA GPU"),
          arguments: [(CUDADataType.float16, 8), (.bfloat16, 8), (.float32, 4), (.float16, 3)])
    func normalizerMatchesTheCPUReference(type: CUDADataType, outputChannels: Int) throws {
        guard let gpu = KernelTestLibraries.gpu, let nvrtc = KernelTestLibraries.nvrtc else {
            Issue.record("a GPU was found without NVRTC")
            return
        }
        let pixels = 3 * 1000 + 17
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        let bytes = (0..<(pixels * 3)).map { _ -> UInt8 in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 56)
        }
        let normalization = CUDAPlanTests.imagenet
        let expected = try CUDAInputNormalizerReference.normalize(bytes, inputChannels: 3, outputChannels: outputChannels,
                                                                   normalization: normalization, type: type)
        let ptx = try nvrtc.compile(CUDAKernelSource.text, options: CUDAKernelSource.compileOptions
                                    + ["--gpu-architecture=compute_\(gpu.computeCapability)"])
        let (scale, shift) = try CUDAInputNormalizerReference.coefficients(normalization, channels: 3)
        let step = CUDANormalizeInputStep(input: CUDATensorID(0), output: CUDATensorID(1), inputChannels: 3,
                                          outputChannels: outputChannels, scale: scale, shift: shift)
        let launch = CUDAKernels.normalize(step, pixels: pixels, type: type)
        let outputBytes = pixels * outputChannels * type.byteSize
        let result = try gpu.run(ptx: ptx, launch: launch, inputs: [CUDATensorID(0): bytes],
                                 output: CUDATensorID(1), outputBytes: outputBytes)
        let actual: [Float] = (0..<(pixels * outputChannels)).map { i in
            result.withUnsafeBytes { raw in
                switch type {
                case .float16: Float(Float16(bitPattern: raw.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)))
                case .bfloat16: Float(bitPattern: UInt32(raw.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)) << 16)
                default: raw.loadUnaligned(fromByteOffset: i * 4, as: Float.self)
                }
            }
        }
        // The same arithmetic (one fma) and the same rounding: equal, or one unit in the last place apart
        // where the GPU's fused multiply-add rounds once and the CPU's twice.
        let ulp: Float = type == .float16 ? 1.0 / 512 : type == .bfloat16 ? 1.0 / 64 : 1e-6
        let worst = zip(actual, expected).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
        #expect(worst <= ulp, "\(type): worst relative difference \(worst)")
    }
}

/// A thin local loader of NVRTC and the driver API (dlopen), enough to compile the kernels and run one on a
/// GPU. The runtime's `NVRTC` / `CUDADriver` (Backend/CUDA/Runtime) replace it once they are on main.
enum KernelTestLibraries {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// SLUICE_CUDA_LIBRARY_PATH, LD_LIBRARY_PATH, the system's folders, then pip's nvidia/*/lib folders.
    static let folders: [String] = {
        let environment = ProcessInfo.processInfo.environment
        var result: [String] = []
        for variable in ["SLUICE_CUDA_LIBRARY_PATH", "LD_LIBRARY_PATH"] {
            result += (environment[variable] ?? "").split(separator: ":").map(String.init)
        }
        result += ["/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/local/cuda/lib64"]
        var roots = ["/usr/lib/python3*/site-packages", "/usr/lib/python3/dist-packages", "/usr/local/lib/python3*/dist-packages",
                     "/usr/local/lib/python3*/site-packages", "\(NSHomeDirectory())/.local/lib/python3*/site-packages",
                     "\(NSHomeDirectory())/.pyenv/versions/*/lib/python3*/site-packages"]
        if let venv = environment["VIRTUAL_ENV"] { roots.append("\(venv)/lib/python3*/site-packages") }
        for root in roots { result += expand("\(root)/nvidia/*/lib") }
        return result
    }()

    static func expand(_ pattern: String) -> [String] {
        var matches = glob_t()
        defer { globfree(&matches) }
        guard glob(pattern, 0, nil, &matches) == 0 else { return [] }
        return (0..<Int(matches.gl_pathc)).compactMap { matches.gl_pathv[$0].map { String(cString: $0) } }
    }

    static func open(_ names: [String]) -> UnsafeMutableRawPointer? {
        for folder in folders {
            for name in names where access("\(folder)/\(name)", F_OK) == 0 {
                if let handle = dlopen("\(folder)/\(name)", RTLD_NOW | RTLD_LOCAL) { return handle }
            }
        }
        for name in names { if let handle = dlopen(name, RTLD_NOW | RTLD_LOCAL) { return handle } }
        return nil
    }

    static func symbol<T>(_ handle: UnsafeMutableRawPointer, _ name: String, as type: T.Type) throws -> T {
        guard let pointer = dlsym(handle, name) else { throw Failure(description: "missing symbol \(name)") }
        return unsafeBitCast(pointer, to: type)
    }

    static let nvrtc: NVRTCProgramCompiler? = open(["libnvrtc.so.13", "libnvrtc.so.12"]).flatMap { try? NVRTCProgramCompiler($0) }
    static let gpu: GPU? = open(["libcuda.so.1"]).flatMap { try? GPU($0) }

    struct NVRTCProgramCompiler: @unchecked Sendable {
        typealias Create = @convention(c) (UnsafeMutablePointer<OpaquePointer?>, UnsafePointer<CChar>, UnsafePointer<CChar>, Int32,
                                           UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<UnsafePointer<CChar>?>?) -> Int32
        typealias Compile = @convention(c) (OpaquePointer?, Int32, UnsafePointer<UnsafePointer<CChar>?>?) -> Int32
        typealias Size = @convention(c) (OpaquePointer?, UnsafeMutablePointer<Int>) -> Int32
        typealias Get = @convention(c) (OpaquePointer?, UnsafeMutablePointer<CChar>) -> Int32
        typealias Destroy = @convention(c) (UnsafeMutablePointer<OpaquePointer?>) -> Int32
        let create: Create, compileProgram: Compile, ptxSize: Size, ptx: Get, logSize: Size, log: Get, destroy: Destroy

        init(_ handle: UnsafeMutableRawPointer) throws {
            create = try symbol(handle, "nvrtcCreateProgram", as: Create.self)
            compileProgram = try symbol(handle, "nvrtcCompileProgram", as: Compile.self)
            ptxSize = try symbol(handle, "nvrtcGetPTXSize", as: Size.self)
            ptx = try symbol(handle, "nvrtcGetPTX", as: Get.self)
            logSize = try symbol(handle, "nvrtcGetProgramLogSize", as: Size.self)
            log = try symbol(handle, "nvrtcGetProgramLog", as: Get.self)
            destroy = try symbol(handle, "nvrtcDestroyProgram", as: Destroy.self)
        }

        func compile(_ source: String, options: [String]) throws -> String {
            var program: OpaquePointer?
            guard create(&program, source, "sluice_kernels.cu", 0, nil, nil) == 0 else { throw Failure(description: "nvrtcCreateProgram") }
            defer { _ = destroy(&program) }
            let copies = options.map { strdup($0) }
            defer { copies.forEach { free($0) } }
            let pointers = copies.map { UnsafePointer<CChar>($0) }
            let status = pointers.withUnsafeBufferPointer { compileProgram(program, Int32($0.count), $0.baseAddress) }
            guard status == 0 else {
                var size = 0
                _ = logSize(program, &size)
                var text = [CChar](repeating: 0, count: max(size, 1))
                _ = log(program, &text)
                throw Failure(description: "NVRTC status \(status): " + String(cString: text))
            }
            var size = 0
            _ = ptxSize(program, &size)
            var text = [CChar](repeating: 0, count: max(size, 1))
            _ = ptx(program, &text)
            return String(cString: text)
        }
    }

    /// Device 0's primary context and the calls to run one kernel launch.
    struct GPU: @unchecked Sendable {
        typealias Init = @convention(c) (UInt32) -> Int32
        typealias DeviceGet = @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32
        typealias Attribute = @convention(c) (UnsafeMutablePointer<Int32>, Int32, Int32) -> Int32
        typealias Retain = @convention(c) (UnsafeMutablePointer<OpaquePointer?>, Int32) -> Int32
        typealias SetCurrent = @convention(c) (OpaquePointer?) -> Int32
        typealias LoadData = @convention(c) (UnsafeMutablePointer<OpaquePointer?>, UnsafeRawPointer) -> Int32
        typealias GetFunction = @convention(c) (UnsafeMutablePointer<OpaquePointer?>, OpaquePointer?, UnsafePointer<CChar>) -> Int32
        typealias Alloc = @convention(c) (UnsafeMutablePointer<UInt64>, Int) -> Int32
        typealias Free = @convention(c) (UInt64) -> Int32
        typealias HtoD = @convention(c) (UInt64, UnsafeRawPointer, Int) -> Int32
        typealias DtoH = @convention(c) (UnsafeMutableRawPointer, UInt64, Int) -> Int32
        typealias Launch = @convention(c) (OpaquePointer?, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, OpaquePointer?,
                                           UnsafeMutablePointer<UnsafeMutableRawPointer?>?, UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> Int32
        typealias Synchronize = @convention(c) () -> Int32
        let context: OpaquePointer?
        let computeCapability: Int
        let setCurrent: SetCurrent, loadData: LoadData, getFunction: GetFunction, alloc: Alloc, free: Free
        let htod: HtoD, dtoh: DtoH, launch: Launch, synchronize: Synchronize

        init(_ handle: UnsafeMutableRawPointer) throws {
            guard try symbol(handle, "cuInit", as: Init.self)(0) == 0 else { throw Failure(description: "cuInit failed") }
            var device: Int32 = 0, major: Int32 = 0, minor: Int32 = 0
            guard try symbol(handle, "cuDeviceGet", as: DeviceGet.self)(&device, 0) == 0 else { throw Failure(description: "no device") }
            let attribute = try symbol(handle, "cuDeviceGetAttribute", as: Attribute.self)
            _ = attribute(&major, 75, device)  // CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR
            _ = attribute(&minor, 76, device)  // ..._MINOR
            computeCapability = Int(major) * 10 + Int(minor)
            var context: OpaquePointer?
            guard try symbol(handle, "cuDevicePrimaryCtxRetain", as: Retain.self)(&context, device) == 0 else {
                throw Failure(description: "cuDevicePrimaryCtxRetain failed")
            }
            self.context = context
            setCurrent = try symbol(handle, "cuCtxSetCurrent", as: SetCurrent.self)
            loadData = try symbol(handle, "cuModuleLoadData", as: LoadData.self)
            getFunction = try symbol(handle, "cuModuleGetFunction", as: GetFunction.self)
            alloc = try symbol(handle, "cuMemAlloc_v2", as: Alloc.self)
            free = try symbol(handle, "cuMemFree_v2", as: Free.self)
            htod = try symbol(handle, "cuMemcpyHtoD_v2", as: HtoD.self)
            dtoh = try symbol(handle, "cuMemcpyDtoH_v2", as: DtoH.self)
            launch = try symbol(handle, "cuLaunchKernel", as: Launch.self)
            synchronize = try symbol(handle, "cuCtxSynchronize", as: Synchronize.self)
        }

        func check(_ status: Int32, _ what: String) throws {
            guard status == 0 else { throw Failure(description: "\(what): CUresult \(status)") }
        }

        /// Runs `launch` with its tensors in fresh device buffers (`inputs` copied in); returns `output`'s bytes.
        func run(ptx: String, launch kernel: CUDAKernelLaunch, inputs: [CUDATensorID: [UInt8]], output: CUDATensorID,
                 outputBytes: Int) throws -> [UInt8] {
            try check(setCurrent(context), "cuCtxSetCurrent")
            var module: OpaquePointer?
            try ptx.withCString { try check(loadData(&module, $0), "cuModuleLoadData") }
            var function: OpaquePointer?
            try check(getFunction(&function, module, kernel.kernel), "cuModuleGetFunction \(kernel.kernel)")
            var buffers: [CUDATensorID: UInt64] = [:]
            defer { for b in buffers.values { _ = free(b) } }
            for (id, bytes) in inputs {
                var address: UInt64 = 0
                try check(alloc(&address, bytes.count), "cuMemAlloc")
                buffers[id] = address
                try bytes.withUnsafeBytes { try check(htod(address, $0.baseAddress!, bytes.count), "cuMemcpyHtoD") }
            }
            var out: UInt64 = 0
            try check(alloc(&out, outputBytes), "cuMemAlloc")
            buffers[output] = out
            // Each argument in its own 8-byte slot; cuLaunchKernel reads as many bytes as the parameter has.
            let slots = UnsafeMutableRawPointer.allocate(byteCount: 8 * kernel.arguments.count, alignment: 8)
            defer { slots.deallocate() }
            var pointers: [UnsafeMutableRawPointer?] = []
            for (i, argument) in kernel.arguments.enumerated() {
                let slot = slots + 8 * i
                switch argument {
                case .tensor(let id): slot.storeBytes(of: buffers[id] ?? 0, as: UInt64.self)
                case .weight: slot.storeBytes(of: UInt64(0), as: UInt64.self)
                case .int32(let v): slot.storeBytes(of: v, as: Int32.self)
                case .int64(let v): slot.storeBytes(of: v, as: Int64.self)
                case .float32(let v): slot.storeBytes(of: v, as: Float.self)
                }
                pointers.append(slot)
            }
            try pointers.withUnsafeMutableBufferPointer { params in
                try check(launch(function, UInt32(kernel.grid[0]), UInt32(kernel.grid[1]), UInt32(kernel.grid[2]),
                                 UInt32(kernel.block[0]), UInt32(kernel.block[1]), UInt32(kernel.block[2]),
                                 UInt32(kernel.sharedMemoryBytes), nil, params.baseAddress, nil), "cuLaunchKernel")
            }
            try check(synchronize(), "cuCtxSynchronize")
            var result = [UInt8](repeating: 0, count: outputBytes)
            try result.withUnsafeMutableBytes { try check(dtoh($0.baseAddress!, out, outputBytes), "cuMemcpyDtoH") }
            return result
        }
    }
}
