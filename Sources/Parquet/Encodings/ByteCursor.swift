/// A bounds-checked forward reader over encoded bytes: ULEB128 / zigzag varints and
/// little-endian fixed-width integers. Every read throws `.truncated` rather than running off the end.
struct ByteCursor {
    let data: UnsafeRawBufferPointer
    private(set) var position: Int

    init(_ data: UnsafeRawBufferPointer, position: Int = 0) {
        self.data = data
        self.position = position
    }

    var remaining: Int { data.count - position }

    /// ULEB128, at most 10 bytes; the 10th byte may only carry the top bit of a 64-bit value.
    mutating func readULEB128(_ what: StaticString = "varint") throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < data.count else { throw ParquetError.truncated("\(what) runs past the end of the data") }
            let byte = data[position]
            position += 1
            if shift == 63 && byte > 1 {
                throw ParquetError.corruptPage("\(what) overflows 64 bits")
            }
            result |= UInt64(byte & 0x7F) &<< shift
            if byte & 0x80 == 0 { return result }
            shift += 7
            if shift > 63 { throw ParquetError.corruptPage("\(what) is longer than 10 bytes") }
        }
    }

    /// A ULEB128 that must fit in UInt32 (at most 5 bytes).
    mutating func readULEB128UInt32(_ what: StaticString = "varint") throws -> UInt32 {
        let value = try readULEB128(what)
        guard let narrow = UInt32(exactly: value) else {
            throw ParquetError.corruptPage("\(what) \(value) does not fit in 32 bits")
        }
        return narrow
    }

    /// A zigzag-encoded ULEB128 (0, -1, 1, -2, ... ↦ 0, 1, 2, 3, ...).
    mutating func readZigZag(_ what: StaticString = "zigzag varint") throws -> Int64 {
        let raw = try readULEB128(what)
        return Int64(bitPattern: (raw &>> 1) ^ (0 &- (raw & 1)))
    }

    /// Little-endian unsigned integer of `byteCount` (0...8) bytes.
    mutating func readLittleEndian(byteCount: Int) throws -> UInt64 {
        guard byteCount <= remaining else {
            throw ParquetError.truncated("\(byteCount)-byte value expected, \(remaining) bytes left")
        }
        var value: UInt64 = 0
        for i in 0..<byteCount {
            value |= UInt64(data[position + i]) &<< UInt64(8 * i)
        }
        position += byteCount
        return value
    }

    /// The next `count` bytes as a view into `data`.
    mutating func readBytes(_ count: Int) throws -> UnsafeRawBufferPointer {
        guard count >= 0, count <= remaining else {
            throw ParquetError.truncated("\(count) bytes expected, \(remaining) left")
        }
        defer { position += count }
        return UnsafeRawBufferPointer(rebasing: data[position..<(position + count)])
    }

    mutating func skip(_ count: Int) throws {
        guard count >= 0, count <= remaining else {
            throw ParquetError.truncated("\(count) bytes expected, \(remaining) left")
        }
        position += count
    }
}

enum VarintWriter {
    static func appendULEB128(_ value: UInt64, to out: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }

    static func appendZigZag(_ value: Int64, to out: inout [UInt8]) {
        appendULEB128(UInt64(bitPattern: (value &<< 1) ^ (value >> 63)), to: &out)
    }
}
