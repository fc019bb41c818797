import Foundation
import SluiceTestSupport
import Testing
@testable import Inference

#if canImport(Glibc)
import Glibc
#endif

/// The CUDA runtime layer without a GPU: library search, the loader's typed errors (on fake libraries built here),
/// the driver-side logic (on a fake driver), and the real NVRTC / cuDNN / cuBLASLt where they are installed.
@Suite("CUDARuntime")
struct CUDARuntimeTests {
    // MARK: - Search and absence

    @Test("no library in the searched folder: libraryNotFound lists the folder and the override variable")
    func absentLibraries() throws {
        let folder = try TestData.temporaryDirectory("cuda-empty")
        let search = CUDALibrarySearch(directories: [folder])
        #expect(search.directories == [folder])

        #expect(throws: CUDAError.libraryNotFound(library: "cuDNN (libcudnn.so.9)", searched: [folder])) {
            try CUDNN.load(search: search)
        }
        #expect(throws: CUDAError.libraryNotFound(library: "NVRTC (libnvrtc.so.13 or libnvrtc.so.12)", searched: [folder])) {
            try NVRTC.load(search: search)
        }
        #expect(throws: CUDAError.libraryNotFound(library: "cuBLASLt (libcublasLt.so.13 or libcublasLt.so.12)",
                                                  searched: [folder])) {
            try CUBLASLt.load(search: search)
        }
        let error = try #require(throws: CUDAError.self) { try CUDADriver.load(search: search) }
        #expect(error == .libraryNotFound(library: "CUDA driver (libcuda.so.1)", searched: [folder]))
        #expect(error.description.contains(folder))
        #expect(error.description.contains("SLUICE_CUDA_LIBRARY_PATH"))
    }

    @Test("the folders: override, LD_LIBRARY_PATH, the linker's, the standard CUDA ones, pip's nvidia/*/lib")
    func searchOrder() throws {
        let home = try TestData.temporaryDirectory("cuda-home")
        let userWheel = home + "/.local/lib/python3.12/site-packages/nvidia/cudnn/lib"
        let pyenvWheel = home + "/.pyenv/versions/3.11.7/lib/python3.11/site-packages/nvidia/cu13/lib"
        let venv = try TestData.temporaryDirectory("cuda-venv")
        let venvWheel = venv + "/lib/python3.10/site-packages/nvidia/cuda_nvrtc/lib"
        for folder in [userWheel, pyenvWheel, venvWheel] {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
        let search = CUDALibrarySearch(environment: [
            "SLUICE_CUDA_LIBRARY_PATH": "/opt/first:/opt/second/",
            "LD_LIBRARY_PATH": "::/opt/third:/opt/first",
            "HOME": home,
            "VIRTUAL_ENV": venv,
        ])
        #expect(Array(search.directories.prefix(3)) == ["/opt/first", "/opt/second", "/opt/third"])
        #expect(search.usesLinkerCache)
        let position = { (folder: String) in try #require(search.directories.firstIndex(of: folder)) }
        for wheel in [userWheel, pyenvWheel, venvWheel] {
            #expect(try position("/usr/local/cuda/lib64") < position(wheel))
            #expect(try position("/usr/lib/x86_64-linux-gnu") < position(wheel))
        }
        #expect(try position(venvWheel) < position(userWheel))
        #expect(Set(search.directories).count == search.directories.count)
    }

    @Test("ld.so.conf: include globs relative to the file, comments, several folders on a line")
    func linkerConfiguration() throws {
        let etc = try TestData.temporaryDirectory("cuda-etc")
        try FileManager.default.createDirectory(atPath: etc + "/ld.so.conf.d", withIntermediateDirectories: true)
        try "# comment\n/opt/a\ninclude ld.so.conf.d/*.conf\n/opt/z # trailing\n"
            .write(toFile: etc + "/ld.so.conf", atomically: true, encoding: .utf8)
        try "/opt/b/\n\n/opt/c:/opt/d\n".write(toFile: etc + "/ld.so.conf.d/1-b.conf", atomically: true, encoding: .utf8)
        try "hwcap 0 nosegneg\n/opt/e\n".write(toFile: etc + "/ld.so.conf.d/2-e.conf", atomically: true, encoding: .utf8)
        #expect(CUDALibrarySearch.linkerConfigurationFolders(configuration: etc + "/ld.so.conf")
                == ["/opt/a", "/opt/b", "/opt/c", "/opt/d", "/opt/e", "/opt/z"])
        #expect(CUDALibrarySearch.linkerConfigurationFolders(configuration: etc + "/absent.conf") == [])
    }

    @Test("the first folder holding a file name wins; within a folder the newer soname")
    func firstFolderWins() throws {
        let first = try TestData.temporaryDirectory("cuda-first")
        let second = try TestData.temporaryDirectory("cuda-second")
        try FakeCUDALibraries.build("libnvrtc.so.12", in: first, source: FakeCUDALibraries.nvrtc(major: 12, minor: 4))
        try FakeCUDALibraries.build("libnvrtc.so.13", in: second, source: FakeCUDALibraries.nvrtc(major: 13, minor: 0))
        let fromFirst = try NVRTC.load(search: CUDALibrarySearch(directories: [first, second]))
        #expect(fromFirst.path == first + "/libnvrtc.so.12")
        #expect(fromFirst.versionText == "12.4")

        try FakeCUDALibraries.build("libnvrtc.so.13", in: first, source: FakeCUDALibraries.nvrtc(major: 13, minor: 1))
        let newer = try NVRTC.load(search: CUDALibrarySearch(directories: [first, second]))
        #expect(newer.path == first + "/libnvrtc.so.13")
        #expect((newer.major, newer.minor) == (13, 1))
    }

    // MARK: - Wrong versions, missing symbols, unloadable files

    @Test("libraries of the wrong version: incompatibleVersion names the file found")
    func wrongVersions() throws {
        let folder = try TestData.temporaryDirectory("cuda-old")
        let search = CUDALibrarySearch(directories: [folder])
        let cudnn = try FakeCUDALibraries.build("libcudnn.so.9", in: folder, source: FakeCUDALibraries.cudnn(version: 8907))
        let nvrtc = try FakeCUDALibraries.build("libnvrtc.so.13", in: folder, source: FakeCUDALibraries.nvrtc(major: 11, minor: 8))
        let driver = try FakeCUDALibraries.build("libcuda.so.1", in: folder, source: FakeCUDALibraries.driver(version: 11040))
        let cublasLt = try FakeCUDALibraries.build("libcublasLt.so.12", in: folder, source: FakeCUDALibraries.cublasLt(version: 111103))

        let cudnnError = try #require(throws: CUDAError.self) { try CUDNN.load(search: search) }
        #expect(cudnnError == .incompatibleVersion(library: cudnn, found: "8.9.7", required: "cuDNN 9.x (9.0.0 or newer, before 10)"))
        #expect(cudnnError.description.contains(cudnn))
        #expect(throws: CUDAError.incompatibleVersion(library: nvrtc, found: "11.8", required: "NVRTC 12.0 or newer")) {
            try NVRTC.load(search: search)
        }
        let driverError = try #require(throws: CUDAError.self) { try CUDADriver.load(search: search) }
        guard case let .incompatibleVersion(library, found, _) = driverError else {
            Issue.record("expected incompatibleVersion, got \(driverError)")
            return
        }
        #expect(library == driver)
        #expect(found == "11.4")
        #expect(throws: CUDAError.incompatibleVersion(library: cublasLt, found: "11.11.3", required: "cuBLASLt 12.0 or newer")) {
            try CUBLASLt.load(search: search)
        }
    }

    @Test("cuDNN 10 is refused too (its API may differ)")
    func cudnnTooNew() throws {
        let folder = try TestData.temporaryDirectory("cuda-new")
        let path = try FakeCUDALibraries.build("libcudnn.so.9", in: folder, source: FakeCUDALibraries.cudnn(version: 100000))
        #expect(throws: CUDAError.incompatibleVersion(library: path, found: "10.0.0", required: "cuDNN 9.x (9.0.0 or newer, before 10)")) {
            try CUDNN.load(search: CUDALibrarySearch(directories: [folder]))
        }
    }

    @Test("a library missing an entry point: missingSymbol names it and the file")
    func missingSymbol() throws {
        let folder = try TestData.temporaryDirectory("cuda-partial")
        let search = CUDALibrarySearch(directories: [folder])
        let nvrtc = try FakeCUDALibraries.build("libnvrtc.so.13", in: folder,
                                                source: FakeCUDALibraries.nvrtc(major: 13, minor: 0, complete: false))
        #expect(throws: CUDAError.missingSymbol(library: nvrtc, symbol: "nvrtcGetErrorString")) {
            try NVRTC.load(search: search)
        }
        let driver = try FakeCUDALibraries.build("libcuda.so.1", in: folder, source: """
            int cuDriverGetVersion(int *v) { *v = 12040; return 0; }
            int cuInit(unsigned int flags) { return 0; }
            int cuGetErrorName(int e, const char **s) { return 1; }
            int cuGetErrorString(int e, const char **s) { return 1; }
            """)
        #expect(throws: CUDAError.missingSymbol(library: driver, symbol: "cuDeviceGetCount")) {
            try CUDADriver.load(search: search)
        }
    }

    @Test("a file the loader refuses (not ELF): loadFailed with dlopen's reason")
    func unloadableFile() throws {
        let folder = try TestData.temporaryDirectory("cuda-junk")
        try "not a shared library".write(toFile: folder + "/libcudnn.so.9", atomically: true, encoding: .utf8)
        let error = try #require(throws: CUDAError.self) { try CUDNN.load(search: CUDALibrarySearch(directories: [folder])) }
        guard case let .loadFailed(library, reason) = error else {
            Issue.record("expected loadFailed, got \(error)")
            return
        }
        #expect(library == folder + "/libcudnn.so.9")
        #expect(!reason.isEmpty)
    }

    // MARK: - The driver-side logic, on a fake driver

    @Test("a fake driver's devices: probe lists names, compute capability, SMs and memory")
    func probeFakeDriver() throws {
        let folder = try TestData.temporaryDirectory("cuda-driver")
        try FakeCUDALibraries.build("libcuda.so.1", in: folder, source: FakeCUDALibraries.driver())
        let devices = try CUDADevices.probe(search: CUDALibrarySearch(directories: [folder]))
        #expect(devices.count == 2)
        #expect(devices.map(\.name) == ["Fake GPU 0", "Fake GPU 1"])
        #expect(devices.map(\.ordinal) == [0, 1])
        #expect(devices[1].computeCapability == .init(major: 8, minor: 6))
        #expect(devices[1].computeCapability.virtualArchitecture == "compute_86")
        #expect(devices[1].computeCapability.realArchitecture == "sm_86")
        #expect(devices[0].multiprocessorCount == 84)
        #expect(devices[0].totalMemoryBytes == 24 << 30)
        #expect(devices[0].description == "cuda:0 Fake GPU 0 (compute 8.6, 84 SMs, 24.0 GiB)")
    }

    @Test("no device: cuInit's CUDA_ERROR_NO_DEVICE or a count of 0 is noDevice; an ordinal past the count too")
    func noDevice() throws {
        let failing = try TestData.temporaryDirectory("cuda-nodevice")
        try FakeCUDALibraries.build("libcuda.so.1", in: failing, source: FakeCUDALibraries.driver(initStatus: 100))
        let initError = try #require(throws: CUDAError.self) {
            try CUDADriver.load(search: CUDALibrarySearch(directories: [failing]))
        }
        guard case let .noDevice(reason) = initError else {
            Issue.record("expected noDevice, got \(initError)")
            return
        }
        #expect(reason.contains(failing + "/libcuda.so.1"))
        #expect(reason.contains("CUDA_ERROR_NO_DEVICE"))

        let empty = try TestData.temporaryDirectory("cuda-zero")
        try FakeCUDALibraries.build("libcuda.so.1", in: empty, source: FakeCUDALibraries.driver(deviceCount: 0))
        #expect(throws: CUDAError.noDevice(reason: "the CUDA driver at \(empty)/libcuda.so.1 (13.0) reports no devices")) {
            try CUDADevices.probe(search: CUDALibrarySearch(directories: [empty]))
        }

        let two = try TestData.temporaryDirectory("cuda-two")
        try FakeCUDALibraries.build("libcuda.so.1", in: two, source: FakeCUDALibraries.driver(deviceCount: 2))
        #expect(throws: CUDAError.noDevice(reason: "cuda:2 asked for; the CUDA driver at \(two)/libcuda.so.1 has 2 device(s) (cuda:0 to cuda:1)")) {
            try CUDAContext(ordinal: 2, search: CUDALibrarySearch(directories: [two]))
        }
    }

    @Test("primary context retained and released; pinned memory through it; driver errors named")
    func contextAndPinnedMemory() throws {
        let folder = try TestData.temporaryDirectory("cuda-pinned")
        let path = try FakeCUDALibraries.build("libcuda.so.1", in: folder, source: FakeCUDALibraries.driver())
        let references = try #require(dlsym(dlopen(path, RTLD_NOW | RTLD_LOCAL), "fake_context_references"))
            .assumingMemoryBound(to: Int32.self)
        do {
            let context = try CUDAContext(ordinal: 1, search: CUDALibrarySearch(directories: [folder]))
            #expect(context.device == 41)
            #expect(references.pointee == 1)
            let allocator = PinnedHostAllocator(context: context)
            let pointer = try allocator.allocate(byteCount: 1000)
            #expect(Int(bitPattern: pointer) % 64 == 0)
            pointer.storeBytes(of: 0xAB, toByteOffset: 999, as: UInt8.self)
            allocator.deallocate(pointer)

            #expect(throws: CUDAError.invalidArgument(function: "cuMemHostAlloc", reason: "asked for 0 bytes of pinned memory")) {
                try allocator.allocate(byteCount: 0)
            }
            let tooMuch = 2 << 30
            #expect(throws: CUDAError.call(api: "CUDA driver", function: "cuMemHostAlloc(\(tooMuch) bytes)", code: 2,
                                           message: "CUDA_ERROR_OUT_OF_MEMORY: out of memory")) {
                try allocator.allocate(byteCount: tooMuch)
            }
            #expect(context.driver.errorText(12345) == "unknown CUresult 12345")
        }
        #expect(references.pointee == 0)
    }

    @Test("the driver wrappers: device memory, modules and functions, with typed errors")
    func driverWrappers() throws {
        let folder = try TestData.temporaryDirectory("cuda-wrappers")
        try FakeCUDALibraries.build("libcuda.so.1", in: folder, source: FakeCUDALibraries.driver())
        let driver = try CUDADriver.load(search: CUDALibrarySearch(directories: [folder]))
        #expect(driver.version == 13000)
        #expect(driver.versionText == "13.0")
        let first = try driver.allocateDevice(byteCount: 1000)
        let second = try driver.allocateDevice(byteCount: 1)
        #expect(first == 0x7000_0000_0000)
        #expect(second == first + 1024)
        try driver.freeDevice(first)
        #expect(throws: CUDAError.invalidArgument(function: "cuMemAlloc_v2", reason: "asked for -1 bytes of device memory")) {
            try driver.allocateDevice(byteCount: -1)
        }
        let module = try driver.loadModule(ptx: ".visible .entry sluice_scale(")
        _ = try driver.function(named: "sluice_scale", in: module)
        #expect(throws: CUDAError.call(api: "CUDA driver", function: "cuModuleGetFunction(absent)", code: 500,
                                       message: "CUDA_ERROR_NOT_FOUND: named symbol not found")) {
            try driver.function(named: "absent", in: module)
        }
    }

    @Test("pinned memory asked for on a thread without a current context: the allocator makes it current")
    func pinnedMemoryOnAnotherThread() throws {
        let folder = try TestData.temporaryDirectory("cuda-thread")
        try FakeCUDALibraries.build("libcuda.so.1", in: folder, source: FakeCUDALibraries.driver())
        let context = try CUDAContext(ordinal: 0, search: CUDALibrarySearch(directories: [folder]))
        // The fake's cuMemHostAlloc fails with CUDA_ERROR_INVALID_CONTEXT where no context is current.
        #expect(throws: CUDAError.self) {
            try onAnotherThread {
                var pointer: UnsafeMutableRawPointer?
                try context.driver.check(context.driver.cuMemHostAlloc(&pointer, 64, 0), "cuMemHostAlloc")
                return 0
            }
        }
        let allocator = PinnedHostAllocator(context: context)
        let address = try onAnotherThread { Int(bitPattern: try allocator.allocate(byteCount: 1000)) }
        #expect(address != 0)
        try onAnotherThread {
            if let pointer = UnsafeMutableRawPointer(bitPattern: address) { allocator.deallocate(pointer) }
            return 0
        }
    }

    // MARK: - C struct layouts the libraries fill

    @Test("Swift mirrors of the C structs have the C layout")
    func structLayouts() {
        typealias Perf = CUDNNConvolutionForwardAlgorithmPerformance
        #expect(MemoryLayout<Perf>.stride == 48)
        #expect(MemoryLayout<Perf>.offset(of: \.time) == 8)
        #expect(MemoryLayout<Perf>.offset(of: \.memory) == 16)
        #expect(MemoryLayout<Perf>.offset(of: \.mathType) == 28)
        #expect(MemoryLayout<Perf>.offset(of: \.reserved) == 32)
        typealias Heuristic = CUBLASLtMatmulHeuristicResult
        #expect(MemoryLayout<CUBLASLtMatmulAlgorithm>.size == 64)
        #expect(MemoryLayout<Heuristic>.stride == 96)
        #expect(MemoryLayout<Heuristic>.offset(of: \.workspaceSize) == 64)
        #expect(MemoryLayout<Heuristic>.offset(of: \.state) == 72)
        #expect(MemoryLayout<Heuristic>.offset(of: \.wavesCount) == 76)
        #expect(MemoryLayout<Heuristic>.offset(of: \.reserved) == 80)
    }

    // MARK: - This machine

    @Test("CUDADevices.probe without a driver: libraryNotFound for libcuda.so.1, naming where it looked",
          .enabled(if: !CUDATestSupport.hasDriver, "a CUDA driver is installed here"))
    func probeWithoutDriver() throws {
        let error = try #require(throws: CUDAError.self) { try CUDADevices.probe(search: CUDALibrarySearch()) }
        guard case let .libraryNotFound(library, searched) = error else {
            Issue.record("expected libraryNotFound, got \(error)")
            return
        }
        #expect(library == "CUDA driver (libcuda.so.1)")
        #expect(searched.contains("/usr/lib/x86_64-linux-gnu"))
        #expect(searched.contains("/usr/local/cuda/lib64"))
        #expect(error.description.hasPrefix("CUDA driver (libcuda.so.1) not found; searched: "))
        #expect(error.description.contains("Set SLUICE_CUDA_LIBRARY_PATH"))
        #expect(error.description.contains("NVIDIA driver"))
    }
}

