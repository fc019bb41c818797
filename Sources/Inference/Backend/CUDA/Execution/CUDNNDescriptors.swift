/// The element types the CUDA backend keeps tensors in on the device (cuDNN's and cuBLASLt's view of
/// `CUDADataType`'s floating-point cases).
enum DeviceElement: String, Sendable, Equatable {
    case float32, float16, bfloat16
}

/// cuDNN enum values this executor passes (cudnn_graph.h, cudnn_ops.h, cudnn_cnn.h).
enum CUDNNValue {
    static let dataFloat: Int32 = 0
    static let dataHalf: Int32 = 2
    static let dataBFloat16: Int32 = 9
    static let formatNCHW: Int32 = 0
    static let formatNHWC: Int32 = 1
    static let crossCorrelation: Int32 = 1
    static let defaultMath: Int32 = 0
    static let tensorOpMath: Int32 = 1
    static let fmaMath: Int32 = 3
    static let notPropagateNaN: Int32 = 0
    static let activationRelu: Int32 = 1
    static let activationClippedRelu: Int32 = 3
    static let activationIdentity: Int32 = 5
    static let poolingMax: Int32 = 0
    static let poolingAverageIncludingPadding: Int32 = 1
    static let poolingAverageExcludingPadding: Int32 = 2
    static let algorithmImplicitPrecompGemm: Int32 = 1
    static let statusSuccess: Int32 = 0

    static func dataType(_ element: DeviceElement) -> Int32 {
        switch element {
        case .float32: dataFloat
        case .float16: dataHalf
        case .bfloat16: dataBFloat16
        }
    }
}

/// An NHWC activation tensor's shape as cuDNN's 4-d descriptors take it.
struct NHWCShape: Sendable, Equatable, CustomStringConvertible {
    var n: Int, h: Int, w: Int, c: Int
    /// Channels between consecutive pixels: more than `c` for a slice of a wider tensor (a concat's input).
    var pixelStride: Int

    init(n: Int, h: Int, w: Int, c: Int, pixelStride: Int? = nil) {
        (self.n, self.h, self.w, self.c) = (n, h, w, c)
        self.pixelStride = pixelStride ?? c
    }

    var elementCount: Int { n * h * w * c }
    var description: String { "\(n)x\(h)x\(w)x\(c)" + (pixelStride == c ? "" : "/\(pixelStride)") }
}

/// Owners of cuDNN descriptors; each destroys its descriptor.
final class TensorDescriptor {
    let cudnn: CUDNN
    let handle: OpaquePointer

    init(cudnn: CUDNN, shape: NHWCShape, element: DeviceElement, step: String) throws {
        self.cudnn = cudnn
        var handle: OpaquePointer?
        try cudnn.check(cudnn.cudnnCreateTensorDescriptor(&handle), "cudnnCreateTensorDescriptor (\(step))")
        guard let handle else { throw CUDAError.call(api: "cuDNN", function: "cudnnCreateTensorDescriptor", code: -1, message: "no descriptor (\(step))") }
        self.handle = handle
        let dims = try [shape.n, shape.c, shape.h, shape.w, shape.pixelStride].map { try cudnnInt($0, step) }
        if shape.pixelStride == shape.c {
            try cudnn.check(cudnn.cudnnSetTensor4dDescriptor(handle, CUDNNValue.formatNHWC, CUDNNValue.dataType(element),
                                                             dims[0], dims[1], dims[2], dims[3]),
                            "cudnnSetTensor4dDescriptor (\(step), NHWC \(shape))")
        } else {
            // A channel slice of a wider NHWC tensor: explicit strides (n, c, h, w).
            let hStride = try cudnnInt(shape.w * shape.pixelStride, step)
            let nStride = try cudnnInt(shape.h * shape.w * shape.pixelStride, step)
            try cudnn.check(cudnn.cudnnSetTensor4dDescriptorEx(handle, CUDNNValue.dataType(element), dims[0], dims[1], dims[2], dims[3],
                                                               nStride, 1, hStride, dims[4]),
                            "cudnnSetTensor4dDescriptorEx (\(step), NHWC \(shape))")
        }
    }

    deinit { _ = cudnn.cudnnDestroyTensorDescriptor(handle) }
}

final class FilterDescriptor {
    let cudnn: CUDNN
    let handle: OpaquePointer

    /// KRSC filters ([k, r, s, c], cuDNN's NHWC filter format); `c` is the channels per group.
    init(cudnn: CUDNN, k: Int, c: Int, r: Int, s: Int, element: DeviceElement, step: String) throws {
        self.cudnn = cudnn
        var handle: OpaquePointer?
        try cudnn.check(cudnn.cudnnCreateFilterDescriptor(&handle), "cudnnCreateFilterDescriptor (\(step))")
        guard let handle else { throw CUDAError.call(api: "cuDNN", function: "cudnnCreateFilterDescriptor", code: -1, message: "no descriptor (\(step))") }
        self.handle = handle
        try cudnn.check(cudnn.cudnnSetFilter4dDescriptor(handle, CUDNNValue.dataType(element), CUDNNValue.formatNHWC,
                                                         cudnnInt(k, step), cudnnInt(c, step), cudnnInt(r, step), cudnnInt(s, step)),
                        "cudnnSetFilter4dDescriptor (\(step), KRSC \(k)x\(r)x\(s)x\(c))")
    }

