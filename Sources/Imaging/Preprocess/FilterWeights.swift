/// Pillow's antialiased bilinear resampling weights for one axis, bit for bit (`precompute_coeffs` and
/// `normalize_coeffs_8bpc` in Pillow's Resample.c): the triangle filter stretched by the downscale
/// factor, normalised per output pixel, then rounded to 22-bit fixed point.
///
/// Only the output pixels in `outputs` are computed (the ones a center crop keeps).
struct FilterWeights {
    /// Pillow's fixed-point precision for 8-bit images.
    static let precisionBits: Int32 = 22

    /// First input pixel of output `outputs.lowerBound + j`.
    private(set) var first: [Int] = []
    /// Number of input pixels (taps) of each output.
    private(set) var count: [Int] = []
    /// `taps` fixed-point weights per output (zero past `count`).
    private(set) var weights: [Int32] = []
    /// The largest `count`.
    private(set) var taps = 0
    /// Scratch for one output's floating-point weights.
    private var scratch: [Double] = []

    init() {}

    /// Recomputes the weights for resampling the input span [in0, in1) of an axis of `inputSize` pixels
    /// onto `outputSize` pixels, for the outputs in `outputs`. Reuses the arrays' storage.
    mutating func compute(inputSize: Int, in0: Double, in1: Double, outputSize: Int, outputs: Range<Int>) {
        let scale = (in1 - in0) / Double(outputSize)
        let filterScale = max(scale, 1)
        let support = 1.0 * filterScale  // the bilinear filter's support is 1
        let ksize = Int(support.rounded(.up)) * 2 + 1
        first.removeAll(keepingCapacity: true)
        count.removeAll(keepingCapacity: true)
        weights.removeAll(keepingCapacity: true)
        weights.reserveCapacity(outputs.count * ksize)
        taps = 0
        let ss = 1.0 / filterScale
        if scratch.count < ksize { scratch = [Double](repeating: 0, count: ksize) }
        for xx in outputs {
            let center = in0 + (Double(xx) + 0.5) * scale
            var xmin = Int(center - support + 0.5)  // C's (int) truncates toward zero
            if xmin < 0 { xmin = 0 }
            var xmax = Int(center + support + 0.5)
            if xmax > inputSize { xmax = inputSize }
            xmax -= xmin
            xmax = min(max(xmax, 0), ksize)
            var ww = 0.0
            for x in 0..<xmax {
                let w = Self.bilinear((Double(x + xmin) - center + 0.5) * ss)
                scratch[x] = w
                ww += w
            }
            for x in 0..<ksize {
                let w = x < xmax ? (ww != 0 ? scratch[x] / ww : scratch[x]) : 0
                let fixed = w * Double(1 << Self.precisionBits)
                weights.append(Int32(w < 0 ? -0.5 + fixed : 0.5 + fixed))
            }
            first.append(xmin)
            count.append(xmax)
            taps = max(taps, xmax)
        }
        // Keep `taps` weights per output rather than Pillow's ksize.
        if taps < ksize {
            var packed = 0
            for j in 0..<first.count {
                for t in 0..<taps { weights[packed + t] = weights[j * ksize + t] }
                packed += taps
            }
            weights.removeLast(weights.count - packed)
        }
    }

    @inline(__always)
    static func bilinear(_ x: Double) -> Double {
        let x = abs(x)
        return x < 1 ? 1 - x : 0
    }
}