/// Runs `body` on a new thread and waits for it (the CUDA context is current per thread).
@discardableResult
private func onAnotherThread(_ body: @escaping @Sendable () throws -> Int) throws -> Int {
    final class Outcome: @unchecked Sendable { var result: Result<Int, Error> = .success(0) }
    let outcome = Outcome()
    let done = DispatchSemaphore(value: 0)
    Thread.detachNewThread {
        outcome.result = Result { try body() }
        done.signal()
    }
    done.wait()
    return try outcome.result.get()
}

// MARK: - The real libraries, where the search finds them (pip's wheels in CI; SLUICE_CUDA_LIBRARY_PATH locally)

extension CUDARuntimeTests {
    static let scaleKernel = """
        extern "C" __global__ void sluice_scale(float *values, float factor, int count) {
            int i = blockIdx.x * blockDim.x + threadIdx.x;
            if (i < count) values[i] *= factor;
        }
        """

    @Test("NVRTC compiles a kernel to PTX naming its entry",
          .enabled(if: CUDATestSupport.hasNVRTC || CUDATestSupport.librariesRequired, "NVRTC (libnvrtc.so.13/.12) not found"))
    func nvrtcCompiles() throws {
        guard let nvrtc = CUDATestSupport.required(CUDATestSupport.nvrtc, "NVRTC") else { return }
        #expect(nvrtc.major >= 12)
        let ptx = try nvrtc.compileToPTX(source: Self.scaleKernel, name: "scale.cu",
                                         options: ["--gpu-architecture=compute_80"])
        #expect(ptx.contains(".entry sluice_scale"))
        #expect(ptx.contains(".target sm_80"))
    }

