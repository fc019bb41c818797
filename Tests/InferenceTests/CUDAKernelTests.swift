import Foundation
import Testing
@testable import Inference

/// Sluice's CUDA kernels: NVRTC compiles the embedded source for Ampere and Hopper (where NVRTC is found;
/// skipped where not, failed with SLUICE_REQUIRE_CUDA_LIBS=1), every entry point is in the PTX, and on a
/// GPU the normaliser matches its CPU reference within fp16 rounding.
@Suite(.serialized)
struct CUDAKernelTests {
    @Test(.enabled(if: CUDATestSupport.hasNVRTC || CUDATestSupport.librariesRequired, "NVRTC (libnvrtc.so.13/.12) not found"),
          arguments: ["compute_80", "compute_90"])
    func sourceCompilesWithEveryEntryPoint(architecture: String) throws {
        guard let nvrtc = CUDATestSupport.required(CUDATestSupport.nvrtc, "NVRTC") else { return }
        let ptx = try nvrtc.compileToPTX(source: CUDAKernelSource.text, name: "sluice_kernels.cu",
                                         options: CUDAKernelSource.compileOptions + ["--gpu-architecture=\(architecture)"])
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

    /// The PTX is for the architecture asked for (what the driver JIT-compiles on the GPU).
    @Test(.enabled(if: CUDATestSupport.hasNVRTC, "NVRTC (libnvrtc.so.13/.12) not found"))
    func ptxTargetsTheArchitecture() throws {
        guard let nvrtc = CUDATestSupport.required(CUDATestSupport.nvrtc, "NVRTC") else { return }
        let ptx = try nvrtc.compileToPTX(source: CUDAKernelSource.text, name: "sluice_kernels.cu",
                                         options: CUDAKernelSource.compileOptions + ["--gpu-architecture=compute_90"])
        #expect(ptx.contains(".target sm_90"))
    }

    /// The normaliser on the GPU against `CUDAInputNormalizerReference`, for fp16, bf16 and float32, with
    /// channel padding to 8 and 4 and a pixel count that is not a multiple of the block.
    @Test(.enabled(if: CUDATestSupport.hasGPU, "needs a CUDA GPU"),
          arguments: [(CUDADataType.float16, 8), (.bfloat16, 8), (.float32, 4), (.float16, 3)])
    func normalizerMatchesTheCPUReference(type: CUDADataType, outputChannels: Int) throws {
        guard let nvrtc = CUDATestSupport.required(CUDATestSupport.nvrtc, "NVRTC"),
              let device = try CUDATestSupport.devices.get().first else { return }
        let gpu = try KernelTestGPU(context: CUDAContext(ordinal: device.ordinal))
        let pixels = 3 * 1000 + 17
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        let bytes = (0..<(pixels * 3)).map { _ -> UInt8 in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 56)
        }
        let normalization = CUDAPlanTests.imagenet
        let expected = try CUDAInputNormalizerReference.normalize(bytes, inputChannels: 3, outputChannels: outputChannels,
                                                                   normalization: normalization, type: type)
        let ptx = try nvrtc.compileToPTX(source: CUDAKernelSource.text, name: "sluice_kernels.cu",
                                         options: CUDAKernelSource.compileOptions
                                             + ["--gpu-architecture=\(device.computeCapability.virtualArchitecture)"])
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

/// Runs one kernel launch of a plan with fresh device buffers, through the runtime's driver table.
struct KernelTestGPU {
    let context: CUDAContext
    var driver: CUDADriver { context.driver }

    /// Runs `kernel` with its tensors in fresh device buffers (`inputs` copied in); returns `output`'s bytes.
    func run(ptx: String, launch kernel: CUDAKernelLaunch, inputs: [CUDATensorID: [UInt8]], output: CUDATensorID,
             outputBytes: Int) throws -> [UInt8] {
        try context.makeCurrent()
        var module: OpaquePointer?
        try ptx.withCString { try driver.check(driver.cuModuleLoadData(&module, $0), "cuModuleLoadData") }
        defer { _ = driver.cuModuleUnload(module) }
        var function: OpaquePointer?
        try driver.check(driver.cuModuleGetFunction(&function, module, kernel.kernel), "cuModuleGetFunction(\(kernel.kernel))")
        var buffers: [CUDATensorID: CUdeviceptr] = [:]
        defer { for b in buffers.values { _ = driver.cuMemFree_v2(b) } }
        for (id, bytes) in inputs.sorted(by: { $0.key < $1.key }) + [(output, [UInt8](repeating: 0, count: outputBytes))] {
            var address: CUdeviceptr = 0
            try driver.check(driver.cuMemAlloc_v2(&address, bytes.count), "cuMemAlloc_v2")
            buffers[id] = address
            try bytes.withUnsafeBytes { try driver.check(driver.cuMemcpyHtoD_v2(address, $0.baseAddress, bytes.count), "cuMemcpyHtoD_v2") }
        }
        // Each argument in its own 8-byte slot; cuLaunchKernel reads as many bytes as the parameter has.
        let slots = UnsafeMutableRawPointer.allocate(byteCount: 8 * max(1, kernel.arguments.count), alignment: 8)
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
            try driver.check(driver.cuLaunchKernel(function, UInt32(kernel.grid[0]), UInt32(kernel.grid[1]), UInt32(kernel.grid[2]),
                                                   UInt32(kernel.block[0]), UInt32(kernel.block[1]), UInt32(kernel.block[2]),
                                                   UInt32(kernel.sharedMemoryBytes), nil, params.baseAddress, nil), "cuLaunchKernel")
        }
        try driver.check(driver.cuCtxSynchronize(), "cuCtxSynchronize")
        var result = [UInt8](repeating: 0, count: outputBytes)
        let source = buffers[output] ?? 0
        try result.withUnsafeMutableBytes { try driver.check(driver.cuMemcpyDtoH_v2($0.baseAddress, source, outputBytes), "cuMemcpyDtoH_v2") }
        return result
    }
}
