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

    /// cuLaunchKernel copies as many bytes from each argument's address as the kernel's parameter has: every
    /// `.param` NVRTC declares must be the width (and int/float kind) that `CUDAKernels.entryPoints` says, which
    /// is what `KernelStep` packs (a `long long` declared where the list says `int` would read 4 garbage bytes).
    @Test(.enabled(if: CUDATestSupport.hasNVRTC || CUDATestSupport.librariesRequired, "NVRTC (libnvrtc.so.13/.12) not found"))
    func ptxParametersMatchTheEntryPointList() throws {
        guard let nvrtc = CUDATestSupport.required(CUDATestSupport.nvrtc, "NVRTC") else { return }
        let ptx = try nvrtc.compileToPTX(source: CUDAKernelSource.text, name: "sluice_kernels.cu",
                                         options: CUDAKernelSource.compileOptions + ["--gpu-architecture=compute_80"])
        let declared = Self.ptxParameterTypes(ptx)
        #expect(Set(declared.keys) == Set(CUDAKernels.entryPoints.map(\.name)))
        for entry in CUDAKernels.entryPoints {
            let expected = entry.parameters.map { parameter -> String in
                switch parameter.type {
                case .pointer, .int64: "64-bit integer"
                case .int32: "32-bit integer"
                case .float32: "32-bit float"
                }
            }
            let actual = (declared[entry.name] ?? []).map { type -> String in
                switch type {
                case ".u64", ".s64", ".b64": "64-bit integer"
                case ".u32", ".s32", ".b32": "32-bit integer"
                case ".f32": "32-bit float"
                default: "PTX \(type)"
                }
            }
            #expect(actual == expected, "\(entry.name): PTX declares \(declared[entry.name] ?? [])")
        }
    }

    /// Each `.entry`'s `.param` types in order ("sluice_pad_f16" → [".u64", ".u64", ".u64", ".u32", …]).
    static func ptxParameterTypes(_ ptx: String) -> [String: [String]] {
        var result: [String: [String]] = [:]
        var current: String?
        for line in ptx.split(separator: "\n").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            if let range = line.range(of: ".entry ") {
                let name = String(line[range.upperBound...].prefix { $0 == "_" || $0.isLetter || $0.isNumber })
                current = name
                result[name] = []
            } else if let name = current, line.hasPrefix(".param ") {
                let type = line.dropFirst(".param ".count).prefix { !$0.isWhitespace }
                result[name, default: []].append(String(type))
            } else if line.hasPrefix(")") || line.hasPrefix("{") {
                current = nil
            }
        }
        return result
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
        // A cubin, as the backend loads: PTX from this NVRTC would need a driver at least as new to JIT it.
        let ptx = try CUDAModel.compileKernels(nvrtc: nvrtc, architecture: device.computeCapability.realArchitecture)
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

