import CDNNLShim
import SeededRandom
import Testing
@testable import Inference

/// Sluice's int8 batch-norm kernel (`ChannelScaleShift`) against the definition of int8 quantization
/// (ONNX's QuantizeLinear: round half to even, saturate), in its vector and scalar paths, on two threads.
struct ChannelScaleShiftTests {
    /// A depthwise 1×1 convolution of `channels` channels with weights and biases from a seed.
    static func depthwise(_ channels: Int, relu: Bool) throws -> Conv2D {
        var conv = Conv2D(weight: try OperationsTests.parameter("css.w\(channels)", [channels, 1, 1, 1], scale: 1.5),
                          bias: try OperationsTests.parameter("css.b\(channels)", [channels], scale: 2), groups: channels)
        conv.activation = relu ? .relu : nil
        return conv
    }

    @Test(arguments: [(37, ElementType.s8, ElementType.u8, true), (64, .s8, .s8, false), (19, .u8, .s8, false),
                      (48, .u8, .u8, true)])
    func matchesQuantizationOfTheRealResult(channels: Int, source: ElementType, result: ElementType, relu: Bool) throws {
        let pixels = 101  // odd, so the two threads' shares differ
        let conv = try Self.depthwise(channels, relu: relu)
        let input = ActivationQuantization(type: source, scale: 127 / 3.0)
        // Results reach about ±11: the output's range covers most of them, and saturates the rest.
        let output = ActivationQuantization(type: result, scale: result == .u8 ? 255 / 8.0 : 127 / 8.0)
        let kernel = try #require(ChannelScaleShift(conv, input: input, output: output, pixels: pixels))
        var generator = SplitMix64(seed: UInt64(channels))
        let bytes = (0..<(pixels * channels)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        var out = [UInt8](repeating: 0xAA, count: bytes.count)
        _ = sldnn_set_num_threads(2)
        bytes.withUnsafeBytes { src in out.withUnsafeMutableBytes { kernel.run(source: src.baseAddress!, result: $0.baseAddress!) } }

        let weight = try conv.weight.floats(), bias = try conv.bias!.floats()
        let (lowest, highest): (Float, Float) = result == .u8 ? (0, 255) : (-128, 127)
        var saturated = 0
        for p in 0..<pixels {
            for c in 0..<channels {
                let i = p * channels + c
                let quantizedIn = source == .u8 ? Float(bytes[i]) : Float(Int8(bitPattern: bytes[i]))
                var real = Double(weight[c]) * Double(quantizedIn) / Double(input.scale) + Double(bias[c])
                if relu { real = max(real, 0) }
                let got = result == .u8 ? Float(out[i]) : Float(Int8(bitPattern: out[i]))
                // Exactly what the definition gives from the kernel's own float scale and shift…
                var expected = kernel.shift[c].addingProduct(quantizedIn, kernel.scale[c])
                if relu { expected = max(expected, 0) }
                expected = min(max(expected.rounded(.toNearestOrEven), lowest), highest)
                #expect(got == expected, "pixel \(p) channel \(c): \(got), expected \(expected)")
                // …and within half a step of the real result where it is in range.
                let scaled = real * Double(output.scale)
                if scaled >= Double(lowest), scaled <= Double(highest) {
                    #expect(abs(Double(got) - scaled) <= 0.5 + 1e-3, "pixel \(p) channel \(c): \(got) for \(scaled)")
                } else {
                    saturated += 1
                }
            }
        }
        #expect(saturated < pixels * channels / 2, "mostly saturated: the test checks little")
    }

    /// Halves round to even, as oneDNN's conversions do.
    @Test func halvesRoundToEven() throws {
        var conv = Conv2D(weight: try Tensor(shape: [16, 1, 1, 1], values: [Float](repeating: 0.5, count: 16)), groups: 16)
        conv.bias = try Tensor(shape: [16], values: [Float](repeating: 0, count: 16))
        let unit = ActivationQuantization(type: .s8, scale: 1)
        let kernel = try #require(ChannelScaleShift(conv, input: unit, output: unit, pixels: 1))
        let source: [Int8] = [1, 3, 5, -1, -3, -5, 7, 9, 127, -128, 0, 2, 4, -2, 11, 13]
        var out = [Int8](repeating: 0, count: 16)
        source.withUnsafeBytes { src in out.withUnsafeMutableBytes { kernel.run(source: src.baseAddress!, result: $0.baseAddress!) } }
        #expect(out == [0, 2, 2, 0, -2, -2, 4, 4, 64, -64, 0, 1, 2, -1, 6, 6])
    }

    /// Anything but a depthwise 1×1 convolution with at most a ReLU stays oneDNN's.
    @Test func declinesOtherConvolutions() throws {
        let q = ActivationQuantization(type: .s8, scale: 1)
        var strided = try Self.depthwise(16, relu: false)
        strided.stride = [2, 2]
        var clipped = try Self.depthwise(16, relu: false)
        clipped.activation = .clip(lower: 0, upper: 6)
        let dense = Conv2D(weight: try OperationsTests.parameter("css.dense", [16, 16, 1, 1], scale: 1))
        for conv in [strided, clipped, dense] { #expect(ChannelScaleShift(conv, input: q, output: q, pixels: 4) == nil) }
    }
}
