import Foundation
import SeededRandom
import Testing
@testable import Inference

/// The CUDA backend. Without a GPU only the host side runs: the missing driver's error, the weight and algorithm
/// caches, and (where cuDNN loads, as in CI) every planned convolution's descriptors checked by cuDNN itself.
/// The tests that need a GPU are reported as skipped where there is none.
@Suite(.serialized)
struct CUDABackendTests {
    static let imagenet = InputNormalization(mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], divisor: 255)

    static func resnet(_ name: String) throws -> Graph {
        try ResNet.build(ResNet.Variant(rawValue: name)!, weights: SeededWeights(seed: EngineFixtures.inputs().weight_seed))
    }

    // MARK: no GPU needed

    /// The driver is looked for before anything else: even a precision the plan refuses (int8) reports it.
    @Test func compileWithoutTheDriverNamesItAndTheFoldersSearched() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-no-cuda-\(getpid())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let backend = CUDABackend(inputNormalization: Self.imagenet, search: CUDALibrarySearch(directories: [folder]))
        #expect(backend.name == "cuda")
        do {
            _ = try backend.compile(try Self.resnet("resnet18"), batchSize: 4, precision: .int8)
            Issue.record("compiled without a CUDA driver")
        } catch let error as CUDAError {
            guard case .libraryNotFound(let library, let searched) = error else {
                Issue.record("expected libraryNotFound, got \(error)")
                return
            }
            #expect(library.contains("libcuda.so.1"))
            #expect(searched == [folder])
            #expect(error.description.contains("SLUICE_CUDA_LIBRARY_PATH"))
        }
    }

    /// On a machine without a driver (this one, CI) the default search gives the same clear error.
    @Test(.enabled(if: !CUDATestSupport.hasDriver, "a CUDA driver is installed here"))
    func compileOnThisMachineWithoutADriver() throws {
        #expect {
            _ = try CUDABackend(inputNormalization: nil).compile(try Self.resnet("resnet18"), batchSize: 2, precision: .fp16)
        } throws: { error in
            guard case CUDAError.libraryNotFound(let library, let searched) = error else { return false }
            return library.contains("libcuda.so.1") && !searched.isEmpty
        }
    }

    private final class FakeUpload {}

    /// Copies on one device share an upload while one of them holds it; another device or other bytes upload
    /// again, and so does the same model once every copy let go.
    @Test func weightCacheSharesLiveUploads() throws {
        let cache = CUDAWeightCache()
        var first: FakeUpload? = cache.weights(ordinal: 0, fingerprint: 7, byteCount: 100) { FakeUpload() }
        let second = cache.weights(ordinal: 0, fingerprint: 7, byteCount: 100) { FakeUpload() }
        #expect(first === second)
        #expect(cache.uploadCount == 1)
        let otherDevice = cache.weights(ordinal: 1, fingerprint: 7, byteCount: 100) { FakeUpload() }
        let otherBytes = cache.weights(ordinal: 0, fingerprint: 8, byteCount: 100) { FakeUpload() }
        #expect(otherDevice !== second && otherBytes !== second)
        #expect(cache.uploadCount == 3)
        first = nil
        #expect(cache.weights(ordinal: 0, fingerprint: 7, byteCount: 100) { FakeUpload() } === second)
        #expect(cache.uploadCount == 3)
    }

    @Test func weightCacheUploadsAgainOnceEveryCopyLetGo() throws {
        let cache = CUDAWeightCache()
        var held: FakeUpload? = cache.weights(ordinal: 0, fingerprint: 1, byteCount: 8) { FakeUpload() }
        #expect(held != nil)
        held = nil
        _ = cache.weights(ordinal: 0, fingerprint: 1, byteCount: 8) { FakeUpload() }
        #expect(cache.uploadCount == 2)
    }

    @Test func algorithmSearchRunsOncePerShape() throws {
        let cache = CUDAWeightCache()
        var searches = 0
        let choice = ConvolutionChoice(algorithm: 1, mathType: 1, workspaceBytes: 4096, milliseconds: 0.5, source: .measured)
        for key in ["a", "b", "a", "a", "b"] {
            let found = cache.convolutionAlgorithm(key: key) {
                searches += 1
                return choice
            }
            #expect(found == choice)
        }
        #expect(searches == 2)
        #expect(cache.algorithmSearches == 2)
        #expect(choice.summary.hasPrefix("IMPLICIT_PRECOMP_GEMM tensor-op ws 4096B measured"))
    }

    @Test func weightFingerprintSeesEveryByte() throws {
        var bytes = [UInt8](repeating: 3, count: 1001)
        let base = bytes.withUnsafeBytes { WeightFingerprint.of($0) }
        #expect(bytes.withUnsafeBytes { WeightFingerprint.of($0) } == base)
        for index in [0, 500, 999, 1000] {
            var changed = bytes
            changed[index] = 4
            #expect(changed.withUnsafeBytes { WeightFingerprint.of($0) } != base, "byte \(index)")
        }
        bytes.removeLast()
        #expect(bytes.withUnsafeBytes { WeightFingerprint.of($0) } != base)
    }

    /// cuDNN itself (no GPU needed for descriptors) computes every planned convolution's output size from the
    /// executor's NHWC descriptors, KRSC filters and padding/stride order: a transposed argument fails here.
    @Test(.enabled(if: CUDATestSupport.hasCUDNN || CUDATestSupport.librariesRequired, "cuDNN is not installed"),
          arguments: [("resnet50", Precision.fp16), ("resnet18", Precision.fp32), ("resnet18", Precision.bf16)])
    func plannedConvolutionDescriptorsAgreeWithCUDNN(model: String, precision: Precision) throws {
        guard let cudnn = CUDATestSupport.required(CUDATestSupport.cudnn, "cuDNN") else { return }
        let plan = try CUDAPlan.build(graph: try ModelZoo.graph(model), batchSize: 8, precision: precision,
                                      inputEncoding: .uint8NHWC(Self.imagenet))
        var convolutions = 0, fusedResiduals = 0
        for step in plan.steps {
            switch step.kind {
            case .convolution(let conv):
                let descriptors = try ConvolutionDescriptors(cudnn: cudnn, step: conv, input: plan.tensor(conv.input),
                                                             output: plan.tensor(conv.output),
                                                             residual: conv.residual.map { plan.tensor($0) }, layer: step.layer)
                #expect(descriptors.yShape.n == 8)
                convolutions += 1
                if conv.residual != nil { fusedResiduals += 1 }
            case .pooling(let pooling):
                let input = try NHWCShape(plan.tensor(pooling.input))
                _ = try PoolingDescriptor(cudnn: cudnn, mode: CUDNNValue.poolingMax,
                                          window: pooling.isGlobal ? [input.h, input.w] : pooling.window,
                                          padding: pooling.isGlobal ? [0, 0] : pooling.padding,
                                          stride: pooling.isGlobal ? [input.h, input.w] : pooling.stride, step: step.layer)
            default:
                break
            }
        }
        #expect(convolutions == (model == "resnet50" ? 53 : 20))
        #expect(fusedResiduals == (model == "resnet50" ? 16 : 8))
    }

    /// The check can fail: a plan whose output size disagrees with cuDNN's is refused, naming the layer.
    @Test(.enabled(if: CUDATestSupport.hasCUDNN || CUDATestSupport.librariesRequired, "cuDNN is not installed"))
    func convolutionWithTheWrongOutputSizeIsRefused() throws {
        guard let cudnn = CUDATestSupport.required(CUDATestSupport.cudnn, "cuDNN") else { return }
        let plan = try CUDAPlan.build(graph: try ModelZoo.graph("resnet18"), batchSize: 2, precision: .fp16,
                                      inputEncoding: .float32NCHW)
        guard let (layer, conv) = plan.steps.lazy.compactMap({ step -> (String, CUDAConvolutionStep)? in
            if case .convolution(let c) = step.kind { return (step.layer, c) } else { return nil }
        }).first else {
            Issue.record("no convolution in the plan")
            return
        }
        let output = plan.tensor(conv.output)
        let wrong = CUDATensor(id: output.id, name: output.name,
                               shape: CUDAShape(n: output.shape.n, h: output.shape.h + 1, w: output.shape.w, c: output.shape.c),
                               dtype: output.dtype, layout: .nhwc, byteCount: output.byteCount, storage: output.storage)
        #expect(throws: InferenceError.self) {
            _ = try ConvolutionDescriptors(cudnn: cudnn, step: conv, input: plan.tensor(conv.input), output: wrong, residual: nil, layer: layer)
        }
        do {
            _ = try ConvolutionDescriptors(cudnn: cudnn, step: conv, input: plan.tensor(conv.input), output: wrong, residual: nil, layer: layer)
        } catch let error as InferenceError {
            #expect(error.kind == .invalidGraph)
            #expect(error.message.contains(layer) && error.message.contains("the plan says"))
        }
    }

    /// The executor's kernel compilation (a cubin per real architecture, no driver needed) for the GPUs the
    /// benchmark targets: A100, H100/H200.
    @Test(.enabled(if: CUDATestSupport.hasNVRTC || CUDATestSupport.librariesRequired, "NVRTC is not installed"),
          arguments: ["sm_80", "sm_90"])
    func kernelsCompileToACubin(architecture: String) throws {
        guard let nvrtc = CUDATestSupport.required(CUDATestSupport.nvrtc, "NVRTC") else { return }
        let cubin = try CUDAModel.compileKernels(nvrtc: nvrtc, architecture: architecture)
        #expect(cubin.starts(with: [0x7F, 0x45, 0x4C, 0x46]))  // an ELF image
        let plan = try CUDAPlan.build(graph: try ModelZoo.graph("resnet18"), batchSize: 2, precision: .fp16,
                                      inputEncoding: .uint8NHWC(Self.imagenet))
        for kernel in plan.kernelNames {
            #expect(cubin.firstRange(of: Array(kernel.utf8)) != nil, "\(kernel) missing from the \(architecture) cubin")
        }
    }

    // MARK: on a GPU

    static func compare(_ actual: Tensor, _ expected: Tensor) throws -> LogitComparison {
        LogitComparison(actual: try actual.floats(), expected: try expected.floats(), classes: 1000)
    }

    static func oneDNNLogits(_ graph: Graph, _ input: Tensor) throws -> Tensor {
        try OneDNNBackend().compile(graph, batchSize: 8, precision: .fp32).run(input)
    }

    /// Seeded uint8 HWC crops, and the same normalised as the CPU preprocessing does, NCHW float32.
    static func seededCrops(count: Int, seed: UInt64) throws -> (pixels: [UInt8], floats: Tensor) {
        var random = SplitMix64(seed: seed)
        let (h, w) = (224, 224)
        let pixels = (0..<(count * h * w * 3)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        var values = [Float](repeating: 0, count: count * 3 * h * w)
        for n in 0..<count {
            for y in 0..<h {
                for x in 0..<w {
                    for c in 0..<3 {
                        let v = Float(pixels[((n * h + y) * w + x) * 3 + c]) / imagenet.divisor
                        values[((n * 3 + c) * h + y) * w + x] = (v - imagenet.mean[c]) / imagenet.std[c]
                    }
                }
            }
        }
        return (pixels, try Tensor(shape: [count, 3, h, w], values: values))
    }

    @Test(.enabled(if: CUDATestSupport.hasGPU, "needs a CUDA GPU"))
    func fp32MatchesOneDNN() throws {
        let graph = try Self.resnet("resnet18")
        let input = try EngineFixtures.batch(for: "resnet18")
        let model = try CUDABackend(inputNormalization: nil).compileModel(graph, batchSize: 8, precision: .fp32)
        let result = try Self.compare(try model.run(input), try Self.oneDNNLogits(graph, input))
        print("resnet18 cuda fp32: max |Δ| \(result.maxAbsDifference) (\(result.relativeError) of max |logit|), top-5 \(result.top5Matches)/\(result.rows)")
        #expect(result.relativeError <= 1e-3)
        #expect(result.top5Matches == result.rows)
        let convolutions = model.dispatchReport.filter { $0.kind == "conv" }
        #expect(convolutions.count == 20)
        #expect(convolutions.allSatisfy { $0.implementation.hasPrefix("cudnn:") })
        #expect(model.dispatchReport.contains { $0.implementation.hasPrefix("cublasLt") })
    }

    @Test(.enabled(if: CUDATestSupport.hasGPU, "needs a CUDA GPU"))
    func fp16AgreesOnTop1() throws {
        let graph = try Self.resnet("resnet18")
        let input = try EngineFixtures.batch(for: "resnet18")
        let model = try CUDABackend(inputNormalization: nil).compile(graph, batchSize: 8, precision: .fp16)
        #expect(model.precision == .fp16)
        let result = try Self.compare(try model.run(input), try Self.oneDNNLogits(graph, input))
        print("resnet18 cuda fp16: max |Δ| \(result.maxAbsDifference) (\(result.relativeError) of max |logit|), top-1 \(result.top1Matches)/\(result.rows)")
        #expect(result.relativeError <= 0.05)
        #expect(Double(result.top1Matches) >= 0.95 * Double(result.rows), "top-1 identical on \(result.top1Matches)/\(result.rows)")
    }

    /// uint8 crops normalised on the device give the logits of the same crops normalised on the CPU, and the
    /// statistics count the 4× smaller upload.
    @Test(.enabled(if: CUDATestSupport.hasGPU, "needs a CUDA GPU"))
    func uint8PathEqualsFloatPath() throws {
        let graph = try Self.resnet("resnet18")
        let model = try CUDABackend(inputNormalization: Self.imagenet).compileModel(graph, batchSize: 4, precision: .fp32)
        #expect(model.inputEncoding == .uint8NHWC(Self.imagenet))
        #expect(model.hostAllocator != nil)
        let (pixels, floats) = try Self.seededCrops(count: 4, seed: 19)
        var fromPixels = [Float](repeating: 0, count: 4 * 1000)
        try pixels.withUnsafeBytes { source in
            try fromPixels.withUnsafeMutableBufferPointer { try model.run(pixels: source, count: 4, output: $0) }
        }
        let statistics = try #require(model.deviceStatistics)
        #expect(statistics.hostToDeviceBytes == 4 * 224 * 224 * 3)
        #expect(statistics.deviceToHostBytes == 4 * 1000 * 4)
        #expect(statistics.busySeconds > 0)
        #expect(statistics.device.hasPrefix("cuda:0 "))
        let fromFloats = try model.run(floats)
        let result = LogitComparison(actual: fromPixels, expected: try fromFloats.floats(), classes: 1000)
        print("resnet18 cuda uint8 vs float input: \(result.relativeError) of max |logit|")
        #expect(result.relativeError <= 1e-4)
        #expect(result.top5Matches == 4)
    }

    /// A short final batch runs the full batch's graph on its own samples: the same rows as in a full batch.
    @Test(.enabled(if: CUDATestSupport.hasGPU, "needs a CUDA GPU"))
    func smallerLastBatchGivesTheSameRows() throws {
        let graph = try Self.resnet("resnet18")
        let model = try CUDABackend(inputNormalization: Self.imagenet).compileModel(graph, batchSize: 8, precision: .fp16)
        let (pixels, _) = try Self.seededCrops(count: 8, seed: 23)
        var full = [Float](repeating: 0, count: 8 * 1000), short = [Float](repeating: .nan, count: 3 * 1000)
        try pixels.withUnsafeBytes { source in
            try full.withUnsafeMutableBufferPointer { try model.run(pixels: source, count: 8, output: $0) }
            let firstThree = UnsafeRawBufferPointer(rebasing: source[0..<(3 * 224 * 224 * 3)])
            try short.withUnsafeMutableBufferPointer { try model.run(pixels: firstThree, count: 3, output: $0) }
        }
        let result = LogitComparison(actual: short, expected: Array(full[0..<(3 * 1000)]), classes: 1000)
        #expect(result.maxAbsDifference <= 1e-3 * max(1, result.maxAbsExpected))
        #expect(result.top5Matches == 3)
        #expect(throws: InferenceError.self) {
            try pixels.withUnsafeBytes { source in
                try short.withUnsafeMutableBufferPointer { try model.run(pixels: source, count: 9, output: $0) }
            }
        }
    }

    /// The captured CUDA graph computes what the same steps launched one by one compute.
    @Test(.enabled(if: CUDATestSupport.hasGPU, "needs a CUDA GPU"))
    func capturedGraphEqualsStepByStepLaunches() throws {
        let graph = try Self.resnet("resnet18")
        let captured = try CUDABackend(inputNormalization: Self.imagenet).compileModel(graph, batchSize: 4, precision: .fp16)
        let stepwise = try CUDABackend(inputNormalization: Self.imagenet, capturesGraphs: false)
            .compileModel(graph, batchSize: 4, precision: .fp16)
        #expect(captured.dispatchReport.last?.implementation == "cuda-graph")
        #expect(stepwise.dispatchReport.last?.implementation == "stream")
        let (pixels, _) = try Self.seededCrops(count: 4, seed: 31)
        var a = [Float](repeating: 0, count: 4000), b = [Float](repeating: 1, count: 4000)
        try pixels.withUnsafeBytes { source in
            try a.withUnsafeMutableBufferPointer { try captured.run(pixels: source, count: 4, output: $0) }
            try b.withUnsafeMutableBufferPointer { try stepwise.run(pixels: source, count: 4, output: $0) }
        }
        let result = LogitComparison(actual: a, expected: b, classes: 1000)
        #expect(result.relativeError <= 1e-3)
        #expect(result.top1Matches == 4)
    }

    /// Two copies on one device (the pipeline's two feeder threads): one upload, one algorithm search per shape,
    /// the same logits, runs on both at once.
    @Test(.enabled(if: CUDATestSupport.hasGPU, "needs a CUDA GPU"))
    func twoCopiesShareWeightsAndAlgorithms() throws {
        let graph = try Self.resnet("resnet18")
        let cache = CUDAWeightCache()
        let backend = CUDABackend(inputNormalization: Self.imagenet, sharedWeights: cache)
        let first = try backend.compileModel(graph, batchSize: 8, precision: .fp16)
        let searches = cache.algorithmSearches
        let second = try backend.compileModel(graph, batchSize: 8, precision: .fp16)
        #expect(cache.uploadCount == 1)
        #expect(cache.algorithmSearches == searches)
        #expect(first.deviceBytes.weights == second.deviceBytes.weights)
        let (pixels, _) = try Self.seededCrops(count: 8, seed: 29)
        final class Results: @unchecked Sendable {
            let lock = NSLock()
            var logits = [[Float]](repeating: [], count: 2)
            var errors: [String] = []
        }
        let results = Results()
        DispatchQueue.concurrentPerform(iterations: 2) { index in
            do {
                var logits = [Float](repeating: 0, count: 8 * 1000)
                let model = index == 0 ? first : second
                for _ in 0..<3 {
                    try pixels.withUnsafeBytes { source in
                        try logits.withUnsafeMutableBufferPointer { try model.run(pixels: source, count: 8, output: $0) }
                    }
                }
                results.lock.withLock { results.logits[index] = logits }
            } catch {
                results.lock.withLock { results.errors.append("\(error)") }
            }
        }
        #expect(results.errors.isEmpty, "\(results.errors)")
        #expect(results.logits[0] == results.logits[1])
    }
}
