/// Renders values as compact JSON for `sluice head`: dates and timestamps as ISO-8601 strings, binary as
/// its length and CRC-32, non-finite floats as strings.
public enum JSONRendering {
    public static func render(_ value: ParquetValue) -> String {
        var out = ""
        write(value, into: &out)
        return out
    }

    public static func render(row: [ParquetValue.Field]) -> String {
        var out = "{"
        for (i, field) in row.enumerated() {
            if i > 0 { out += "," }
            out += quoted(field.name) + ":"
            write(field.value, into: &out)
        }
        return out + "}"
    }

    static func write(_ value: ParquetValue, into out: inout String) {
        switch value {
        case .null: out += "null"
        case let .bool(b): out += b ? "true" : "false"
        case let .int(i): out += String(i)
        case let .uint(u): out += String(u)
        case let .float(f): out += number(Double(f), f.description)
        case let .double(d): out += number(d, d.description)
        case let .float16(bits):
            let f = ParquetValue.widen(float16: bits)
            out += number(Double(f), f.description)
        case let .string(s): out += quoted(s)
        case let .bytes(b): out += binarySummary(b)
        case let .decimal(text): out += quoted(text)
        case let .date(days): out += quoted(civilDate(Int64(days)))
        case let .time(value, unit): out += quoted(timeOfDay(value, unit))
        case let .timestamp(value, unit, utc): out += quoted(timestamp(value, unit) + (utc ? "Z" : ""))
        case let .int96(nanos, day):
            if let total = ParquetValue.int96Nanoseconds(nanosOfDay: nanos, julianDay: day) {
                out += quoted(timestamp(total, .nanos))
            } else {
                out += "{\"julian_day\":\(day),\"nanos_of_day\":\(nanos)}"
            }
        case let .list(items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                write(item, into: &out)
            }
            out += "]"
        case let .record(fields): out += render(row: fields)
        case let .map(entries):
            out += "["
            for (i, entry) in entries.enumerated() {
                if i > 0 { out += "," }
                out += "{\"key\":"
                write(entry.key, into: &out)
                out += ",\"value\":"
                write(entry.value, into: &out)
                out += "}"
            }
            out += "]"
        }
    }

    public static func binarySummary(_ bytes: [UInt8]) -> String {
        let checksum = bytes.withUnsafeBytes { crc32($0) }
        return "{\"binary\":\(bytes.count),\"crc32\":\"\(String(checksum, radix: 16).leftPadded(to: 8))\"}"
    }

    public static func tensorSummary(shape: [Int], dtype: String, bytes: UnsafeRawBufferPointer?) -> String {
        guard let bytes else { return "null" }
        let checksum = String(crc32(bytes), radix: 16).leftPadded(to: 8)
        return "{\"tensor\":{\"shape\":[\(shape.map(String.init).joined(separator: ","))],\"dtype\":\"\(dtype)\",\"crc32\":\"\(checksum)\"}}"
    }

    private static func number(_ value: Double, _ text: String) -> String {
        if value.isNaN { return "\"NaN\"" }
        if value.isInfinite { return value > 0 ? "\"Infinity\"" : "\"-Infinity\"" }
        return text
    }

    public static func quoted(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                out += "\\u" + String(scalar.value, radix: 16).leftPadded(to: 4)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// Proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's civil_from_days).
    static func civilDate(_ days: Int64) -> String {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        return "\(year)-\(String(month).leftPadded(to: 2))-\(String(day).leftPadded(to: 2))"
    }

    private static func perSecond(_ unit: TimeUnit) -> (Int64, Int) {
        switch unit {
        case .millis: (1_000, 3)
        case .micros: (1_000_000, 6)
        case .nanos: (1_000_000_000, 9)
        }
    }

    static func timeOfDay(_ value: Int64, _ unit: TimeUnit) -> String {
        let (scale, digits) = perSecond(unit)
        let seconds = value / scale, fraction = value % scale
        return "\(String(seconds / 3600).leftPadded(to: 2)):\(String(seconds / 60 % 60).leftPadded(to: 2)):\(String(seconds % 60).leftPadded(to: 2)).\(String(fraction).leftPadded(to: digits))"
    }

    static func timestamp(_ value: Int64, _ unit: TimeUnit) -> String {
        let (scale, _) = perSecond(unit)
        var seconds = value / scale, fraction = value % scale
        if fraction < 0 {
            fraction += scale
            seconds -= 1
        }
        var days = seconds / 86_400, secondOfDay = seconds % 86_400
        if secondOfDay < 0 {
            secondOfDay += 86_400
            days -= 1
        }
        return civilDate(days) + "T" + timeOfDay(secondOfDay * scale + fraction, unit)
    }
}
