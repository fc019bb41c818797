/// Where preprocessed pixels go: a slot of a batch buffer, in one of the layouts engines take.
public enum PreprocessOutput {
    /// Planar float32 [3, height, width], normalised (what the CPU engine takes).
    case nchwFloat32(UnsafeMutableBufferPointer<Float>)
    /// Interleaved float32 [height, width, 3], normalised.
    case nhwcFloat32(UnsafeMutableBufferPointer<Float>)
    /// Interleaved uint8 [height, width, 3], resized and cropped but not normalised (for accelerators
    /// that normalise on the device: 4× fewer bytes to ship). Padding is 0.
    case nhwcUInt8(UnsafeMutableBufferPointer<UInt8>)

    var count: Int {
        switch self {
        case let .nchwFloat32(b), let .nhwcFloat32(b): b.count
        case let .nhwcUInt8(b): b.count
        }
    }
}

/// Receives output pixels as 8-lane vectors of byte values (0...255), up to 8 pixels of one output row.
protocol PixelSink {
    /// Writes `count` (1...8) pixels of output row `y` starting at column `x`.
    func write(y: Int, x: Int, _ r: SIMD8<Int32>, _ g: SIMD8<Int32>, _ b: SIMD8<Int32>, count: Int)
    /// Writes `count` RGBX pixels as output row `y` from column `x`.
    /// Invariant: `count` rounded up to 8 pixels are readable at `row`.
    func writeRow(y: Int, x: Int, _ row: UnsafePointer<UInt32>, count: Int)
    /// Fills the whole output with the value of a zero pixel (torchvision pads with zeros before
    /// normalising).
    func fillPadding()
}

extension PixelSink {
    @inline(__always)
    func writeRow(y: Int, x: Int, _ row: UnsafePointer<UInt32>, count: Int) {
        var column = 0
        while column < count {
            let (r, g, b) = ResampleKernels.channels(row + column)
            write(y: y, x: x + column, r, g, b, count: min(8, count - column))
            column += 8
        }
    }
}

/// torchvision's `ToTensor` + `Normalize` per value, in float32 and in torch's order of operations
/// ((v / divisor) - mean) / std, so the results are bit-identical to torch's.
///
/// Division is slow; a division by a constant can be done as a multiplication by its reciprocal and one
/// fused-multiply-add correction step, which gives the correctly rounded quotient for almost every
/// dividend. Inputs here are bytes, so `init` checks all 256 per channel and keeps the fast form only when
/// it reproduces the true divisions bit for bit.
struct Normalizer {
    private let divisor: SIMD8<Float>
    private let inverseDivisor: SIMD8<Float>
    private let mean: (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>)
    private let std: (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>)
    private let inverseStd: (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>)
    /// The reciprocal form reproduces the divisions for every byte value of every channel.
    private(set) var usesReciprocals = false

    init(_ spec: PreprocessSpec, allowReciprocals: Bool = true) {
        divisor = SIMD8(repeating: spec.divisor)
        inverseDivisor = SIMD8(repeating: 1 / spec.divisor)
        mean = (SIMD8(repeating: spec.mean[0]), SIMD8(repeating: spec.mean[1]), SIMD8(repeating: spec.mean[2]))
        std = (SIMD8(repeating: spec.std[0]), SIMD8(repeating: spec.std[1]), SIMD8(repeating: spec.std[2]))
        inverseStd = (SIMD8(repeating: 1 / spec.std[0]), SIMD8(repeating: 1 / spec.std[1]), SIMD8(repeating: 1 / spec.std[2]))
        usesReciprocals = allowReciprocals && (0..<32).allSatisfy { chunk in
            let v = SIMD8<Int32>((0..<8).map { Int32(chunk * 8 + $0) })
            return Self.same(fastRed(v), exactRed(v)) && Self.same(fastGreen(v), exactGreen(v)) && Self.same(fastBlue(v), exactBlue(v))
        }
    }

