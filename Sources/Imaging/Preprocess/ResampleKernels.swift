/// The two passes of Pillow's 8-bit resampler, vectorised and bit-exact: sums of pixel × 22-bit weight
/// in 32-bit integers, plus half, shifted right by 22 and clamped to 0...255 (Pillow's `clip8`). The
/// horizontal pass rounds to bytes before the vertical pass, as Pillow's intermediate image does.
enum ResampleKernels {
    static let bias = Int32(1) << (FilterWeights.precisionBits - 1)

    /// The horizontal pass's weights laid out for 16-lane vectors: each output reads a window of
    /// `4 * groups` RGBX pixels starting at `start[j]`; vector g of output j holds the weights of window
    /// pixels 4g..<4g+4, each repeated for the 4 bytes of its pixel.
    struct HorizontalKernel {
        var start: [Int] = []
        var vectors: [SIMD16<Int32>] = []
        var groups = 0
        /// Pixels a row must have readable for every window (at least the row's width).
        var readableWidth = 0

        mutating func build(_ weights: FilterWeights, rowWidth: Int) {
            groups = max(1, (weights.taps + 3) / 4)
            let window = groups * 4
            readableWidth = max(rowWidth, window)
            start.removeAll(keepingCapacity: true)
            vectors.removeAll(keepingCapacity: true)
            let taps = weights.taps
            for j in 0..<weights.first.count {
                let first = weights.first[j], count = weights.count[j]
                // Windows are clamped to the readable row; the weights move with them.
                let windowStart = min(first, readableWidth - window)
                start.append(windowStart)
                for g in 0..<groups {
                    var vector = SIMD16<Int32>()
                    for lane in 0..<16 {
                        let tap = windowStart + g * 4 + lane / 4 - first
                        if tap >= 0 && tap < count { vector[lane] = weights.weights[j * taps + tap] }
                    }
                    vectors.append(vector)
                }
            }
        }
    }

    /// One row of the horizontal pass: RGBX pixels in, one byte per output and channel out (planar).
    /// Invariant: `row` has `kernel.readableWidth * 4` readable bytes; r, g, b have `kernel.start.count` bytes.
    @inline(__always)
    static func horizontal(_ row: UnsafePointer<UInt8>, _ start: UnsafePointer<Int>, _ vectors: UnsafePointer<SIMD16<Int32>>,
                           outputs: Int, groups: Int,
                           _ r: UnsafeMutablePointer<UInt8>, _ g: UnsafeMutablePointer<UInt8>, _ b: UnsafeMutablePointer<UInt8>) {
        let raw = UnsafeRawPointer(row)
        var weights = vectors
        for j in 0..<outputs {
            var pixels = raw + start[j] * 4
            var sum = SIMD16<Int32>()
            for _ in 0..<groups {
                sum &+= SIMD16<Int32>(truncatingIfNeeded: pixels.loadUnaligned(as: SIMD16<UInt8>.self)) &* weights.pointee
                pixels += 16
                weights += 1
            }
            let half = sum.lowHalf &+ sum.highHalf
            let quarter = (half.lowHalf &+ half.highHalf &+ bias) &>> FilterWeights.precisionBits
            let value = quarter.clamped(lowerBound: .zero, upperBound: SIMD4(repeating: 255))
            r[j] = UInt8(truncatingIfNeeded: value[0])
            g[j] = UInt8(truncatingIfNeeded: value[1])
            b[j] = UInt8(truncatingIfNeeded: value[2])
        }
    }

    /// One output row of the vertical pass over 16 columns starting at `x` of one plane: rows
    /// `first..<first + count` of `plane` (`stride` bytes apart) weighted by `weights`.
    /// Invariant: 16 bytes are readable at every `plane + row * stride + x` for those rows.
    @inline(__always)
    static func vertical(_ plane: UnsafePointer<UInt8>, stride: Int, x: Int, first: Int, count: Int,
                         _ weights: UnsafePointer<Int32>) -> SIMD16<Int32> {
        var sum = SIMD16<Int32>(repeating: bias)
        var row = UnsafeRawPointer(plane + first * stride + x)
        for t in 0..<count {
            sum &+= SIMD16<Int32>(truncatingIfNeeded: row.loadUnaligned(as: SIMD16<UInt8>.self)) &* SIMD16(repeating: weights[t])
            row += stride
        }
        return (sum &>> FilterWeights.precisionBits).clamped(lowerBound: .zero, upperBound: SIMD16(repeating: 255))
    }

    /// 16 bytes of a plane as lanes.
    /// Invariant: 16 bytes are readable at `p`.
    @inline(__always)
    static func load16(_ p: UnsafePointer<UInt8>) -> SIMD16<Int32> {
        SIMD16<Int32>(truncatingIfNeeded: UnsafeRawPointer(p).loadUnaligned(as: SIMD16<UInt8>.self))
    }
}
