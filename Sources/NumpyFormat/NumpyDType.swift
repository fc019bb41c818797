/// The element types Sluice reads from and writes to `.npy` files (little-endian, as numpy writes them
/// on every platform Sluice runs on).
public enum NumpyDType: String, Sendable, CaseIterable, CustomStringConvertible {
    case uint8, int32, int64, float16, float32, float64

    /// numpy's `descr` string.
    public var descr: String {
        switch self {
        case .uint8: "|u1"
        case .int32: "<i4"
        case .int64: "<i8"
        case .float16: "<f2"
        case .float32: "<f4"
        case .float64: "<f8"
        }
    }

    public init?(descr: String) {
        guard let match = Self.allCases.first(where: { $0.descr == descr || (descr == "<u1" && $0 == .uint8) }) else { return nil }
        self = match
    }

    public var size: Int {
        switch self {
        case .uint8: 1
        case .float16: 2
        case .int32, .float32: 4
        case .int64, .float64: 8
        }
    }

    public var description: String { rawValue }
}