    @Test("NVRTC compiles a kernel to a cubin for a real architecture; a virtual one gives no cubin",
          .enabled(if: CUDATestSupport.hasNVRTC || CUDATestSupport.librariesRequired, "NVRTC (libnvrtc.so.13/.12) not found"))
    func nvrtcCubin() throws {
        guard let nvrtc = CUDATestSupport.required(CUDATestSupport.nvrtc, "NVRTC") else { return }
        let cubin = try nvrtc.compileToCUBIN(source: Self.scaleKernel, name: "scale.cu", options: ["--gpu-architecture=sm_90"])
        #expect(Array(cubin.prefix(4)) == [0x7F, 0x45, 0x4C, 0x46])  // ELF
        #expect(throws: CUDAError.invalidArgument(function: "nvrtcGetCUBIN", reason: "no cubin: the options name a virtual architecture (compute_XY), not a real one (sm_XY)")) {
            try nvrtc.compileToCUBIN(source: Self.scaleKernel, name: "scale.cu", options: ["--gpu-architecture=compute_90"])
        }
    }

    @Test("NVRTC: a syntax error is .compilation with the compiler's log",
          .enabled(if: CUDATestSupport.hasNVRTC || CUDATestSupport.librariesRequired, "NVRTC (libnvrtc.so.13/.12) not found"))
    func nvrtcSyntaxError() throws {
        guard let nvrtc = CUDATestSupport.required(CUDATestSupport.nvrtc, "NVRTC") else { return }
        let broken = "extern \"C\" __global__ void broken(float *x) { x[0] = ; }"
        let error = try #require(throws: CUDAError.self) {
            try nvrtc.compileToPTX(source: broken, name: "broken.cu", options: ["--gpu-architecture=compute_80"])
        }
        guard case let .compilation(log) = error else {
            Issue.record("expected compilation, got \(error)")
            return
        }
        #expect(log.contains("broken.cu"))
        #expect(log.contains("error"))
    }

    @Test("cuDNN is 9.x; a ResNet stem convolution (3→64, 7×7, stride 2, pad 3) on 224×224 gives 112×112",
          .enabled(if: CUDATestSupport.hasCUDNN || CUDATestSupport.librariesRequired, "cuDNN (libcudnn.so.9) not found"))
    func cudnnDescriptors() throws {
        guard let cudnn = CUDATestSupport.required(CUDATestSupport.cudnn, "cuDNN") else { return }
        #expect(CUDNN.supportedVersions.contains(cudnn.version))
        #expect(cudnn.versionText.hasPrefix("9."))

        var input: OpaquePointer?
        var filter: OpaquePointer?
        var convolution: OpaquePointer?
        try cudnn.check(cudnn.cudnnCreateTensorDescriptor(&input), "cudnnCreateTensorDescriptor")
        defer { _ = cudnn.cudnnDestroyTensorDescriptor(input) }
        try cudnn.check(cudnn.cudnnCreateFilterDescriptor(&filter), "cudnnCreateFilterDescriptor")
        defer { _ = cudnn.cudnnDestroyFilterDescriptor(filter) }
        try cudnn.check(cudnn.cudnnCreateConvolutionDescriptor(&convolution), "cudnnCreateConvolutionDescriptor")
        defer { _ = cudnn.cudnnDestroyConvolutionDescriptor(convolution) }

        let half = CUDNNDataType.half.rawValue, nhwc = CUDNNTensorFormat.nhwc.rawValue
        try cudnn.check(cudnn.cudnnSetTensor4dDescriptor(input, nhwc, half, 256, 3, 224, 224), "cudnnSetTensor4dDescriptor")
        try cudnn.check(cudnn.cudnnSetFilter4dDescriptor(filter, half, nhwc, 64, 3, 7, 7), "cudnnSetFilter4dDescriptor")
        try cudnn.check(cudnn.cudnnSetConvolution2dDescriptor(convolution, 3, 3, 2, 2, 1, 1,
                                                              CUDNNConvolutionMode.crossCorrelation.rawValue,
                                                              CUDNNDataType.float.rawValue), "cudnnSetConvolution2dDescriptor")
        try cudnn.check(cudnn.cudnnSetConvolutionMathType(convolution, CUDNNMathType.tensorOp.rawValue),
                        "cudnnSetConvolutionMathType")
        var n: Int32 = 0, c: Int32 = 0, h: Int32 = 0, w: Int32 = 0
        try cudnn.check(cudnn.cudnnGetConvolution2dForwardOutputDim(convolution, input, filter, &n, &c, &h, &w),
                        "cudnnGetConvolution2dForwardOutputDim")
        #expect([n, c, h, w] == [256, 64, 112, 112])

        // A filter whose channels disagree with the input's: cuDNN's refusal becomes a named CUDAError.call.
        try cudnn.check(cudnn.cudnnSetFilter4dDescriptor(filter, half, nhwc, 64, 5, 7, 7), "cudnnSetFilter4dDescriptor")
        let error = try #require(throws: CUDAError.self) {
            try cudnn.check(cudnn.cudnnGetConvolution2dForwardOutputDim(convolution, input, filter, &n, &c, &h, &w),
                            "cudnnGetConvolution2dForwardOutputDim")
        }
        guard case let .call(api, function, code, message) = error else {
            Issue.record("expected call, got \(error)")
            return
        }
        #expect(api == "cuDNN")
        #expect(function == "cudnnGetConvolution2dForwardOutputDim")
        #expect(code != 0)
        #expect(message.hasPrefix("CUDNN_STATUS_"))
    }

    @Test("cuBLASLt is 12 or newer (not installed by scripts/bootstrap: skipped where absent)",
          .enabled(if: CUDATestSupport.hasCUBLASLt, "cuBLASLt (libcublasLt.so.13/.12) not found"))
    func cublasLtVersion() throws {
        let cublasLt = try CUDATestSupport.cublasLt.get()
        #expect(cublasLt.version >= CUBLASLt.minimumVersion)
        var layout: OpaquePointer?
        try cublasLt.check(cublasLt.cublasLtMatrixLayoutCreate(&layout, CUBLASLtDataType.float16.rawValue, 1000, 256, 1000),
                           "cublasLtMatrixLayoutCreate")
        defer { _ = cublasLt.cublasLtMatrixLayoutDestroy(layout) }
        try cublasLt.setAttribute(layout, .order, CUBLASLtOrder.column.rawValue)
    }
}

