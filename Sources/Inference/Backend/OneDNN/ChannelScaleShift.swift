import CDNNLShim

/// An int8 depthwise 1×1 convolution (an inference batch norm, `PlanGraph`), its ReLU fused, as Sluice's own
/// kernel over channels-last pixels: oneDNN's int8 depthwise kernel is made for 3×3 and ran at under half the
/// speed of a copy on DenseNet-121's batch norms after each concatenation (12% of its int8 time). This one
/// is 1.5–1.8× faster on those shapes (one core).
struct ChannelScaleShift: OwnKernel {
    /// quantized out = round(quantized in × scale[c] + shift[c]).
    let scale: [Float]
    let shift: [Float]
    let sourceUnsigned: Bool
    let resultUnsigned: Bool
    let relu: Bool
    let pixels: Int

    static let name = "sluice:int8_channel_scale_shift"
    var implementation: String { Self.name }

    /// The kernel for `conv` between int8 values of scales `input` and `output`, or nil where it is not a
    /// depthwise 1×1 convolution with at most a ReLU (those stay oneDNN's).
    init?(_ conv: Conv2D, input: ActivationQuantization, output: ActivationQuantization, pixels: Int) {
        let channels = conv.weight.shape[0]
        guard conv.groups == channels, conv.weight.shape == [channels, 1, 1, 1], conv.stride == [1, 1],
              conv.dilation == [1, 1], conv.padding.allSatisfy({ $0 == 0 }), conv.trailingPadding.allSatisfy({ $0 == 0 }),
              !conv.addsResidual, conv.activation == nil || conv.activation == .relu,
              let weight = try? conv.weight.floats() else { return nil }
        var bias = [Float](repeating: 0, count: channels)
        if let tensor = conv.bias {
            guard let values = try? tensor.floats(), values.count == channels else { return nil }
            bias = values
        }
        // real out = w·(in / input scale) + b, quantized by the output scale.
        scale = weight.map { Float(Double($0) * Double(output.scale) / Double(input.scale)) }
        shift = bias.map { Float(Double($0) * Double(output.scale)) }
        sourceUnsigned = input.type == .u8
        resultUnsigned = output.type == .u8
        relu = conv.activation == .relu
        self.pixels = pixels
    }

    func run(source: UnsafeRawPointer, result: UnsafeMutableRawPointer) {
        sldnn_channel_scale_shift_int8(source, sourceUnsigned ? 1 : 0, result, resultUnsigned ? 1 : 0, pixels,
                                       scale.count, scale, shift, relu ? 1 : 0)
    }
}