    deinit { _ = cudnn.cudnnDestroyFilterDescriptor(handle) }
}

final class ConvolutionDescriptor {
    let cudnn: CUDNN
    let handle: OpaquePointer

    /// Cross-correlation (PyTorch's convolution), accumulating in float32 for every storage type.
    init(cudnn: CUDNN, padding: [Int], stride: [Int], dilation: [Int], groups: Int, mathType: Int32, step: String) throws {
        self.cudnn = cudnn
        var handle: OpaquePointer?
        try cudnn.check(cudnn.cudnnCreateConvolutionDescriptor(&handle), "cudnnCreateConvolutionDescriptor (\(step))")
        guard let handle else { throw CUDAError.call(api: "cuDNN", function: "cudnnCreateConvolutionDescriptor", code: -1, message: "no descriptor (\(step))") }
        self.handle = handle
        try cudnn.check(cudnn.cudnnSetConvolution2dDescriptor(handle, cudnnInt(padding[0], step), cudnnInt(padding[1], step),
                                                              cudnnInt(stride[0], step), cudnnInt(stride[1], step),
                                                              cudnnInt(dilation[0], step), cudnnInt(dilation[1], step),
                                                              CUDNNValue.crossCorrelation, CUDNNValue.dataFloat),
                        "cudnnSetConvolution2dDescriptor (\(step))")
        if groups > 1 {
            try cudnn.check(cudnn.cudnnSetConvolutionGroupCount(handle, cudnnInt(groups, step)), "cudnnSetConvolutionGroupCount (\(step))")
        }
        try setMathType(mathType, step: step)
    }

    func setMathType(_ mathType: Int32, step: String) throws {
        try cudnn.check(cudnn.cudnnSetConvolutionMathType(handle, mathType), "cudnnSetConvolutionMathType (\(step))")
    }

    deinit { _ = cudnn.cudnnDestroyConvolutionDescriptor(handle) }
}

final class ActivationDescriptor {
    let cudnn: CUDNN
    let handle: OpaquePointer
    /// cudnnActivationMode_t.
    let mode: Int32

    /// `ceiling`: clipped ReLU's upper bound.
    init(cudnn: CUDNN, mode: Int32, ceiling: Double = 0, step: String) throws {
        self.cudnn = cudnn
        self.mode = mode
        var handle: OpaquePointer?
        try cudnn.check(cudnn.cudnnCreateActivationDescriptor(&handle), "cudnnCreateActivationDescriptor (\(step))")
        guard let handle else { throw CUDAError.call(api: "cuDNN", function: "cudnnCreateActivationDescriptor", code: -1, message: "no descriptor (\(step))") }
        self.handle = handle
        try cudnn.check(cudnn.cudnnSetActivationDescriptor(handle, mode, CUDNNValue.notPropagateNaN, ceiling),
                        "cudnnSetActivationDescriptor (\(step))")
    }

    deinit { _ = cudnn.cudnnDestroyActivationDescriptor(handle) }
}

final class PoolingDescriptor {
    let cudnn: CUDNN
    let handle: OpaquePointer

    init(cudnn: CUDNN, mode: Int32, window: [Int], padding: [Int], stride: [Int], step: String) throws {
        self.cudnn = cudnn
        var handle: OpaquePointer?
        try cudnn.check(cudnn.cudnnCreatePoolingDescriptor(&handle), "cudnnCreatePoolingDescriptor (\(step))")
        guard let handle else { throw CUDAError.call(api: "cuDNN", function: "cudnnCreatePoolingDescriptor", code: -1, message: "no descriptor (\(step))") }
        self.handle = handle
        try cudnn.check(cudnn.cudnnSetPooling2dDescriptor(handle, mode, CUDNNValue.notPropagateNaN,
                                                          cudnnInt(window[0], step), cudnnInt(window[1], step),
                                                          cudnnInt(padding[0], step), cudnnInt(padding[1], step),
                                                          cudnnInt(stride[0], step), cudnnInt(stride[1], step)),
                        "cudnnSetPooling2dDescriptor (\(step))")
    }

    deinit { _ = cudnn.cudnnDestroyPoolingDescriptor(handle) }
}

/// A dimension or stride as the `int` cuDNN's legacy descriptors take.
func cudnnInt(_ value: Int, _ step: String) throws -> Int32 {
    guard let narrow = Int32(exactly: value), narrow >= 0 else {
        throw InferenceError(.unsupported, "\(step): dimension \(value) does not fit cuDNN's 32-bit descriptors")
    }
    return narrow
}