// MARK: - On a GPU (skipped, and reported as skipped, without one)

extension CUDARuntimeTests {
    @Test("on a GPU: pinned upload, an NVRTC kernel launched directly and through a captured graph, download",
          .enabled(if: CUDATestSupport.hasGPU && CUDATestSupport.hasNVRTC, "needs a CUDA GPU and NVRTC"))
    func gpuRoundTrip() throws {
        let device = try #require(try CUDATestSupport.devices.get().first)
        let nvrtc = try CUDATestSupport.nvrtc.get()
        let context = try CUDAContext(ordinal: device.ordinal)
        try context.makeCurrent()
        let driver = context.driver
        let capability = device.computeCapability
        let cubin = try nvrtc.compileToCUBIN(source: Self.scaleKernel, name: "scale.cu",
                                             options: ["--gpu-architecture=\(capability.realArchitecture)"])
        let module = try driver.loadModule(image: cubin)
        defer { _ = driver.cuModuleUnload(module) }
        let kernel = try driver.function(named: "sluice_scale", in: module)

        let count = 1000
        let byteCount = count * MemoryLayout<Float>.stride
        let allocator = PinnedHostAllocator(context: context)
        let host = try allocator.allocate(byteCount: byteCount)
        defer { allocator.deallocate(host) }
        let values = host.bindMemory(to: Float.self, capacity: count)
        for i in 0..<count { values[i] = Float(i) }
        let buffer = try driver.allocateDevice(byteCount: byteCount)
        defer { _ = try? driver.freeDevice(buffer) }
        let stream = try driver.createStream()
        defer { _ = driver.cuStreamDestroy_v2(stream) }
        let start = try driver.createEvent()
        let end = try driver.createEvent()
        defer { _ = driver.cuEventDestroy_v2(start); _ = driver.cuEventDestroy_v2(end) }

        var address = buffer
        var factor: Float = 2
        var n = Int32(count)
        func launch() throws {
            try withUnsafeMutablePointer(to: &address) { a in
                try withUnsafeMutablePointer(to: &factor) { f in
                    try withUnsafeMutablePointer(to: &n) { c in
                        var parameters: [UnsafeMutableRawPointer?] = [UnsafeMutableRawPointer(a), UnsafeMutableRawPointer(f),
                                                                      UnsafeMutableRawPointer(c)]
                        try driver.check(parameters.withUnsafeMutableBufferPointer {
                            driver.cuLaunchKernel(kernel, UInt32((count + 255) / 256), 1, 1, 256, 1, 1, 0, stream,
                                                  $0.baseAddress, nil)
                        }, "cuLaunchKernel")
                    }
                }
            }
        }
        try driver.check(driver.cuMemcpyHtoDAsync_v2(buffer, host, byteCount, stream), "cuMemcpyHtoDAsync_v2")
        try driver.check(driver.cuEventRecord(start, stream), "cuEventRecord")
        try launch()
        try driver.check(driver.cuEventRecord(end, stream), "cuEventRecord")

        try driver.check(driver.cuStreamBeginCapture_v2(stream, CUDAStreamCaptureMode.threadLocal.rawValue),
                         "cuStreamBeginCapture_v2")
        try launch()
        let graph = try driver.endCaptureAndInstantiate(stream)
        defer { _ = driver.cuGraphExecDestroy(graph) }
        try driver.check(driver.cuGraphLaunch(graph, stream), "cuGraphLaunch")

        try driver.check(driver.cuMemcpyDtoHAsync_v2(host, buffer, byteCount, stream), "cuMemcpyDtoHAsync_v2")
        try driver.check(driver.cuStreamSynchronize(stream), "cuStreamSynchronize")
        #expect((0..<count).allSatisfy { values[$0] == Float($0) * 4 })
        #expect(try driver.elapsedMilliseconds(from: start, to: end) >= 0)
        #expect(try driver.memoryInfo().total > 0)
    }
}
