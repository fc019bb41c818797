import Foundation
import Testing
import SluiceTestSupport
@testable import Inference

/// The warm-up pass's answer to cuDNN refusing the legacy fused convolution (CUDNN_STATUS_NOT_SUPPORTED), run
/// against a fake libcudnn.so.9 that refuses every fused call and logs the calls made: IMPLICIT_PRECOMP_GEMM
/// first, then separate calls (plain convolution with a heuristic algorithm, bias and residual adds, the
/// activation in place), instead of failing the whole model on one layer.
@Suite struct CUDAConvolutionFallbackTests {
    /// cuDNN whose fused call always answers CUDNN_STATUS_NOT_SUPPORTED; `fake_calls` logs the others.
    static let fakeCUDNN = """
        #include <stddef.h>
        #include <stdio.h>
        #include <string.h>
        char fake_calls[4096];
        static void note(const char *text) { strncat(fake_calls, text, sizeof fake_calls - strlen(fake_calls) - 1); }
        size_t cudnnGetVersion(void) { return 92801; }
        const char *cudnnGetErrorString(int status) { return status == 3000 ? "CUDNN_STATUS_NOT_SUPPORTED" : "CUDNN_STATUS_OTHER"; }
        static long next_descriptor = 0x100;
        static int create(void **d) { *d = (void *)next_descriptor++; return 0; }
        int cudnnCreateTensorDescriptor(void **d) { return create(d); }
        int cudnnCreateFilterDescriptor(void **d) { return create(d); }
        int cudnnCreateConvolutionDescriptor(void **d) { return create(d); }
        int cudnnCreateActivationDescriptor(void **d) { return create(d); }
        int cudnnConvolutionBiasActivationForward(void *h, const void *a1, void *xd, const void *x, void *wd, const void *w,
                                                  void *cd, int algo) {
            char text[64]; snprintf(text, sizeof text, "fused(%d);", algo); note(text); return 3000;
        }
        int cudnnConvolutionForward(void *h, const void *a, void *xd, const void *x, void *wd, const void *w, void *cd, int algo) {
            char text[64]; snprintf(text, sizeof text, "conv(%d);", algo); note(text); return 0;
        }
        typedef struct { int algo; int status; float time; size_t memory; int determinism; int mathType; int reserved[3]; } perf_t;
        int cudnnGetConvolutionForwardAlgorithm_v7(void *h, void *xd, void *wd, void *cd, void *yd, int requested, int *returned,
                                                   perf_t *results) {
            note("heuristic;");
            results[0].algo = 0; results[0].status = 0; results[0].memory = 0; results[0].mathType = 1;
            *returned = 1; return 0;
        }
        int cudnnGetConvolutionForwardWorkspaceSize(void *h, void *xd, void *wd, void *cd, void *yd, int algo, size_t *bytes) {
            *bytes = 0; return 0;
        }
        int cudnnAddTensor(void *h, const void *alpha, void *ad, const void *a) {
            note(a == (const void *)0x5000 ? "add(bias);" : a == (const void *)0x6000 ? "add(residual);" : "add(?);"); return 0;
        }
        int cudnnActivationForward(void *h, void *ad) { note("activation;"); return 0; }
        """

    static func loadFake() throws -> (CUDNN, path: String) {
        let folder = try TestData.temporaryDirectory("cudnn-fused-refused")
        let implemented: Set<String> = [
            "cudnnGetErrorString", "cudnnCreateTensorDescriptor", "cudnnCreateFilterDescriptor", "cudnnCreateConvolutionDescriptor",
            "cudnnCreateActivationDescriptor", "cudnnConvolutionBiasActivationForward", "cudnnConvolutionForward",
            "cudnnGetConvolutionForwardAlgorithm_v7", "cudnnGetConvolutionForwardWorkspaceSize", "cudnnAddTensor",
            "cudnnActivationForward",
        ]
        let source = fakeCUDNN + FakeCUDALibraries.stubs(FakeCUDALibraries.cudnnNames.filter { !implemented.contains($0) })
        let path = try FakeCUDALibraries.build("libcudnn.so.9", in: folder, source: source)
        return (try CUDNN.load(search: CUDALibrarySearch(directories: [folder])), path)
    }