    private static func same(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> Bool {
        (0..<8).allSatisfy { a[$0].bitPattern == b[$0].bitPattern }
    }

    /// Exact conversion of 0...2²³ - 1: the integer becomes the mantissa of 2²³ + v.
    @inline(__always)
    private static func float(_ v: SIMD8<Int32>) -> SIMD8<Float> {
        unsafeBitCast(v | SIMD8(repeating: 0x4B00_0000), to: SIMD8<Float>.self) - SIMD8(repeating: 8_388_608)
    }

    /// a / b from the reciprocal y ≈ 1/b: q = a·y, corrected by the exact remainder a - q·b.
    @inline(__always)
    private static func divide(_ a: SIMD8<Float>, _ b: SIMD8<Float>, _ y: SIMD8<Float>) -> SIMD8<Float> {
        let q = a * y
        return q.addingProduct(a.addingProduct(-q, b), y)
    }

    @inline(__always)
    private func fast(_ v: SIMD8<Int32>, _ m: SIMD8<Float>, _ s: SIMD8<Float>, _ inverse: SIMD8<Float>) -> SIMD8<Float> {
        Self.divide(Self.divide(Self.float(v), divisor, inverseDivisor) - m, s, inverse)
    }

    @inline(__always)
    private func exact(_ v: SIMD8<Int32>, _ m: SIMD8<Float>, _ s: SIMD8<Float>) -> SIMD8<Float> {
        (Self.float(v) / divisor - m) / s
    }

    @inline(__always)
    private func fastRed(_ v: SIMD8<Int32>) -> SIMD8<Float> { fast(v, mean.0, std.0, inverseStd.0) }
    @inline(__always)
    private func fastGreen(_ v: SIMD8<Int32>) -> SIMD8<Float> { fast(v, mean.1, std.1, inverseStd.1) }
    @inline(__always)
    private func fastBlue(_ v: SIMD8<Int32>) -> SIMD8<Float> { fast(v, mean.2, std.2, inverseStd.2) }
    @inline(__always)
    private func exactRed(_ v: SIMD8<Int32>) -> SIMD8<Float> { exact(v, mean.0, std.0) }
    @inline(__always)
    private func exactGreen(_ v: SIMD8<Int32>) -> SIMD8<Float> { exact(v, mean.1, std.1) }
    @inline(__always)
    private func exactBlue(_ v: SIMD8<Int32>) -> SIMD8<Float> { exact(v, mean.2, std.2) }

    /// Normalised values of byte values 0...255 in `v`.
    @inline(__always)
    func red(_ v: SIMD8<Int32>) -> SIMD8<Float> { usesReciprocals ? fastRed(v) : exactRed(v) }
    @inline(__always)
    func green(_ v: SIMD8<Int32>) -> SIMD8<Float> { usesReciprocals ? fastGreen(v) : exactGreen(v) }
    @inline(__always)
    func blue(_ v: SIMD8<Int32>) -> SIMD8<Float> { usesReciprocals ? fastBlue(v) : exactBlue(v) }
}

/// Stores the first `count` lanes of `v` at `p`.
/// Invariant: `count` floats are writable at `p`.
@inline(__always)
private func store(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>, count: Int) {
    if count == 8 {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
    } else {
        withUnsafeBytes(of: v) { lanes in
            if let source = lanes.baseAddress { UnsafeMutableRawPointer(p).copyMemory(from: source, byteCount: count * 4) }
        }
    }
}

struct NCHWFloatSink: PixelSink {
    let base: UnsafeMutablePointer<Float>
    let width: Int
    let plane: Int
    let normalize: Normalizer

    @inline(__always)
    func write(y: Int, x: Int, _ r: SIMD8<Int32>, _ g: SIMD8<Int32>, _ b: SIMD8<Int32>, count: Int) {
        let p = base + y * width + x
        store(normalize.red(r), p, count: count)
        store(normalize.green(g), p + plane, count: count)
        store(normalize.blue(b), p + 2 * plane, count: count)
    }

    func fillPadding() {
        let zero = SIMD8<Int32>()
        (base + 0 * plane).update(repeating: normalize.red(zero)[0], count: plane)
        (base + 1 * plane).update(repeating: normalize.green(zero)[0], count: plane)
        (base + 2 * plane).update(repeating: normalize.blue(zero)[0], count: plane)
    }
}

struct NHWCFloatSink: PixelSink {
    let base: UnsafeMutablePointer<Float>
    let width: Int
    let pixels: Int
    let normalize: Normalizer

    @inline(__always)
    func write(y: Int, x: Int, _ r: SIMD8<Int32>, _ g: SIMD8<Int32>, _ b: SIMD8<Int32>, count: Int) {
        let red = normalize.red(r), green = normalize.green(g), blue = normalize.blue(b)
        let p = base + (y * width + x) * 3
        for i in 0..<count {
            p[3 * i] = red[i]
            p[3 * i + 1] = green[i]
            p[3 * i + 2] = blue[i]
        }
    }

    func fillPadding() {
        let zero = SIMD8<Int32>()
        let values = (normalize.red(zero)[0], normalize.green(zero)[0], normalize.blue(zero)[0])
        for i in 0..<pixels {
            base[3 * i] = values.0
            base[3 * i + 1] = values.1
            base[3 * i + 2] = values.2
        }
    }
}

struct NHWCByteSink: PixelSink {
    let base: UnsafeMutablePointer<UInt8>
    let width: Int
    let pixels: Int

    @inline(__always)
    func write(y: Int, x: Int, _ r: SIMD8<Int32>, _ g: SIMD8<Int32>, _ b: SIMD8<Int32>, count: Int) {
        let p = base + (y * width + x) * 3
        for i in 0..<count {
            p[3 * i] = UInt8(truncatingIfNeeded: r[i])
            p[3 * i + 1] = UInt8(truncatingIfNeeded: g[i])
            p[3 * i + 2] = UInt8(truncatingIfNeeded: b[i])
        }
    }

    func fillPadding() {
        base.update(repeating: 0, count: pixels * 3)
    }
}
