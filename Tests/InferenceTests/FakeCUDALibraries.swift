import Foundation
import SluiceTestSupport
@testable import Inference

/// Tiny shared libraries standing in for the CUDA ones, compiled from C by the test (cc -shared -fPIC), to
/// exercise the loader's version checks, missing symbols and the driver-side logic without CUDA or a GPU.
enum FakeCUDALibraries {
    struct CompilerMissing: Error, CustomStringConvertible {
        var description: String { "no C compiler (cc, gcc or clang) on PATH to build the fake CUDA libraries" }
    }
    struct CompileFailed: Error, CustomStringConvertible {
        let output: String
        var description: String { "cc failed: \(output)" }
    }

    /// Compiles `source` into `folder`/`fileName`; returns the library's path.
    @discardableResult
    static func build(_ fileName: String, in folder: String, source: String) throws -> String {
        let sourcePath = folder + "/" + fileName + ".c"
        let libraryPath = folder + "/" + fileName
        try source.write(toFile: sourcePath, atomically: true, encoding: .utf8)
        guard let compiler = ["/usr/bin/cc", "/usr/bin/gcc", "/usr/bin/clang"].first(where: {
            FileManager.default.isExecutableFile(atPath: $0)
        }) else { throw CompilerMissing() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: compiler)
        process.arguments = ["-shared", "-fPIC", "-O0", "-o", libraryPath, sourcePath]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw CompileFailed(output: String(decoding: output, as: UTF8.self)) }
        return libraryPath
    }

    /// `int name(void) { return 0; }` for each name: entry points the loader needs but a test never calls.
    static func stubs(_ names: [String]) -> String {
        names.map { "int \($0)(void) { return 0; }\n" }.joined()
    }

    /// Every driver entry point `CUDADriver` resolves besides those `fakeDriver` implements.
    static let driverStubNames = [
        "cuCtxSynchronize", "cuMemGetInfo_v2", "cuStreamCreate", "cuStreamDestroy_v2", "cuStreamSynchronize",
        "cuStreamWaitEvent", "cuEventCreate", "cuEventRecord", "cuEventSynchronize", "cuEventElapsedTime_v2",
        "cuEventDestroy_v2", "cuMemcpyHtoDAsync_v2", "cuMemcpyDtoHAsync_v2",
        "cuMemcpyHtoD_v2", "cuMemcpyDtoH_v2", "cuMemsetD8Async", "cuModuleUnload", "cuLaunchKernel", "cuStreamBeginCapture_v2", "cuStreamEndCapture",
        "cuGraphInstantiateWithFlags", "cuGraphLaunch", "cuGraphExecDestroy", "cuGraphDestroy",
    ]

    /// A CUDA driver reporting `version` with `deviceCount` devices ("Fake GPU 0", ...: compute 8.6, 84 SMs,
    /// 24 GiB), whose cuInit returns `initStatus` and whose cuMemHostAlloc refuses more than 1 GiB with
    /// CUDA_ERROR_OUT_OF_MEMORY. Device allocations hand out addresses from 0x7000_0000_0000; a module "loads"
    /// any text, and has a function for any name the text contains. It counts primary-context retains minus releases in `fake_context_references`.
    static func driver(version: Int32 = 13000, initStatus: Int32 = 0, deviceCount: Int32 = 2) -> String {
        """
        #include <stdlib.h>
        #include <string.h>
        int fake_context_references = 0;
        static __thread int current_device = -1;  /* the current context is per thread, as in CUDA */
        int cuDriverGetVersion(int *v) { *v = \(version); return 0; }
        int cuInit(unsigned int flags) { return flags == 0 ? \(initStatus) : 1; }
        int cuGetErrorName(int e, const char **s) {
            if (e == 2) { *s = "CUDA_ERROR_OUT_OF_MEMORY"; return 0; }
            if (e == 101) { *s = "CUDA_ERROR_INVALID_DEVICE"; return 0; }
            if (e == 500) { *s = "CUDA_ERROR_NOT_FOUND"; return 0; }
            *s = 0; return 1;
        }
        int cuGetErrorString(int e, const char **s) {
            if (e == 2) { *s = "out of memory"; return 0; }
            if (e == 101) { *s = "invalid device ordinal"; return 0; }
            if (e == 500) { *s = "named symbol not found"; return 0; }
            *s = 0; return 1;
        }
        int cuDeviceGetCount(int *n) { *n = \(deviceCount); return 0; }
        int cuDeviceGet(int *d, int ordinal) { if (ordinal < 0 || ordinal >= \(deviceCount)) return 101; *d = 40 + ordinal; return 0; }
        int cuDeviceGetName(char *name, int len, int d) {
            char text[32]; int i = 0; const char *p = "Fake GPU ";
            while (*p) text[i++] = *p++;
            text[i++] = (char)('0' + d - 40); text[i] = 0;
            strncpy(name, text, len); return 0;
        }
        int cuDeviceGetAttribute(int *v, int attribute, int d) {
            switch (attribute) {
            case 75: *v = 8; return 0;
            case 76: *v = 6; return 0;
            case 16: *v = 84; return 0;
            default: return 1;
            }
        }
        int cuDeviceTotalMem_v2(size_t *bytes, int d) { *bytes = (size_t)24 << 30; return 0; }
        int cuDevicePrimaryCtxRetain(void **context, int d) { fake_context_references++; *context = (void *)(long)(0x1000 + d); return 0; }
        int cuDevicePrimaryCtxRelease_v2(int d) { fake_context_references--; return 0; }
        int cuCtxSetCurrent(void *context) { current_device = (int)((long)context - 0x1000); return 0; }
        int cuMemHostAlloc(void **p, size_t bytes, unsigned int flags) {
            if (current_device < 0) return 201;  /* CUDA_ERROR_INVALID_CONTEXT */
            if (bytes > ((size_t)1 << 30)) return 2;
            *p = aligned_alloc(4096, (bytes + 4095) / 4096 * 4096); return *p ? 0 : 2;
        }
        int cuMemFreeHost(void *p) { free(p); return 0; }
        static unsigned long long next_device_address = 0x700000000000ULL;
        int cuMemAlloc_v2(unsigned long long *address, size_t bytes) {
            *address = next_device_address; next_device_address += (bytes + 255) / 256 * 256; return 0;
        }
        int cuMemFree_v2(unsigned long long address) { return address >= 0x700000000000ULL ? 0 : 1; }
        static char loaded_ptx[64];
        int cuModuleLoadData(void **module, const void *image) {
            strncpy(loaded_ptx, (const char *)image, sizeof loaded_ptx - 1); *module = loaded_ptx; return 0;
        }
        int cuModuleGetFunction(void **function, void *module, const char *name) {
            if (module != loaded_ptx || strstr(loaded_ptx, name) == 0) return 500;
            *function = (void *)name; return 0;
        }
        """ + stubs(driverStubNames)
    }

    /// The cuDNN entry points `CUDNN` resolves after cudnnGetVersion.
    static let cudnnNames = [
        "cudnnGetErrorString", "cudnnCreate", "cudnnDestroy", "cudnnSetStream", "cudnnCreateTensorDescriptor",
        "cudnnSetTensor4dDescriptor", "cudnnSetTensor4dDescriptorEx", "cudnnSetTensorNdDescriptor",
        "cudnnDestroyTensorDescriptor", "cudnnCreateFilterDescriptor", "cudnnSetFilter4dDescriptor",
        "cudnnDestroyFilterDescriptor", "cudnnCreateConvolutionDescriptor", "cudnnSetConvolution2dDescriptor",
        "cudnnSetConvolutionMathType", "cudnnSetConvolutionGroupCount", "cudnnGetConvolution2dForwardOutputDim",
        "cudnnDestroyConvolutionDescriptor", "cudnnCreateActivationDescriptor", "cudnnSetActivationDescriptor",
        "cudnnDestroyActivationDescriptor", "cudnnCreatePoolingDescriptor", "cudnnSetPooling2dDescriptor",
        "cudnnDestroyPoolingDescriptor", "cudnnCreateOpTensorDescriptor", "cudnnSetOpTensorDescriptor",
        "cudnnDestroyOpTensorDescriptor", "cudnnGetConvolutionForwardAlgorithmMaxCount",
        "cudnnFindConvolutionForwardAlgorithmEx", "cudnnGetConvolutionForwardAlgorithm_v7",
        "cudnnGetConvolutionForwardWorkspaceSize", "cudnnConvolutionForward", "cudnnConvolutionBiasActivationForward",
        "cudnnPoolingForward", "cudnnAddTensor", "cudnnActivationForward", "cudnnSoftmaxForward", "cudnnOpTensor",
    ]

    static func cudnn(version: Int) -> String {
        "#include <stddef.h>\nsize_t cudnnGetVersion(void) { return \(version); }\n" + stubs(cudnnNames)
    }

    static let nvrtcNames = [
        "nvrtcGetErrorString", "nvrtcCreateProgram", "nvrtcCompileProgram", "nvrtcGetPTXSize", "nvrtcGetPTX",
        "nvrtcGetProgramLogSize", "nvrtcGetProgramLog", "nvrtcDestroyProgram", "nvrtcGetCUBINSize", "nvrtcGetCUBIN",
    ]

    /// NVRTC reporting `major`.`minor`, with its other entry points stubbed unless `complete` is false (then
    /// it has nvrtcVersion only).
    static func nvrtc(major: Int, minor: Int, complete: Bool = true) -> String {
        "int nvrtcVersion(int *major, int *minor) { *major = \(major); *minor = \(minor); return 0; }\n"
            + (complete ? stubs(nvrtcNames) : "")
    }

    static func cublasLt(version: Int) -> String {
        "#include <stddef.h>\nsize_t cublasLtGetVersion(void) { return \(version); }\n"
    }
}
