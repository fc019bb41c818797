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

/// Receives output pixels as 16-lane vectors of byte values (0...255), up to 16 pixels of one output row.
protocol PixelSink {
    /// Writes `count` (1...16) pixels of output row `y` starting at column `x`.
    func write(y: Int, x: Int, _ r: SIMD16<Int32>, _ g: SIMD16<Int32>, _ b: SIMD16<Int32>, count: Int)
    /// Fills the whole output with the value of a zero pixel (torchvision pads with zeros before
    /// normalising).
    func fillPadding()
}

/// torchvision's `ToTensor` + `Normalize` per value, in float32 and in torch's order of operations
/// ((v / divisor) - mean) / std, so the results are bit-identical to torch's.
struct Normalizer {
    let divisor: SIMD16<Float>
    let mean: (SIMD16<Float>, SIMD16<Float>, SIMD16<Float>)
    let std: (SIMD16<Float>, SIMD16<Float>, SIMD16<Float>)

    init(_ spec: PreprocessSpec) {
        divisor = SIMD16(repeating: spec.divisor)
        mean = (SIMD16(repeating: spec.mean[0]), SIMD16(repeating: spec.mean[1]), SIMD16(repeating: spec.mean[2]))
        std = (SIMD16(repeating: spec.std[0]), SIMD16(repeating: spec.std[1]), SIMD16(repeating: spec.std[2]))
    }

    @inline(__always)
    func red(_ v: SIMD16<Int32>) -> SIMD16<Float> { (SIMD16<Float>(v) / divisor - mean.0) / std.0 }
    @inline(__always)
    func green(_ v: SIMD16<Int32>) -> SIMD16<Float> { (SIMD16<Float>(v) / divisor - mean.1) / std.1 }
    @inline(__always)
    func blue(_ v: SIMD16<Int32>) -> SIMD16<Float> { (SIMD16<Float>(v) / divisor - mean.2) / std.2 }
}

/// Stores the first `count` lanes of `v` at `p`.
/// Invariant: `count` floats are writable at `p`.
@inline(__always)
private func store(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>, count: Int) {
    if count == 16 {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<Float>.self)
    } else {
        for i in 0..<count { p[i] = v[i] }
    }
}

struct NCHWFloatSink: PixelSink {
    let base: UnsafeMutablePointer<Float>
    let width: Int
    let plane: Int
    let normalize: Normalizer

    @inline(__always)
    func write(y: Int, x: Int, _ r: SIMD16<Int32>, _ g: SIMD16<Int32>, _ b: SIMD16<Int32>, count: Int) {
        let p = base + y * width + x
        store(normalize.red(r), p, count: count)
        store(normalize.green(g), p + plane, count: count)
        store(normalize.blue(b), p + 2 * plane, count: count)
    }

    func fillPadding() {
        let zero = SIMD16<Int32>()
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
    func write(y: Int, x: Int, _ r: SIMD16<Int32>, _ g: SIMD16<Int32>, _ b: SIMD16<Int32>, count: Int) {
        let red = normalize.red(r), green = normalize.green(g), blue = normalize.blue(b)
        let p = base + (y * width + x) * 3
        for i in 0..<count {
            p[3 * i] = red[i]
            p[3 * i + 1] = green[i]
            p[3 * i + 2] = blue[i]
        }
    }

    func fillPadding() {
        let zero = SIMD16<Int32>()
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
    func write(y: Int, x: Int, _ r: SIMD16<Int32>, _ g: SIMD16<Int32>, _ b: SIMD16<Int32>, count: Int) {
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
