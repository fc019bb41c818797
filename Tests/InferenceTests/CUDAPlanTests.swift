import Foundation
import Testing
@testable import Inference

/// The CUDA lowering as data (no GPU): fusions, layouts, types, arena, weights and the CUDA-graph launch list.
@Suite(.serialized)
struct CUDAPlanTests {
    static let imagenet = InputNormalization(mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], divisor: 255)
    static let resnet50 = Result { try ModelZoo.graph("resnet50", weightsPath: nil) }

    static func plan(_ graph: Graph, batch: Int = 8, precision: Precision = .fp16,
                     encoding: ModelInputEncoding = .uint8NHWC(imagenet)) throws -> CUDAPlan {
        try CUDAPlan.build(graph: graph, batchSize: batch, precision: precision, inputEncoding: encoding)
    }

    /// What the architecture says: each block ends in a residual add + ReLU fused into its last convolution;
    /// the other block convolutions and the stem carry a ReLU; downsample shortcuts have none.
    static func expectedConvolutions(_ variant: ResNet.Variant) -> (total: Int, residual: Int, reluOnly: Int, identity: Int) {
        let blocks = variant.blocksPerStage.reduce(0, +)
        let perBlock = variant.usesBottleneck ? 3 : 2
        // A shortcut convolution where the block changes stride or width: every stage's first block, except
        // the first stage of basic blocks (64 → 64 channels, stride 1).
        let downsamples = variant.usesBottleneck ? 4 : 3
        return (1 + blocks * perBlock + downsamples, blocks, 1 + blocks * (perBlock - 1), downsamples)
    }

    static func convolutions(_ plan: CUDAPlan) -> [CUDAConvolutionStep] {
        plan.steps.compactMap { if case .convolution(let c) = $0.kind { c } else { nil } }
    }

    @Test(arguments: [ResNet.Variant.resnet18, .resnet50])
    func resnetConvolutionsCarryTheirFusions(variant: ResNet.Variant) throws {
        let graph = variant == .resnet50 ? try Self.resnet50.get() : try ResNet.build(variant, weights: RecordingWeights())
        let plan = try Self.plan(graph)
        let convs = Self.convolutions(plan)
        let expected = Self.expectedConvolutions(variant)
        #expect(convs.count == expected.total)
        #expect(convs.filter { $0.residual != nil && $0.activation == .relu }.count == expected.residual)
        #expect(convs.filter { $0.residual != nil }.count == expected.residual)
        #expect(convs.filter { $0.residual == nil && $0.activation == .relu }.count == expected.reluOnly)
        #expect(convs.filter { $0.activation == .identity }.count == expected.identity)
        // cuDNN runs the identity activation only with IMPLICIT_PRECOMP_GEMM; everything else may choose.
        #expect(convs.allSatisfy { ($0.activation == .identity) == ($0.algorithms == .implicitPrecompGemm) })
        #expect(convs.allSatisfy { $0.dataType == .float16 && $0.mathMode == .tensorOp })
        // No separate activation, add or conversion: everything but the classifier is cuDNN's fused call.
        #expect(!plan.steps.contains { if case .activation = $0.kind { true } else { false } })
        #expect(!plan.steps.contains { if case .binary = $0.kind { true } else { false } })
        #expect(!plan.steps.contains { if case .convert = $0.kind { true } else { false } })
    }

    @Test func resnet50TensorsAreNHWCInTheComputeType() throws {
        let plan = try Self.plan(try Self.resnet50.get())
        #expect(plan.tensors.allSatisfy { $0.layout == .nhwc })
        let input = plan.tensor(plan.input)
        #expect(input.dtype == .uint8 && input.shape == CUDAShape(n: 8, h: 224, w: 224, c: 3) && input.storage == .input)
        #expect(input.byteCount == 8 * 224 * 224 * 3)
        let output = plan.tensor(plan.output)
        #expect(output.dtype == .float32 && output.shape == CUDAShape(n: 8, h: 1, w: 1, c: 1000) && output.storage == .output)
        for t in plan.tensors where t.id != plan.input && t.id != plan.output {
            #expect(t.dtype == .float16, "\(t)")
            #expect(t.byteCount == t.shape.elementCount * 2)
            guard case .arena(let offset) = t.storage else { Issue.record("\(t) is not in the arena"); continue }
            #expect(offset % ArenaPlanner.alignment == 0)
            #expect(offset + t.byteCount <= plan.arenaByteCount)
        }
        #expect(plan.outputShape == [1000] && plan.inputShape == [3, 224, 224])
    }

    /// The stem reads 8 channels (3 normalised + 5 zeros) and its filter has 8 input channels, zeros past 3.
    @Test func stemChannelsArePadded() throws {
        let graph = try ResNet.build(.resnet18, weights: SeededWeights(seed: 7), inputSize: 32)
        let plan = try Self.plan(graph, batch: 2)
        guard case .normalizeInput(let input) = plan.steps[0].kind else {
            Issue.record("the first step is \(plan.steps[0].kindName)")
            return
        }
        #expect(input.inputChannels == 3 && input.outputChannels == 8)
        #expect(plan.tensor(input.output).shape == CUDAShape(n: 2, h: 32, w: 32, c: 8))
        let stem = Self.convolutions(plan)[0]
        #expect(stem.input == input.output && stem.c == 8 && stem.k == 64 && stem.r == 7 && stem.s == 7)
        let filter = plan.weights[stem.filter.index]
        #expect(filter.layout == .filterKRSC(k: 64, r: 7, s: 7, c: 8) && filter.dtype == .float16)
        #expect(filter.byteCount == 64 * 7 * 7 * 8 * 2)

        // The packed filter: the folded float32 weights in KRSC, rounded to fp16, zeros in channels 3..<8.
        guard case .conv2d(let folded) = try GraphOptimizer.optimize(graph).nodes[0].operation else {
            Issue.record("the optimised graph does not start with the stem")
            return
        }
        let reference = try folded.weight.floats()
        let bytes = try plan.packedWeights()
        func packed(_ k: Int, _ r: Int, _ s: Int, _ c: Int) -> Float {
            let offset = filter.offset + (((k * 7 + r) * 7 + s) * 8 + c) * 2
            return Float(Float16(bitPattern: UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8))
        }
        for (k, r, s) in [(0, 0, 0), (5, 3, 4), (63, 6, 6)] {
            for c in 0..<3 {
                #expect(packed(k, r, s, c) == Float(Float16(reference[((k * 3 + c) * 7 + r) * 7 + s])))
            }
            for c in 3..<8 { #expect(packed(k, r, s, c) == 0) }
        }
        // tf32 and fp32 keep float32 activations: 16-byte pixels are 4 channels.
        let tf32 = try Self.plan(graph, batch: 2, precision: .tf32)
        #expect(Self.convolutions(tf32)[0].c == 4)
    }

    /// Tensors alive at the same step never share bytes, and the arena is exactly the largest set of
    /// tensors alive at one step (computed here from the steps), far below one buffer per tensor.
    @Test(arguments: [ResNet.Variant.resnet18, .resnet50])
    func arenaIsTheLargestLiveSet(variant: ResNet.Variant) throws {
        let graph = variant == .resnet50 ? try Self.resnet50.get() : try ResNet.build(variant, weights: RecordingWeights())
        let plan = try Self.plan(graph, batch: 4)
        var first: [CUDATensorID: Int] = [:], last: [CUDATensorID: Int] = [:]
        for (i, step) in plan.steps.enumerated() {
            for t in step.reads + [step.writes] {
                first[t] = min(first[t] ?? i, i)
                last[t] = max(last[t] ?? i, i)
            }
        }
        let arena = plan.tensors.filter { if case .arena = $0.storage { true } else { false } }
        func aligned(_ n: Int) -> Int { (n + ArenaPlanner.alignment - 1) / ArenaPlanner.alignment * ArenaPlanner.alignment }
        var largestLive = 0
        for i in plan.steps.indices {
            let live = arena.filter { (first[$0.id] ?? .max) <= i && i <= (last[$0.id] ?? -1) }
            largestLive = max(largestLive, live.reduce(0) { $0 + aligned($1.byteCount) })
            for (x, a) in live.enumerated() {
                for b in live[(x + 1)...] {
                    guard case .arena(let p) = a.storage, case .arena(let q) = b.storage else { continue }
                    #expect(!(p..<(p + a.byteCount)).overlaps(q..<(q + b.byteCount)), "\(a) and \(b) at step \(i)")
                }
            }
        }
        let everything = arena.reduce(0) { $0 + aligned($1.byteCount) }
        #expect(plan.arenaByteCount == largestLive)
        #expect(plan.arenaByteCount <= everything)
        #expect(plan.arenaByteCount * 2 < everything)
    }

    /// The CUDA graph records: the normaliser, the stem, the max pool, every block convolution, the global
    /// pool and the classifier (no flatten: after the global pool it is a no-op in NHWC).
    @Test(arguments: [ResNet.Variant.resnet18, .resnet50])
    func captureListOrder(variant: ResNet.Variant) throws {
        let graph = variant == .resnet50 ? try Self.resnet50.get() : try ResNet.build(variant, weights: RecordingWeights())
        let plan = try Self.plan(graph, batch: 16)
        let convs = Self.expectedConvolutions(variant).total
        let kinds = plan.launches.map(\.description)
        #expect(plan.launches.count == 1 + convs + 3)
        #expect(kinds == ["kernel sluice_normalize_u8_f16", "cudnnConvolutionBiasActivationForward", "cudnnPoolingForward"]
                + Array(repeating: "cudnnConvolutionBiasActivationForward", count: convs - 1)
                + ["cudnnPoolingForward", "cublasLtMatmul"])
        #expect(plan.launches.map(\.step) == Array(plan.steps.indices))
        #expect(plan.summary.split(separator: "\n").count == plan.steps.count + 1)
        guard case .matmul(let fc) = plan.steps.last?.kind else {
            Issue.record("the last step is \(plan.steps.last?.kindName ?? "none")")
            return
        }
        let features = variant.usesBottleneck ? 2048 : 512
        #expect(fc.m == 1000 && fc.n == 16 && fc.k == features && fc.epilogue == .bias)
        #expect(fc.inputType == .float16 && fc.outputType == .float32 && fc.output == plan.output && !fc.allowsTF32)
        #expect(plan.weights[fc.weight.index].layout == .matrix(rows: 1000, cols: features))
        #expect(plan.weights[fc.bias?.index ?? 0].dtype == .float32)
        guard case .pooling(let gap) = plan.steps[plan.steps.count - 2].kind else { return }
        #expect(gap.isGlobal && gap.window == [7, 7] && gap.mode == .averageExcludingPadding)
    }

    @Test func precisionsChooseTypesAndMath() throws {
        let graph = try ResNet.build(.resnet18, weights: RecordingWeights(), inputSize: 32)
        let bf16 = try Self.plan(graph, precision: .bf16)
        #expect(bf16.computeType == .bfloat16 && bf16.kernelNames == ["sluice_normalize_u8_bf16"])
        #expect(Self.convolutions(bf16).allSatisfy { $0.mathMode == .tensorOp && $0.dataType == .bfloat16 && $0.c % 8 == 0 })
        let tf32 = try Self.plan(graph, precision: .tf32)
        #expect(tf32.computeType == .float32 && Self.convolutions(tf32).allSatisfy { $0.mathMode == .tf32 })
        if case .matmul(let fc) = tf32.steps.last?.kind { #expect(fc.allowsTF32) }
        let fp32 = try Self.plan(graph, precision: .fp32)
        #expect(Self.convolutions(fp32).allSatisfy { $0.mathMode == .fma && $0.dataType == .float32 })
        #expect(throws: CUDAPlanError(.unsupportedPrecision(.int8, why: "the CUDA backend computes in fp16, bf16, tf32 or fp32"))) {
            try Self.plan(graph, precision: .int8)
        }
        #expect(throws: CUDAPlanError(.invalidBatchSize(0))) { try Self.plan(graph, batch: 0) }
        // Deterministic: the same graph gives the same plan.
        #expect(try Self.plan(graph) == Self.plan(graph))
    }

    /// float32 NCHW input: one layout step to padded NHWC in the compute type.
    @Test func floatInputIsTransposedOnce() throws {
        let graph = try ResNet.build(.resnet18, weights: RecordingWeights(), inputSize: 32)
        let plan = try Self.plan(graph, batch: 3, encoding: .float32NCHW)
        guard case .inputLayout(let step) = plan.steps[0].kind else {
            Issue.record("the first step is \(plan.steps[0].kindName)")
            return
        }
        let input = plan.tensor(plan.input)
        #expect(input.layout == .nchw && input.dtype == .float32 && input.byteCount == 3 * 3 * 32 * 32 * 4)
        #expect(step.inputChannels == 3 && step.outputChannels == 8)
        #expect(plan.kernelNames == ["sluice_nchw_f32_to_nhwc_f16"])
    }

    @Test func weightsArePlacedWithoutOverlap() throws {
        let plan = try Self.plan(try ResNet.build(.resnet18, weights: RecordingWeights()))
        var end = 0
        for w in plan.weights {
            #expect(w.offset % CUDAPlan.weightAlignment == 0)
            #expect(w.offset >= end, "\(w.name)")
            #expect(w.byteCount == w.layout.elementCount * w.dtype.byteSize)
            end = w.offset + w.byteCount
        }
        #expect(plan.weightsByteCount >= end && plan.weightsByteCount - end < CUDAPlan.weightAlignment)
        // 20 filters and biases, the classifier's weight and bias.
        #expect(plan.weights.count == 20 * 2 + 2)
        #expect(plan.weights.first?.name == "conv1.weight")
    }

    /// Every kernel launch passes what its entry point declares, in order.
    @Test func kernelLaunchesMatchTheirEntryPoints() throws {
        var plans = [try Self.plan(CUDAPlanGraphs.everyOperation()), try Self.plan(CUDAPlanGraphs.everyOperation(), precision: .bf16),
                     try Self.plan(CUDAPlanGraphs.everyOperation(), precision: .fp32, encoding: .float32NCHW)]
        plans.append(try Self.plan(try ResNet.build(.resnet18, weights: RecordingWeights(), inputSize: 32)))
        for plan in plans {
            for launch in plan.launches {
                guard case .kernel(let k) = launch.kind else { continue }
                guard let entry = CUDAKernels.entryPoint(named: k.kernel) else {
                    Issue.record("no entry point \(k.kernel)")
                    continue
                }
                let types = k.arguments.map { argument -> CUDAKernels.ParameterType in
                    switch argument {
                    case .tensor, .weight: .pointer
                    case .int32: .int32
                    case .int64: .int64
                    case .float32: .float32
                    }
                }
                #expect(types == entry.parameters.map(\.type), "\(k.kernel)")
                #expect(k.grid.count == 3 && k.block.count == 3 && k.grid.allSatisfy { $0 >= 1 })
                #expect(k.block.reduce(1, *) <= 1024)
            }
        }
    }
}