/// The layout kernels' index arithmetic on a GPU against the same arithmetic on the CPU (float32: exact).
struct CUDAKernelLayoutTests {
    static func bytes(_ values: [Float]) -> [UInt8] { values.withUnsafeBytes { Array($0) } }
    static func floats(_ bytes: [UInt8]) -> [Float] {
        bytes.withUnsafeBytes { raw in (0..<(bytes.count / 4)).map { raw.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) } }
    }

    @Test(.enabled(if: CUDATestSupport.hasGPU, "needs a CUDA GPU"))
    func transposePadBinaryAndSoftmax() throws {
        guard let nvrtc = CUDATestSupport.required(CUDATestSupport.nvrtc, "NVRTC"),
              let device = try CUDATestSupport.devices.get().first else { return }
        let gpu = try KernelTestGPU(context: CUDAContext(ordinal: device.ordinal))
        // A cubin, as the backend loads: PTX from this NVRTC would need a driver at least as new to JIT it.
        let ptx = try CUDAModel.compileKernels(nvrtc: nvrtc, architecture: device.computeCapability.realArchitecture)
        let (a, b, c) = (CUDATensorID(0), CUDATensorID(1), CUDATensorID(2))
        func values(_ count: Int, _ seed: Int) -> [Float] { (0..<count).map { Float(($0 * 37 + seed) % 101) / 10 - 5 } }

        // Transpose: 2 matrices of 37 × 70 (tiles that do not divide either side).
        let (rows, columns) = (37, 70)
        let source = values(2 * rows * columns, 1)
        let transpose = CUDAKernels.transpose(CUDATransposeStep(input: a, output: b, batch: 2, rows: rows, columns: columns), type: .float32)
        let transposed = Self.floats(try gpu.run(ptx: ptx, launch: transpose, inputs: [a: Self.bytes(source)], output: b,
                                                  outputBytes: source.count * 4))
        for z in 0..<2 {
            for r in 0..<rows {
                for col in 0..<columns where transposed[(z * columns + col) * rows + r] != source[(z * rows + r) * columns + col] {
                    Issue.record("transpose [\(z)][\(r)][\(col)]")
                    return
                }
            }
        }

        // Zero padding: (1, 2, 3, 4) → (1, 4, 6, 4), 1 row above and 2 columns left.
        let small = values(2 * 3 * 4, 2)
        let padStep = CUDAPadStep(input: a, output: b, top: 1, left: 2)
        let pad = CUDAKernels.pad(padStep, input: CUDAShape(n: 1, h: 2, w: 3, c: 4), output: CUDAShape(n: 1, h: 4, w: 6, c: 4), type: .float32)
        let padded = Self.floats(try gpu.run(ptx: ptx, launch: pad, inputs: [a: Self.bytes(small)], output: b, outputBytes: 4 * 6 * 4 * 4))
        for y in 0..<4 {
            for x in 0..<6 {
                for ch in 0..<4 {
                    let inside = (1..<3).contains(y) && (2..<5).contains(x)
                    let expected = inside ? small[((y - 1) * 3 + (x - 2)) * 4 + ch] : 0
                    #expect(padded[(y * 6 + x) * 4 + ch] == expected, "pad (\(y), \(x), \(ch))")
                }
            }
        }

        // Binary: (2, 3, 4, 5) × a per-sample, per-channel (2, 1, 1, 5) operand.
        let x = values(2 * 3 * 4 * 5, 3), gate = values(2 * 5, 4)
        let binaryStep = CUDABinaryStep(a: a, b: .tensor(b), output: c, kind: .mul, dims: [2, 3, 4, 5], bStrides: [5, 0, 0, 1])
        let product = Self.floats(try gpu.run(ptx: ptx, launch: CUDAKernels.binary(binaryStep, type: .float32),
                                               inputs: [a: Self.bytes(x), b: Self.bytes(gate)], output: c, outputBytes: x.count * 4))
        for i in x.indices {
            let n = i / 60, ch = i % 5
            #expect(product[i] == x[i] * gate[n * 5 + ch], "binary \(i)")
        }

        // Softmax over 3 rows of 300.
        let logits = values(900, 5)
        let softmax = CUDAKernels.softmax(CUDASoftmaxStep(input: a, output: b, rows: 3, columns: 300))
        let probabilities = Self.floats(try gpu.run(ptx: ptx, launch: softmax, inputs: [a: Self.bytes(logits)], output: b,
                                                     outputBytes: 900 * 4))
        for row in 0..<3 {
            let slice = logits[(row * 300)..<(row * 300 + 300)]
            let top = slice.max() ?? 0
            let sum = slice.reduce(Double(0)) { $0 + exp(Double($1 - top)) }
            for i in slice.indices {
                let expected = exp(Double(logits[i] - top)) / sum
                #expect(abs(Double(probabilities[i]) - expected) <= 1e-6 + 1e-5 * expected, "softmax \(i)")
            }
        }
    }
}

/// Runs one kernel launch of a plan with fresh device buffers, through the runtime's driver table.
struct KernelTestGPU {
    let context: CUDAContext
    var driver: CUDADriver { context.driver }

    /// Runs `kernel` with its tensors in fresh device buffers (`inputs` copied in); returns `output`'s bytes.
    func run(ptx image: [UInt8], launch kernel: CUDAKernelLaunch, inputs: [CUDATensorID: [UInt8]], output: CUDATensorID,
             outputBytes: Int) throws -> [UInt8] {
        try context.makeCurrent()
        let module = try driver.loadModule(image: image)
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
