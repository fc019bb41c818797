/// The normaliser's arithmetic on the CPU: what `sluice_normalize_u8_*` writes, for tests against the GPU.
public enum CUDAInputNormalizerReference {
    /// Per-channel (scale, shift) with x · scale + shift = (x / divisor − mean) / std.
    public static func coefficients(_ normalization: InputNormalization, channels: Int) throws -> (scale: [Float], shift: [Float]) {
        guard normalization.mean.count == channels, normalization.std.count == channels else {
            throw CUDAPlanError(.invalidNormalization(
                why: "\(normalization.mean.count) means and \(normalization.std.count) standard deviations for \(channels) channels"))
        }
        guard normalization.divisor.isFinite, normalization.divisor != 0,
              normalization.std.allSatisfy({ $0.isFinite && $0 != 0 }), normalization.mean.allSatisfy(\.isFinite) else {
            throw CUDAPlanError(.invalidNormalization(
                why: "divisor \(normalization.divisor), std \(normalization.std), mean \(normalization.mean): each must be finite and the divisor and std non-zero"))
        }
        let scale = (0..<channels).map { Float(1 / (Double(normalization.divisor) * Double(normalization.std[$0]))) }
        let shift = (0..<channels).map { Float(-Double(normalization.mean[$0]) / Double(normalization.std[$0])) }
        return (scale, shift)
    }

    /// `pixels` uint8 NHWC of `inputChannels` → NHWC of `outputChannels` (zeros past the input's), each value
    /// rounded to `type` as the kernel stores it (round to nearest even) and returned as Float.
    public static func normalize(_ pixels: [UInt8], inputChannels: Int, outputChannels: Int,
                                 normalization: InputNormalization, type: CUDADataType) throws -> [Float] {
        let (scale, shift) = try coefficients(normalization, channels: inputChannels)
        let count = pixels.count / inputChannels
        var result = [Float](repeating: 0, count: count * outputChannels)
        for p in 0..<count {
            for c in 0..<inputChannels {
                let value = Float(pixels[p * inputChannels + c]) * scale[c] + shift[c]
                result[p * outputChannels + c] = round(value, to: type)
            }
        }
        return result
    }

    /// `value` rounded to the nearest `type` value (ties to even), as Float.
    public static func round(_ value: Float, to type: CUDADataType) -> Float {
        switch type {
        case .float16: Float(Float16(value))
        case .bfloat16: HalfFloats.bfloat16ToFloat(CUDAWeightPacking.bfloat16Bits(value))
        case .float32, .uint8: value
        }
    }
}
