import Foundation
import Testing
@testable import Inference

/// The plan's convolutions as cuDNN's descriptors see them (descriptors need no GPU): every step's input,
/// KRSC filter, padding, stride, dilation, groups and math type are accepted, and cuDNN computes the output
/// extent the plan gave the step's output tensor.
@Suite(.serialized)
struct CUDAPlanCUDNNTests {
    static func dataType(_ type: CUDADataType) -> CUDNNDataType {
        switch type {
        case .float16: .half
        case .bfloat16: .bfloat16
        case .uint8: .uint8
        case .float32: .float
        }
    }

    static func mathType(_ mode: CUDAMathMode) -> CUDNNMathType {
        switch mode {
        case .tensorOp: .tensorOp
        case .tf32: .default
        case .fma: .fma
        }
    }

    static func checkConvolutions(_ plan: CUDAPlan, cudnn: CUDNN) throws -> Int {
        var checked = 0
        for step in plan.steps {
            guard case .convolution(let conv) = step.kind else { continue }
            let x = plan.tensor(conv.input), y = plan.tensor(conv.output)
            var tensor: OpaquePointer?, filter: OpaquePointer?, convolution: OpaquePointer?
            try cudnn.check(cudnn.cudnnCreateTensorDescriptor(&tensor), "cudnnCreateTensorDescriptor")
            try cudnn.check(cudnn.cudnnCreateFilterDescriptor(&filter), "cudnnCreateFilterDescriptor")
            try cudnn.check(cudnn.cudnnCreateConvolutionDescriptor(&convolution), "cudnnCreateConvolutionDescriptor")
            defer {
                _ = cudnn.cudnnDestroyTensorDescriptor(tensor)
                _ = cudnn.cudnnDestroyFilterDescriptor(filter)
                _ = cudnn.cudnnDestroyConvolutionDescriptor(convolution)
            }
            let type = dataType(conv.dataType).rawValue, nhwc = CUDNNTensorFormat.nhwc.rawValue
            try cudnn.check(cudnn.cudnnSetTensor4dDescriptor(tensor, nhwc, type, Int32(x.shape.n), Int32(x.shape.c),
                                                             Int32(x.shape.h), Int32(x.shape.w)), "cudnnSetTensor4dDescriptor \(step.layer)")
            try cudnn.check(cudnn.cudnnSetFilter4dDescriptor(filter, type, nhwc, Int32(conv.k), Int32(conv.c), Int32(conv.r),
                                                             Int32(conv.s)), "cudnnSetFilter4dDescriptor \(step.layer)")
            try cudnn.check(cudnn.cudnnSetConvolution2dDescriptor(
                convolution, Int32(conv.padding[0]), Int32(conv.padding[1]), Int32(conv.stride[0]), Int32(conv.stride[1]),
                Int32(conv.dilation[0]), Int32(conv.dilation[1]), CUDNNConvolutionMode.crossCorrelation.rawValue,
                CUDNNDataType.float.rawValue), "cudnnSetConvolution2dDescriptor \(step.layer)")
            try cudnn.check(cudnn.cudnnSetConvolutionGroupCount(convolution, Int32(conv.groups)), "cudnnSetConvolutionGroupCount")
            try cudnn.check(cudnn.cudnnSetConvolutionMathType(convolution, mathType(conv.mathMode).rawValue), "cudnnSetConvolutionMathType")
            var n: Int32 = 0, c: Int32 = 0, h: Int32 = 0, w: Int32 = 0
            try cudnn.check(cudnn.cudnnGetConvolution2dForwardOutputDim(convolution, tensor, filter, &n, &c, &h, &w),
                            "cudnnGetConvolution2dForwardOutputDim \(step.layer)")
            #expect(CUDAShape(n: Int(n), h: Int(h), w: Int(w), c: Int(c)) == y.shape, "\(step.layer)")
            checked += 1
        }
        return checked
    }

    @Test(.enabled(if: CUDATestSupport.hasCUDNN || CUDATestSupport.librariesRequired, "cuDNN (libcudnn.so.9) not found"),
          arguments: [Precision.fp16, .bf16, .tf32])
    func convolutionsFitCUDNN(precision: Precision) throws {
        guard let cudnn = CUDATestSupport.required(CUDATestSupport.cudnn, "cuDNN") else { return }
        let resnet = try ResNet.build(.resnet50, weights: RecordingWeights())
        let plan = try CUDAPlanTests.plan(resnet, batch: 4, precision: precision)
        #expect(try Self.checkConvolutions(plan, cudnn: cudnn) == 53)
        // Depthwise and padded convolutions too.
        let every = try CUDAPlanTests.plan(CUDAPlanGraphs.everyOperation(), batch: 2, precision: precision)
        #expect(try Self.checkConvolutions(every, cudnn: cudnn) == 3)
        var g = Graph(inputShape: [3, 9, 9])
        var padded = Conv2D(weight: try CUDAPlanGraphs.tensor([8, 3, 3, 3], seed: 1), stride: [2, 2], padding: [2, 1])
        padded.paddingEnd = [0, 1]
        let x = g.add(.conv2d(padded), [g.input], name: "padded")
        g.add(.conv2d(Conv2D(weight: try CUDAPlanGraphs.tensor([8, 1, 3, 3], seed: 2), padding: [2, 2], dilation: [2, 2],
                             groups: 8)), [x], name: "depthwise_dilated")
        #expect(try Self.checkConvolutions(try CUDAPlanTests.plan(g, batch: 3, precision: precision), cudnn: cudnn) == 2)
    }
}
