/// Element types of tensors the engine reads, stores or computes with.
public enum DType: String, Sendable, CaseIterable {
    case float32, float16, bfloat16, float64, int64, int32, int16, int8, uint8, bool

    public var byteSize: Int {
        switch self {
        case .float64, .int64: 8
        case .float32, .int32: 4
        case .float16, .bfloat16, .int16: 2
        case .int8, .uint8, .bool: 1
        }
    }

    /// The dtype's name in a safetensors header.
    public var safetensorsName: String {
        switch self {
        case .float32: "F32"
        case .float16: "F16"
        case .bfloat16: "BF16"
        case .float64: "F64"
        case .int64: "I64"
        case .int32: "I32"
        case .int16: "I16"
        case .int8: "I8"
        case .uint8: "U8"
        case .bool: "BOOL"
        }
    }

    public init?(safetensorsName: String) {
        guard let match = DType.allCases.first(where: { $0.safetensorsName == safetensorsName }) else { return nil }
        self = match
    }
}

/// Exact conversions of the 16-bit float formats to Float.
enum HalfFloats {
    /// bfloat16 is the top half of a float32.
    @inline(__always)
    static func bfloat16ToFloat(_ bits: UInt16) -> Float {
        Float(bitPattern: UInt32(bits) << 16)
    }

    @inline(__always)
    static func float16ToFloat(_ bits: UInt16) -> Float {
        Float(Float16(bitPattern: bits))
    }
}
