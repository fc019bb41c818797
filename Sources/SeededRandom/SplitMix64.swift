/// SplitMix64 (Steele, Lea and Flood 2014): a tiny, fast, well-mixed generator, so seeded weights,
/// synthetic datasets and test inputs are reproducible on any platform. Bit-for-bit the generator of
/// Tests/Fixtures/make_engine_fixtures.py.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public static let gamma: UInt64 = 0x9E37_79B9_7F4A_7C15

    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= Self.gamma
        return Self.mix64(state)
    }

    /// A value in 0..<n (0 when n <= 0).
    public mutating func below(_ n: Int) -> Int { n <= 0 ? 0 : Int(next() % UInt64(n)) }

    /// The generator's output function.
    @inline(__always)
    public static func mix64(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