extension CUDAPlanTests {
    /// A small graph with every operation the lowering handles outside ResNets.
    @Test func everyOperationLowers() throws {
        let plan = try Self.plan(CUDAPlanGraphs.everyOperation(), batch: 2)
        print(plan.summary)
        let kinds = plan.steps.map { "\($0.kindName) \($0.layer)" }
        #expect(kinds == [
            "normalize_input input",
            "conv stem",            // swish: identity in cuDNN, then Sluice's activation in place
            "activation stem",
            "conv expand",          // ReLU6: cuDNN's clipped ReLU
            "global_avg_pool squeeze",
            "conv squeeze_fc",
            "activation squeeze_fc", // its hard sigmoid, fused into the graph's conv, is Sluice's kernel
            "mul excite",           // [C, H, W] × [C, 1, 1]
            "add scaled",           // + a [C, 1, 1] constant
            "concat cat",
            "scale_shift bn",       // batch-norm after a concatenation, with its ReLU
            "avg_pool pool",
            "transpose flatten",    // [C, H, W] with H·W > 1: NCHW element order
            "matmul fc",
            "softmax probabilities",
        ])
        let steps = plan.steps.map(\.kind)
        if case .convolution(let stem) = steps[1], case .activation(let swish) = steps[2] {
            #expect(stem.activation == .identity && stem.algorithms == .implicitPrecompGemm)
            #expect(swish.activation == .swish && swish.input == stem.output && swish.output == stem.output)
        } else { Issue.record("stem: \(steps[1]), \(steps[2])") }
        if case .convolution(let expand) = steps[3] { #expect(expand.activation == .clippedRelu(ceiling: 6)) }
        if case .binary(let excite) = steps[7] {
            // Output (n, h, w, c) reads the gate at n·C + c.
            #expect(excite.dims == [2, 4, 4, 8] && excite.bStrides == [8, 0, 0, 1])
            #expect(excite.kind == .mul)
        } else { Issue.record("excite: \(steps[7])") }
        if case .binary(let scaled) = steps[8] {
            #expect(scaled.bStrides == [0, 0, 0, 1])
            guard case .weight(let w) = scaled.b else { Issue.record("the constant is not a weight"); return }
            #expect(plan.weights[w.index].layout == .constant(h: 1, w: 1, c: 8))
        }
        if case .concat(let cat) = steps[9] { #expect(cat.channelOffsets == [0, 8]) }
        if case .scaleShift(let bn) = steps[10] { #expect(bn.activation == .relu) }
        if case .transpose(let t) = steps[12] { #expect(t.batch == 2 && t.rows == 4 && t.columns == 16) }
        if case .matmul(let fc) = steps[13] {
            #expect(fc.outputType == .float32 && fc.k == 64 && fc.m == 10 && fc.epilogue == .reluBias)
        }
        if case .softmax(let s) = steps[14] { #expect(s.rows == 2 && s.columns == 10 && s.output == plan.output) }
        // 15 steps, the concatenation being one copy per input.
        #expect(plan.launches.count == 16)
        #expect(plan.tensor(plan.output).dtype == .float32)
        // Channel padding only where convolutions alone read the input.
        guard case .normalizeInput(let input) = steps[0] else { return }
        #expect(input.outputChannels == 8)
    }

    /// An activation in place must not leave a stale float32 copy behind: the second softmax reads a fresh
    /// conversion of the activated values, not the copy made for the first.
    @Test func inPlaceActivationInvalidatesConversions() throws {
        var g = Graph(inputShape: [3, 4, 4])
        let c = g.add(.conv2d(Conv2D(weight: try CUDAPlanGraphs.tensor([8, 3, 1, 1], seed: 1))), [g.input], name: "conv")
        let p = g.add(.globalAveragePool, [c], name: "gap")
        let f = g.add(.flatten, [p], name: "flatten")
        let x = g.add(.linear(Linear(weight: try CUDAPlanGraphs.tensor([10, 8], seed: 2))), [f], name: "fc")
        let s1 = g.add(.softmax, [x], name: "softmax1")
        let a = g.add(.activation(.sigmoid), [x], name: "sigmoid")
        let s2 = g.add(.softmax, [a], name: "softmax2")
        g.add(.concat(axis: 0), [s1, s2], name: "both")
        let plan = try Self.plan(g, batch: 2)
        let softmaxInputs = plan.steps.compactMap { step -> CUDATensorID? in
            if case .softmax(let s) = step.kind { s.input } else { nil }
        }
        #expect(softmaxInputs.count == 2 && Set(softmaxInputs).count == 2)
        let sigmoid = plan.steps.first { $0.layer == "sigmoid" }
        if case .activation(let step)? = sigmoid?.kind { #expect(step.input == step.output) }
        #expect(plan.steps.filter { $0.kindName == "convert" }.count == 5)  // 2 for the softmaxes, 2 back, the output
    }

    @Test func unsupportedNodesAreNamed() throws {
        func failure(_ graph: Graph) -> CUDAPlanError.Reason? {
            do {
                _ = try Self.plan(graph)
                return nil
            } catch let error as CUDAPlanError {
                return error.reason
            } catch {
                Issue.record("\(error)")
                return nil
            }
        }
        var ceil = Graph(inputShape: [3, 7, 7])
        ceil.add(.pool(Pool2D(kind: .max, kernel: [2, 2], stride: [2, 2], ceilMode: true)), [ceil.input], name: "odd_pool")
        #expect(failure(ceil) == .unsupportedNode(node: "odd_pool", operation: "max_pool",
                                                  why: "ceil mode gives 4x4, which needs padding after the input; cuDNN pads both sides alike"))

        var softmax = Graph(inputShape: [3, 4, 4])
        softmax.add(.softmax, [softmax.input], name: "spatial_softmax")
        #expect(failure(softmax) == .unsupportedNode(node: "spatial_softmax", operation: "softmax",
                                                     why: "softmax over the last axis of [3, 4, 4]; CUDA lowers it for flat values and [1, H, W]"))

        var matrix = Graph(inputShape: [3, 4, 4])
        let m = matrix.add(.reshape([12, 4]), [matrix.input], name: "to_matrix")
        matrix.add(.binary(Binary(.mul, constant: try Tensor.zeros([4]))), [m], name: "column_scale")
        #expect(failure(matrix) == .unsupportedNode(node: "column_scale", operation: "mul",
                                                    why: "broadcasting [4] to [12, 4]; CUDA lowers broadcasts to [C, H, W] and equal shapes"))

        var concat = Graph(inputShape: [3, 4, 4])
        concat.add(.concat(axis: 1), [concat.input, concat.input], name: "rows")
        #expect(failure(concat) == .unsupportedNode(node: "rows", operation: "concat",
                                                    why: "concatenation along per-sample axis 1; CUDA lowers channels (axis 0)"))

        var dilated = Graph(inputShape: [3, 8, 8])
        dilated.add(.pool(Pool2D(kind: .max, kernel: [2, 2], dilation: [2, 2])), [dilated.input], name: "dilated")
        #expect(failure(dilated) == .unsupportedNode(node: "dilated", operation: "max_pool",
                                                     why: "dilation [2, 2]; cuDNN pools without dilation"))
    }

    /// Padding that differs between the sides (a Pad folded into the convolution, SAME_UPPER): the common part
    /// stays in cuDNN, the difference is a zero-padding step before it.
    @Test func asymmetricPaddingBecomesAPadStep() throws {
        var g = Graph(inputShape: [3, 8, 8])
        var conv = Conv2D(weight: try CUDAPlanGraphs.tensor([8, 3, 3, 3], seed: 1), padding: [1, 2])
        conv.paddingEnd = [0, 1]
        g.add(.conv2d(conv), [g.input], name: "padded")
        let plan = try Self.plan(g, batch: 2)
        // (The feature map is the output: float32, in NCHW order.)
        #expect(plan.steps.map(\.kindName) == ["normalize_input", "pad", "conv", "convert", "transpose"])
        guard case .pad(let pad) = plan.steps[1].kind, case .convolution(let c) = plan.steps[2].kind else { return }
        #expect(pad.top == 1 && pad.left == 1)
        #expect(plan.tensor(pad.output).shape == CUDAShape(n: 2, h: 9, w: 9, c: 8))
        #expect(c.input == pad.output && c.padding == [0, 1])
        #expect(plan.tensor(c.output).shape == CUDAShape(n: 2, h: 7, w: 9, c: 8))
        // Where the two sides differ without changing the output, cuDNN's symmetric padding reads the same inputs.
        var strided = Graph(inputShape: [3, 7, 7])
        var same = Conv2D(weight: try CUDAPlanGraphs.tensor([8, 3, 3, 3], seed: 1), stride: [2, 2], padding: [0, 0])
        same.paddingEnd = [1, 1]
        strided.add(.conv2d(same), [strided.input], name: "same_upper")
        #expect(try Self.plan(strided).steps.map(\.kindName) == ["normalize_input", "conv", "convert", "transpose"])
    }

    @Test func badNormalisationIsRefused() throws {
        let graph = try ResNet.build(.resnet18, weights: RecordingWeights(), inputSize: 32)
        let twoMeans = InputNormalization(mean: [0.5, 0.5], std: [1, 1], divisor: 255)
        #expect(throws: CUDAPlanError(.invalidNormalization(why: "2 means and 2 standard deviations for 3 channels"))) {
            try Self.plan(graph, encoding: .uint8NHWC(twoMeans))
        }
        let zeroStd = InputNormalization(mean: [0, 0, 0], std: [1, 0, 1], divisor: 255)
        #expect(throws: CUDAPlanError.self) { try Self.plan(graph, encoding: .uint8NHWC(zeroStd)) }
    }

    /// A tensor cuDNN could not index (more than 2³¹ − 1 elements) is refused before anything is allocated.
    @Test func hugeBatchesOverflowTyped() throws {
        let graph = try ResNet.build(.resnet18, weights: RecordingWeights(), inputSize: 224)
        #expect(throws: CUDAPlanError.self) { try Self.plan(graph, batch: 1 << 20) }
    }

    /// The CPU reference of the normaliser: (x / 255 − mean) / std, rounded to fp16, zeros in the padding.
    @Test func normalizerReference() throws {
        let pixels: [UInt8] = [0, 128, 255, 10, 20, 30]
        let out = try CUDAInputNormalizerReference.normalize(pixels, inputChannels: 3, outputChannels: 4,
                                                              normalization: Self.imagenet, type: .float16)
        #expect(out.count == 8)
        for p in 0..<2 {
            for c in 0..<3 {
                let exact = (Float(pixels[p * 3 + c]) / 255 - Self.imagenet.mean[c]) / Self.imagenet.std[c]
                #expect(abs(out[p * 4 + c] - exact) <= abs(exact) * 0.001 + 0.001)
            }
            #expect(out[p * 4 + 3] == 0)
        }
        #expect(CUDAInputNormalizerReference.round(1.00390625, to: .bfloat16) == 1)  // tie → even
        #expect(CUDAInputNormalizerReference.round(1.01171875, to: .bfloat16) == 1.015625)
    }
}

