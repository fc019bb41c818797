/// PLAIN encoding (the writer side of `PlainDecoder`).
enum PlainEncoder {
    /// Bit-packed, LSB first, the last byte zero-padded.
    static func booleans(_ values: [Bool]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: (values.count + 7) / 8)
        for (i, value) in values.enumerated() where value {
            out[i >> 3] |= 1 << UInt8(i & 7)
        }
        return out
    }

    /// Little-endian, `MemoryLayout<T>.size` bytes each.
    static func fixedWidth<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
        let byteCount = values.count * MemoryLayout<T>.size
        return [UInt8](unsafeUninitializedCapacity: byteCount) { out, initialized in
            if let base = out.baseAddress {
                let raw = UnsafeMutableRawPointer(base)
                for (i, value) in values.enumerated() {
                    raw.storeBytes(of: value.littleEndian, toByteOffset: i * MemoryLayout<T>.size, as: T.self)
                }
            }
            initialized = byteCount
        }
    }

    /// Each value: a 4-byte little-endian length, then its bytes.
    static func byteArrays(_ values: BinaryValues) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(values.bytes.count + 4 * values.count)
        for i in 0..<values.count {
            let length = UInt32(values.offsets[i + 1] - values.offsets[i])
            for b in 0..<4 { out.append(UInt8(truncatingIfNeeded: length >> UInt32(8 * b))) }
            out.append(contentsOf: values[i])
        }
        return out
    }

    /// The values back to back (every value must have the column's fixed width).
    static func fixedLenByteArrays(_ values: BinaryValues) -> [UInt8] {
        Array(values.bytes[values.offsets[0]..<values.offsets[values.count]])
    }
}
