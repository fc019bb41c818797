#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SeededRandom

/// Deterministic stand-ins for photographs: smooth colour gradients, a few soft blobs, oriented texture
/// and sensor-like noise. Like real photos (and unlike uniform noise) they use every byte value, compress
/// a little and have a 256-entry dictionary, so reading them costs what reading ImageNet costs.
public struct SyntheticImages: Sendable {
    public let height: Int
    public let width: Int
    public let channels = 3
    public let seed: UInt64

    public init(seed: UInt64, height: Int = 256, width: Int = 256) {
        self.seed = seed
        self.height = height
        self.width = width
    }

    public var bytesPerImage: Int { height * width * channels }

    /// Writes image `index` (HWC, uint8) into `out`, which holds `bytesPerImage` bytes. Images are
    /// independent, so callers may render them in parallel.
    public func render(index: Int, into out: UnsafeMutableBufferPointer<UInt8>) {
        precondition(out.count >= bytesPerImage, "buffer too small for one image")
        var rng = SplitMix64(seed: seed ^ (UInt64(index) &* 0xD1B5_4A32_D192_ED03))
        func uniform(_ low: Float, _ high: Float) -> Float {
            low + (high - low) * Float(rng.next() >> 40) / Float(1 << 24)
        }
        let base = (0..<3).map { _ in uniform(40, 215) }
        let gradientX = (0..<3).map { _ in uniform(-0.5, 0.5) }
        let gradientY = (0..<3).map { _ in uniform(-0.5, 0.5) }
        let amplitude = uniform(10, 40)
        let frequencyX = uniform(0.02, 0.2), frequencyY = uniform(0.02, 0.2)
        let blobs = (0..<3).map { _ in
            (x: uniform(0, Float(width)), y: uniform(0, Float(height)), radius: uniform(20, 90),
             tint: (0..<3).map { _ in uniform(-90, 90) })
        }
        // sin(a + b) = sin a cos b + cos a sin b: the texture is separable into per-row and per-column tables.
        let sinX = (0..<width).map { sinf(frequencyX * Float($0)) }, cosX = (0..<width).map { cosf(frequencyX * Float($0)) }
        let sinY = (0..<height).map { sinf(frequencyY * Float($0)) }, cosY = (0..<height).map { cosf(frequencyY * Float($0)) }
        var noise: UInt64 = 0
        var noiseBits = 0
        for y in 0..<height {
            for x in 0..<width {
                let texture = amplitude * (sinY[y] * cosX[x] + cosY[y] * sinX[x])
                var blobWeights: (Float, Float, Float) = (0, 0, 0)
                for (k, blob) in blobs.enumerated() {
                    let dx = Float(x) - blob.x, dy = Float(y) - blob.y
                    let weight = max(0, 1 - (dx * dx + dy * dy) / (blob.radius * blob.radius))
                    switch k {
                    case 0: blobWeights.0 = weight
                    case 1: blobWeights.1 = weight
                    default: blobWeights.2 = weight
                    }
                }
                for c in 0..<3 {
                    if noiseBits < 8 {
                        noise = rng.next()
                        noiseBits = 64
                    }
                    let jitter = Float(Int(noise & 0xFF) - 128) / 16  // about ±8 levels
                    noise >>= 8
                    noiseBits -= 8
                    let blob = blobWeights.0 * blobs[0].tint[c] + blobWeights.1 * blobs[1].tint[c] + blobWeights.2 * blobs[2].tint[c]
                    let value = base[c] + gradientX[c] * Float(x) + gradientY[c] * Float(y) + texture + blob + jitter
                    out[(y * width + x) * 3 + c] = UInt8(max(0, min(255, value.rounded())))
                }
            }
        }
    }
}