/// Crafted graphs for the lowering tests.
enum CUDAPlanGraphs {
    static func tensor(_ shape: [Int], seed: Int) throws -> Tensor {
        let count = shape.reduce(1, *)
        return try Tensor(shape: shape, values: (0..<count).map { Float(($0 * 7 + seed) % 13) / 13 - 0.5 })
    }

    /// conv+swish → conv+ReLU6 → squeeze-and-excite (global pool, 1×1 conv, hard sigmoid, mul) → + constant →
    /// concat → batch-norm + ReLU → avg pool → flatten (H·W = 4) → linear + ReLU → softmax.
    static func everyOperation() throws -> Graph {
        var g = Graph(inputShape: [3, 8, 8])
        var stem = Conv2D(weight: try tensor([8, 3, 3, 3], seed: 1), bias: try tensor([8], seed: 2), stride: [2, 2], padding: [1, 1])
        stem.activation = nil
        let s0 = g.add(.conv2d(stem), [g.input], name: "stem")
        let sig = g.add(.activation(.sigmoid), [s0], name: "stem_sigmoid")
        let x = g.add(.binary(Binary(.mul)), [s0, sig], name: "stem_swish")
        let e0 = g.add(.conv2d(Conv2D(weight: try tensor([8, 8, 1, 1], seed: 3))), [x], name: "expand")
        let e = g.add(.activation(.clip(lower: 0, upper: 6)), [e0], name: "expand_relu6")
        let pooled = g.add(.globalAveragePool, [e], name: "squeeze")
        let fc = g.add(.conv2d(Conv2D(weight: try tensor([8, 8, 1, 1], seed: 4), bias: try tensor([8], seed: 5))), [pooled], name: "squeeze_fc")
        let gate = g.add(.activation(.hardSigmoid(alpha: 1.0 / 6, beta: 0.5)), [fc], name: "gate")
        let excited = g.add(.binary(Binary(.mul)), [e, gate], name: "excite")
        let scaled = g.add(.binary(Binary(.add, constant: try tensor([8, 1, 1], seed: 6))), [excited], name: "scaled")
        let cat = g.add(.concat(axis: 0), [scaled, x], name: "cat")
        let bn = g.add(.batchNorm(BatchNorm(weight: try tensor([16], seed: 7), bias: try tensor([16], seed: 8),
                                            mean: try tensor([16], seed: 9), variance: try Tensor(shape: [16], values: Array(repeating: 1, count: 16)))),
                       [cat], name: "bn")
        let relu = g.add(.activation(.relu), [bn], name: "bn_relu")
        let pool = g.add(.pool(Pool2D(kind: .average, kernel: [2, 2])), [relu], name: "pool")
        let flat = g.add(.flatten, [pool], name: "flatten")
        let logits = g.add(.linear(Linear(weight: try tensor([10, 64], seed: 10), bias: try tensor([10], seed: 11))), [flat], name: "fc")
        let r = g.add(.activation(.relu), [logits], name: "fc_relu")
        g.add(.softmax, [r], name: "probabilities")
        return g
    }
}
