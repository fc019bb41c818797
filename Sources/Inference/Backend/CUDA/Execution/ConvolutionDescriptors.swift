extension DeviceElement {
    init(_ type: CUDADataType, _ what: String) throws {
        switch type {
        case .float32: self = .float32
        case .float16: self = .float16
        case .bfloat16: self = .bfloat16
        case .uint8: throw InferenceError(.invalidGraph, "CUDA plan: \(what) is uint8, which cuDNN and cuBLASLt steps do not take")
        }
    }
}

extension NHWCShape {
    init(_ tensor: CUDATensor) throws {
        guard tensor.layout == .nhwc else {
            throw InferenceError(.invalidGraph, "CUDA plan: tensor \(tensor.id) (\(tensor.name)) is \(tensor.layout); a cuDNN step needs NHWC")
        }
        self.init(n: tensor.shape.n, h: tensor.shape.h, w: tensor.shape.w, c: tensor.shape.c)
    }
}

extension CUDNNValue {
    static func mathType(_ mode: CUDAMathMode) -> Int32 {
        switch mode {
        case .tensorOp: tensorOpMath
        case .tf32: defaultMath
        case .fma: fmaMath
        }
    }
}

/// The cuDNN descriptors of one planned convolution (no device needed to make them): x, y and z NHWC, the
/// filter KRSC, the bias [1, K, 1, 1], the convolution with its groups and math type, the activation. Checks
/// that cuDNN computes the plan's output size.
struct ConvolutionDescriptors {
    let x: TensorDescriptor, y: TensorDescriptor, w: FilterDescriptor, convolution: ConvolutionDescriptor
    let bias: TensorDescriptor
    let residual: TensorDescriptor?
    let activation: ActivationDescriptor
    /// A clipped ReLU: the fused call applies ReLU (cuDNN's legacy fused call takes ReLU and identity), then
    /// cudnnActivationForward clips in place; ReLU then the clip equals the clip.
    let clip: ActivationDescriptor?
    let xShape: NHWCShape, yShape: NHWCShape
    let detail: String

    init(cudnn: CUDNN, step: CUDAConvolutionStep, input: CUDATensor, output: CUDATensor, residual residualTensor: CUDATensor?,
         layer: String) throws {
        let type = try DeviceElement(step.dataType, "convolution \(layer)")
        guard input.dtype == step.dataType, output.dtype == step.dataType, residualTensor.map({ $0.dtype == step.dataType }) ?? true else {
            throw InferenceError(.invalidGraph, "CUDA plan: convolution \(layer) in \(step.dataType.rawValue) reads \(input.dtype.rawValue) and writes \(output.dtype.rawValue)")
        }
        xShape = try NHWCShape(input)
        yShape = try NHWCShape(output)
        guard step.padding.count == 2, step.stride.count == 2, step.dilation.count == 2, step.groups >= 1,
              xShape.c == step.c * step.groups, yShape.c == step.k else {
            throw InferenceError(.invalidGraph, "CUDA plan: convolution \(layer): \(xShape) → \(yShape) with filter k\(step.k) c\(step.c) g\(step.groups), padding \(step.padding), stride \(step.stride), dilation \(step.dilation)")
        }
        x = try TensorDescriptor(cudnn: cudnn, shape: xShape, element: type, step: layer)
        y = try TensorDescriptor(cudnn: cudnn, shape: yShape, element: type, step: layer)
        w = try FilterDescriptor(cudnn: cudnn, k: step.k, c: step.c, r: step.r, s: step.s, element: type, step: layer)
        convolution = try ConvolutionDescriptor(cudnn: cudnn, padding: step.padding, stride: step.stride, dilation: step.dilation,
                                                groups: step.groups, mathType: CUDNNValue.mathType(step.mathMode), step: layer)
        // The bias in the data type: every floating-point configuration of cuDNN's fused call takes it so.
        bias = try TensorDescriptor(cudnn: cudnn, shape: NHWCShape(n: 1, h: 1, w: 1, c: step.k), element: type, step: "\(layer) bias")
        if let residualTensor {
            let shape = try NHWCShape(residualTensor)
            guard shape == yShape, residualTensor.id != output.id else {
                throw InferenceError(.invalidGraph, "CUDA plan: convolution \(layer) adds residual \(residualTensor.id) of \(shape) to its \(yShape) result \(output.id)")
            }
            residual = try TensorDescriptor(cudnn: cudnn, shape: shape, element: type, step: "\(layer) residual")
        } else {
            residual = nil
        }
        switch step.activation {
        case .identity:
            activation = try ActivationDescriptor(cudnn: cudnn, mode: CUDNNValue.activationIdentity, step: layer)
            clip = nil
        case .relu:
            activation = try ActivationDescriptor(cudnn: cudnn, mode: CUDNNValue.activationRelu, step: layer)
            clip = nil
        case .clippedRelu(let ceiling):
            activation = try ActivationDescriptor(cudnn: cudnn, mode: CUDNNValue.activationRelu, step: layer)
            clip = try ActivationDescriptor(cudnn: cudnn, mode: CUDNNValue.activationClippedRelu, ceiling: Double(ceiling), step: "\(layer) clip")
        }
        var n: Int32 = 0, c: Int32 = 0, h: Int32 = 0, wd: Int32 = 0
        try cudnn.check(cudnn.cudnnGetConvolution2dForwardOutputDim(convolution.handle, x.handle, w.handle, &n, &c, &h, &wd),
                        "cudnnGetConvolution2dForwardOutputDim (\(layer))")
        guard Int(n) == yShape.n, Int(c) == yShape.c, Int(h) == yShape.h, Int(wd) == yShape.w else {
            throw InferenceError(.invalidGraph, "CUDA plan: convolution \(layer) gives \(n)x\(h)x\(wd)x\(c) in cuDNN; the plan says \(yShape)")
        }
        var detail = "\(xShape)→\(yShape) k\(step.r)x\(step.s) s\(step.stride[0])"
        if step.groups > 1 { detail += " g\(step.groups)" }
        if residualTensor != nil { detail += " +z" }
        self.detail = detail + " +\(step.activation) \(step.dataType.rawValue)"
    }
}