    static func calls(_ path: String) throws -> String {
        let symbol = try #require(dlsym(dlopen(path, RTLD_NOW | RTLD_LOCAL), "fake_calls"))
        return String(cString: symbol.assumingMemoryBound(to: CChar.self))
    }

    static func step(cudnn: CUDNN, activation: Int32, residual: Bool, choice: ConvolutionChoice) throws -> ConvolutionStep {
        let shape = NHWCShape(n: 2, h: 4, w: 4, c: 8)
        let x = try TensorDescriptor(cudnn: cudnn, shape: shape, element: .float16, step: "conv")
        let y = try TensorDescriptor(cudnn: cudnn, shape: shape, element: .float16, step: "conv")
        let w = try FilterDescriptor(cudnn: cudnn, k: 8, c: 1, r: 3, s: 3, element: .float16, step: "conv")
        let convolution = try ConvolutionDescriptor(cudnn: cudnn, padding: [1, 1], stride: [1, 1], dilation: [1, 1], groups: 8,
                                                    mathType: CUDNNValue.tensorOpMath, step: "conv")
        let fusion = ConvolutionStep.Fusion(
            bias: try TensorDescriptor(cudnn: cudnn, shape: NHWCShape(n: 1, h: 1, w: 1, c: 8), element: .float16, step: "bias"),
            biasAddress: UnsafeMutableRawPointer(bitPattern: 0x5000),
            residual: residual ? try TensorDescriptor(cudnn: cudnn, shape: shape, element: .float16, step: "z") : nil,
            residualAddress: residual ? UnsafeMutableRawPointer(bitPattern: 0x6000) : nil,
            activation: try ActivationDescriptor(cudnn: cudnn, mode: activation, step: "conv"), clip: nil)
        return ConvolutionStep(
            record: DispatchRecord(layer: "conv", kind: "conv", implementation: "cudnn:\(choice.algorithmName)", detail: "2x4x4x8"),
            cudnn: cudnn, handle: try #require(OpaquePointer(bitPattern: 0x42)), x: x,
            xAddress: UnsafeMutableRawPointer(bitPattern: 0x1000), w: w, wAddress: UnsafeMutableRawPointer(bitPattern: 0x2000),
            convolution: convolution, y: y, yAddress: UnsafeMutableRawPointer(bitPattern: 0x3000), fusion: fusion, choice: choice,
            workspace: nil, workspaceLimit: 0, scalars: Scalars())
    }

    @Test("a refused fused call with a measured algorithm: IMPLICIT_PRECOMP_GEMM, then separate calls with the residual and ReLU")
    func measuredThenPrecompThenSeparate() throws {
        let (cudnn, path) = try Self.loadFake()
        let measured = ConvolutionChoice(algorithm: 6, mathType: CUDNNValue.tensorOpMath, workspaceBytes: 0, milliseconds: 0.1,
                                         source: .measured)
        let step = try Self.step(cudnn: cudnn, activation: CUDNNValue.activationRelu, residual: true, choice: measured)
        try step.warmUp(on: nil)
        #expect(try Self.calls(path) == "fused(6);fused(1);heuristic;conv(0);add(bias);add(residual);activation;")
        #expect(step.separateCalls)
        #expect(step.record.implementation == "cudnn:IMPLICIT_GEMM")
        #expect(step.record.detail.contains("fused call refused: separate convolution, add, activation"))
        // What the capture then records: the same separate calls, no fused one.
        try step.enqueue(on: nil)
        #expect(try Self.calls(path).hasSuffix("activation;conv(0);add(bias);add(residual);activation;"))
    }

    @Test("identity activation (IMPLICIT_PRECOMP_GEMM required) refused: separate convolution and bias add, no activation call")
    func identityRefused() throws {
        let (cudnn, path) = try Self.loadFake()
        let required = ConvolutionChoice(algorithm: CUDNNValue.algorithmImplicitPrecompGemm, mathType: CUDNNValue.tensorOpMath,
                                         workspaceBytes: 0, milliseconds: nil, source: .required)
        let step = try Self.step(cudnn: cudnn, activation: CUDNNValue.activationIdentity, residual: false, choice: required)
        try step.warmUp(on: nil)
        #expect(try Self.calls(path) == "fused(1);heuristic;conv(0);add(bias);")
    }
}
