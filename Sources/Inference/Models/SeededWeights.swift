import SeededRandom
/// Deterministic parameters from a seed, so that benchmarks and the embedded default need no download.
///
/// Bit-for-bit the generator of Tests/Fixtures/make_engine_fixtures.py (its docstring is the spec):
/// SplitMix64 streams keyed by seed and parameter name, mapped exactly to float32 in [-1, 1), scaled by
/// role (He-uniform convolutions, non-trivial batch-norm statistics), and with each odd input channel of a
/// convolution or linear weight the negation of the even one before it.
public struct SeededWeights: WeightSource, Sendable {
    public let seed: UInt64

    public init(seed: UInt64) { self.seed = seed }

    public func tensor(named name: String, shape: [Int], role: ParameterRole) throws -> Tensor {
        let count = shape.reduce(1, *)
        let storage = try TensorStorage(zeroedByteCount: count * 4)
        // Invariant: owned storage is 64-byte aligned and holds `count` floats.
        let values = UnsafeMutableBufferPointer(start: storage.bytes.assumingMemoryBound(to: Float.self), count: count)
        Self.fillUniform(values, seed: seed, name: name)
        switch role {
        case .convolutionWeight:
            let fanIn = shape.dropFirst().reduce(1, *)
            Self.scale(values, by: Float(6.0 / Double(fanIn)).squareRoot())
        case .linearWeight:
            Self.scale(values, by: Float(1.0 / Double(shape[1])).squareRoot())
        case .linearBias(let fanIn):
            Self.scale(values, by: Float(1.0 / Double(fanIn)).squareRoot())
        case .batchNormWeight(let endsBranch):
            for i in values.indices {
                let gamma: Float = 1 + 0.25 * values[i]
                values[i] = endsBranch ? 0.25 * gamma : gamma
            }
        case .batchNormBias, .batchNormMean:
            Self.scale(values, by: 0.1)
        case .batchNormVariance:
            for i in values.indices { values[i] = 1 + 0.5 * values[i] }
        }
        if role == .convolutionWeight || role == .linearWeight, shape.count >= 2, shape[1] % 2 == 0 {
            Self.negateOddInputChannels(values, outputs: shape[0], inputs: shape[1], inner: shape.dropFirst(2).reduce(1, *))
        }
        return try Tensor(shape: shape, dtype: .float32, storage: storage)
    }

    /// A seeded input image [3, 224, 224]-style: 2·blocks + 0.5·noise, blocks constant over 32×32 patches.
    public static func input(seed: UInt64, channels: Int = 3, height: Int = 224, width: Int = 224, patch: Int = 32) throws -> Tensor {
        let (bh, bw) = ((height + patch - 1) / patch, (width + patch - 1) / patch)
        var blocks = [Float](repeating: 0, count: channels * bh * bw)
        blocks.withUnsafeMutableBufferPointer { fillUniform($0, seed: seed, name: "input.blocks") }
        let count = channels * height * width
        let storage = try TensorStorage(zeroedByteCount: count * 4)
        let values = UnsafeMutableBufferPointer(start: storage.bytes.assumingMemoryBound(to: Float.self), count: count)
        fillUniform(values, seed: seed, name: "input")
        for c in 0..<channels {
            for y in 0..<height {
                for x in 0..<width {
                    let i = (c * height + y) * width + x
                    let block: Float = 2 * blocks[(c * bh + y / patch) * bw + x / patch]
                    let noise: Float = 0.5 * values[i]
                    values[i] = block + noise
                }
            }
        }
        return try Tensor(shape: [channels, height, width], dtype: .float32, storage: storage)
    }

    /// u_i = float32((mix64(base + (i+1)·γ) >> 40) − 2^23) · 2^−23 with base = mix64(seed ^ fnv1a64(name)).
    static func fillUniform(_ values: UnsafeMutableBufferPointer<Float>, seed: UInt64, name: String) {
        var generator = SplitMix64(seed: SplitMix64.mix64(seed ^ fnv1a64(name)))
        for i in values.indices {
            let bits = generator.next() >> 40
            values[i] = Float(Int32(truncatingIfNeeded: bits) - (1 << 23)) * 0x1p-23
        }
    }

    static func fnv1a64(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        return hash
    }

    private static func scale(_ values: UnsafeMutableBufferPointer<Float>, by factor: Float) {
        for i in values.indices { values[i] *= factor }
    }

    private static func negateOddInputChannels(_ values: UnsafeMutableBufferPointer<Float>, outputs: Int, inputs: Int, inner: Int) {
        for o in 0..<outputs {
            for pair in stride(from: 0, to: inputs, by: 2) {
                let even = (o * inputs + pair) * inner
                for k in 0..<inner { values[even + inner + k] = -values[even + k] }
            }
        }
    }
}
