/// The two passes of Pillow's 8-bit resampler, vectorised and bit-exact: sums of pixel × 22-bit weight
/// in 32-bit integers, plus half, shifted right by 22 and clamped to 0...255 (Pillow's `clip8`). The
/// horizontal pass rounds to bytes before the vertical pass, as Pillow's intermediate image does.
///
/// Vectors are 8 lanes of 32 bits (one AVX2 register): wider Swift SIMD types lower to calls for their
/// conversions, 8-lane ones to single instructions.
enum ResampleKernels {
    static let bias = Int32(1) << (FilterWeights.precisionBits - 1)

    /// The horizontal pass's weights laid out for 8-lane vectors: each output reads a window of
    /// `2 * pairs` RGBX pixels starting at `start[j]`; vector g of output j holds the weights of window
    /// pixels 2g and 2g+1, each repeated for the 4 bytes of its pixel.
    struct HorizontalKernel {
        var start: [Int] = []
        var vectors: [SIMD8<Int32>] = []
        var pairs = 0
        /// Pixels a row must have readable for every window (at least the row's width).
        var readableWidth = 0

        mutating func build(_ weights: FilterWeights, rowWidth: Int) {
            pairs = max(1, (weights.taps + 1) / 2)
            let window = pairs * 2
            readableWidth = max(rowWidth, window)
            start.removeAll(keepingCapacity: true)
            vectors.removeAll(keepingCapacity: true)
            let taps = weights.taps
            for j in 0..<weights.first.count {
                let first = weights.first[j], count = weights.count[j]
                // Windows are clamped to the readable row; the weights move with them.
                let windowStart = min(first, readableWidth - window)
                start.append(windowStart)
                for g in 0..<pairs {
                    var vector = SIMD8<Int32>()
                    for lane in 0..<8 {
                        let tap = windowStart + g * 2 + lane / 4 - first
                        if tap >= 0 && tap < count { vector[lane] = weights.weights[j * taps + tap] }
                    }
                    vectors.append(vector)
                }
            }
        }
    }

    /// 8 bytes as 32-bit lanes.
    /// Invariant: 8 bytes are readable at `p`.
    @inline(__always)
    static func widen8(_ p: UnsafeRawPointer) -> SIMD8<Int32> {
        SIMD8<Int32>(truncatingIfNeeded: p.loadUnaligned(as: SIMD8<UInt8>.self))
    }

    /// One row of the horizontal pass: RGBX pixels in, RGBX pixels out (the fourth byte 0).
    /// Invariant: `row` has `kernel.readableWidth * 4` readable bytes; `out` has `outputs` writable pixels;
    /// `start` and `vectors` hold `outputs` and `outputs * pairs` entries.
    @inline(__always)
    static func horizontal(_ row: UnsafePointer<UInt32>, _ start: UnsafePointer<Int>, _ vectors: UnsafePointer<SIMD8<Int32>>,
                           outputs: Int, pairs: Int, _ out: UnsafeMutablePointer<UInt32>) {
        let raw = UnsafeRawPointer(row)
        var weights = vectors
        for j in 0..<outputs {
            var pixels = raw + start[j] &* 4
            var sum = SIMD8<Int32>()
            for _ in 0..<pairs {
                sum &+= widen8(pixels) &* weights.pointee
                pixels += 8
                weights += 1
            }
            let rgbx = ((sum.lowHalf &+ sum.highHalf &+ bias) &>> FilterWeights.precisionBits)
                .clamped(lowerBound: .zero, upperBound: SIMD4(repeating: 255))
            out[j] = UInt32(truncatingIfNeeded: rgbx[0]) | UInt32(truncatingIfNeeded: rgbx[1]) &<< 8
                | UInt32(truncatingIfNeeded: rgbx[2]) &<< 16
        }
    }

    /// The R, G and B bytes of 8 RGBX pixels as 32-bit lanes.
    /// Invariant: 8 pixels are readable at `p`.
    @inline(__always)
    static func channels(_ p: UnsafePointer<UInt32>) -> (SIMD8<Int32>, SIMD8<Int32>, SIMD8<Int32>) {
        let v = SIMD8<Int32>(truncatingIfNeeded: UnsafeRawPointer(p).loadUnaligned(as: SIMD8<UInt32>.self))
        let mask = SIMD8<Int32>(repeating: 0xFF)
        return (v & mask, (v &>> 8) & mask, (v &>> 16) & mask)
    }

    /// 8 output pixels starting at column `x` of one output row of the vertical pass: rows
    /// `first..<first + count` of `rows` (RGBX, `stride` pixels apart) weighted by `weights`.
    /// Invariant: 8 pixels are readable at every `rows + row * stride + x` for those rows.
    @inline(__always)
    static func vertical(_ rows: UnsafePointer<UInt32>, stride: Int, x: Int, first: Int, count: Int,
                         _ weights: UnsafePointer<Int32>) -> (SIMD8<Int32>, SIMD8<Int32>, SIMD8<Int32>) {
        var r = SIMD8<Int32>(repeating: bias), g = r, b = r
        var row = rows + (first &* stride &+ x)
        for t in 0..<count {
            let w = SIMD8<Int32>(repeating: weights[t])
            let (pr, pg, pb) = channels(row)
            r &+= pr &* w
            g &+= pg &* w
            b &+= pb &* w
            row += stride
        }
        let top = SIMD8<Int32>(repeating: 255)
        return ((r &>> FilterWeights.precisionBits).clamped(lowerBound: .zero, upperBound: top),
                (g &>> FilterWeights.precisionBits).clamped(lowerBound: .zero, upperBound: top),
                (b &>> FilterWeights.precisionBits).clamped(lowerBound: .zero, upperBound: top))
    }
}
