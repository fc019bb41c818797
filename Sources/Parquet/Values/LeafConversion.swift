/// How a leaf column's physical values become `ParquetValue`s, decided once per column from its annotations.
enum LeafInterpretation {
    case bool, signed, unsigned32, unsigned64, float, double, float16, string, bytes, int96, null
    case decimal(scale: Int)
    case date
    case time(TimeUnit)
    case timestamp(TimeUnit, utc: Bool)

    init(_ column: ColumnDescriptor) {
        let element = column.element
        let physical = column.physicalType
        if let logical = element.logicalType {
            switch logical {
            case .string, .enumeration, .json:
                self = physical == .byteArray ? .string : .bytes
                return
            case let .decimal(_, scale):
                self = .decimal(scale: Int(scale))
                return
            case .date:
                self = .date
                return
            case let .time(_, unit):
                self = .time(unit)
                return
            case let .timestamp(utc, unit):
                self = .timestamp(unit, utc: utc)
                return
            case let .integer(_, signed):
                self = signed ? .signed : (physical == .int32 ? .unsigned32 : .unsigned64)
                return
            case .unknown:
                self = .null
                return
            case .float16 where physical == .fixedLenByteArray && column.typeLength == 2:
                self = .float16
                return
            default:
                break
            }
        }
        switch element.convertedType {
        case .utf8?, .enumeration?, .json?:
            if physical == .byteArray { self = .string; return }
        case .decimal?:
            self = .decimal(scale: Int(element.scale ?? 0))
            return
        case .date?: self = .date; return
        case .timeMillis?: self = .time(.millis); return
        case .timeMicros?: self = .time(.micros); return
        case .timestampMillis?: self = .timestamp(.millis, utc: true); return
        case .timestampMicros?: self = .timestamp(.micros, utc: true); return
        case .uint8?, .uint16?, .uint32?: self = .unsigned32; return
        case .uint64?: self = .unsigned64; return
        default: break
        }
        switch physical {
        case .boolean: self = .bool
        case .int32, .int64: self = .signed
        case .int96: self = .int96
        case .float: self = .float
        case .double: self = .double
        case .byteArray, .fixedLenByteArray: self = .bytes
        }
    }

    func value(_ values: ColumnValues, at i: Int) -> ParquetValue {
        switch (self, values) {
        case (.null, _): return .null
        case let (.bool, .boolean(v)): return .bool(v[i])
        case let (.unsigned32, .int32(v)): return .uint(UInt64(UInt32(bitPattern: v[i])))
        case let (.unsigned64, .int64(v)): return .uint(UInt64(bitPattern: v[i]))
        case let (.unsigned32, .int64(v)): return .uint(UInt64(bitPattern: v[i]))
        case let (.date, .int32(v)): return .date(days: v[i])
        case let (.time(unit), .int32(v)): return .time(Int64(v[i]), unit)
        case let (.time(unit), .int64(v)): return .time(v[i], unit)
        case let (.timestamp(unit, utc), .int64(v)): return .timestamp(v[i], unit, isAdjustedToUTC: utc)
        case let (.decimal(scale), .int32(v)): return .decimal(formatDecimal(unscaled: Int64(v[i]), scale: scale))
        case let (.decimal(scale), .int64(v)): return .decimal(formatDecimal(unscaled: v[i], scale: scale))
        case let (.decimal(scale), .byteArray(v)), let (.decimal(scale), .fixedLenByteArray(v)):
            return .decimal(formatDecimal(bigEndianTwosComplement: Array(v[i]), scale: scale))
        case let (.float16, .fixedLenByteArray(v)):
            let b = v[i]
            return .float16(UInt16(b[b.startIndex]) | UInt16(b[b.startIndex + 1]) << 8)
        case let (.string, .byteArray(v)): return .string(String(decoding: v[i], as: UTF8.self))
        case let (_, .int96(v)):
            let b = Array(v[i])
            let nanos = b.withUnsafeBytes { $0.loadUnaligned(as: Int64.self).littleEndian }
            let day = b.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 8, as: Int32.self).littleEndian }
            return .int96(nanosOfDay: nanos, julianDay: day)
        // Annotations that do not fit the physical type fall back to the physical value.
        case let (_, .boolean(v)): return .bool(v[i])
        case let (_, .int32(v)): return .int(Int64(v[i]))
        case let (_, .int64(v)): return .int(v[i])
        case let (_, .float(v)): return .float(v[i])
        case let (_, .double(v)): return .double(v[i])
        case let (_, .byteArray(v)), let (_, .fixedLenByteArray(v)): return .bytes(Array(v[i]))
        }
    }
}

/// "12.34" from 1234 and scale 2; "-0.05" from -5 and scale 2.
func formatDecimal(unscaled: Int64, scale: Int) -> String {
    let negative = unscaled < 0
    return placeDecimalPoint(String(unscaled.magnitude), negative: negative, scale: scale)
}

/// Decimal digits of a big-endian two's-complement integer of any length.
func formatDecimal(bigEndianTwosComplement bytes: [UInt8], scale: Int) -> String {
    guard let first = bytes.first else { return placeDecimalPoint("0", negative: false, scale: scale) }
    let negative = first & 0x80 != 0
    var magnitude = bytes
    if negative {  // two's complement negation: invert and add one
        var carry = true
        for i in stride(from: magnitude.count - 1, through: 0, by: -1) {
            magnitude[i] = ~magnitude[i]
            if carry { (magnitude[i], carry) = magnitude[i].addingReportingOverflow(1) }
        }
    }
    var digits: [UInt8] = []
    var number = magnitude.drop { $0 == 0 }.map { $0 }
    while !number.isEmpty {  // repeated division by 10, most significant byte first
        var remainder = 0
        var quotient: [UInt8] = []
        quotient.reserveCapacity(number.count)
        for byte in number {
            let current = remainder << 8 | Int(byte)
            let q = current / 10
            remainder = current % 10
            if !(quotient.isEmpty && q == 0) { quotient.append(UInt8(q)) }
        }
        digits.append(UInt8(remainder) + 48)
        number = quotient
    }
    let text = digits.isEmpty ? "0" : String(decoding: digits.reversed(), as: UTF8.self)
    return placeDecimalPoint(text, negative: negative, scale: scale)
}

private func placeDecimalPoint(_ digits: String, negative: Bool, scale: Int) -> String {
    var body = digits
    if scale > 0 {
        if body.count <= scale { body = String(repeating: "0", count: scale - body.count + 1) + body }
        body.insert(".", at: body.index(body.endIndex, offsetBy: -scale))
    } else if scale < 0, body != "0" {
        body += String(repeating: "0", count: -scale)
    }
    return negative ? "-" + body : body
}
