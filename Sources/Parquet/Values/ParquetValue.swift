/// One value of a row, with its logical type applied: what `sluice head` prints and what tests compare.
/// Numbers keep the file's representation (dates in days, timestamps in the file's unit).
public indirect enum ParquetValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    case uint(UInt64)
    case float(Float)
    case double(Double)
    /// IEEE half-precision bits (FLOAT16 logical type).
    case float16(UInt16)
    case string(String)
    case bytes([UInt8])
    /// A decimal in plain notation with exactly `scale` fraction digits ("-0.50").
    case decimal(String)
    case date(days: Int32)
    case time(Int64, TimeUnit)
    case timestamp(Int64, TimeUnit, isAdjustedToUTC: Bool)
    /// Legacy INT96 timestamp as stored: nanoseconds within the day and Julian day number.
    case int96(nanosOfDay: Int64, julianDay: Int32)
    case list([ParquetValue])
    case record([Field])
    case map([MapEntry])

    public struct Field: Sendable, Equatable {
        public var name: String
        public var value: ParquetValue
    }

    public struct MapEntry: Sendable, Equatable {
        public var key: ParquetValue
        public var value: ParquetValue
    }
}

extension ParquetValue {
    /// Half-precision bits widened exactly to Float.
    public static func widen(float16 bits: UInt16) -> Float {
        let sign = UInt32(bits >> 15) << 31
        let exponent = Int((bits >> 10) & 0x1F)
        let mantissa = UInt32(bits & 0x3FF)
        switch exponent {
        case 0:
            let magnitude = Float(mantissa) * Float(sign: .plus, exponent: -24, significand: 1)
            return sign != 0 ? -magnitude : magnitude
        case 0x1F:
            return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
        default:
            return Float(bitPattern: sign | UInt32(exponent - 15 + 127) << 23 | (mantissa << 13))
        }
    }

    /// Nanoseconds since the Unix epoch of an INT96 timestamp, when it fits in Int64.
    public static func int96Nanoseconds(nanosOfDay: Int64, julianDay: Int32) -> Int64? {
        let (days, o1) = (Int64(julianDay) - 2_440_588).multipliedReportingOverflow(by: 86_400_000_000_000)
        let (total, o2) = days.addingReportingOverflow(nanosOfDay)
        return o1 || o2 ? nil : total
    }
}
