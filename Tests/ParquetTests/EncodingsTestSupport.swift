import SluiceTestSupport
@testable import Parquet


/// Reference LSB-first bit packer, one bit at a time (independent of the library's packBits).
func referenceBitPack(_ values: [UInt64], bitWidth: Int) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: (values.count * bitWidth + 7) / 8)
    var bit = 0
    for value in values {
        for b in 0..<bitWidth {
            if (value >> UInt64(b)) & 1 == 1 { out[bit >> 3] |= 1 << UInt8(bit & 7) }
            bit += 1
        }
    }
    return out
}

func lowBitsMask(_ bitWidth: Int) -> UInt64 { bitWidth == 64 ? ~0 : (1 << UInt64(bitWidth)) - 1 }

/// Decodes `count` RLE/bit-packed values from `bytes` as UInt32.
func decodeRLE(_ bytes: [UInt8], bitWidth: Int, count: Int) throws -> [UInt32] {
    var out = [UInt32](repeating: 0, count: count)
    try bytes.withUnsafeBytes { raw in
        var decoder = try RLEHybridDecoder(raw, bitWidth: bitWidth)
        try out.withUnsafeMutableBufferPointer { try decoder.decode(into: $0) }
    }
    return out
}

/// Every value the stream holds, run by run (for checking what lies past the expected values).
func decodeAllRuns(_ bytes: [UInt8], bitWidth: Int) throws -> [UInt32] {
    var values: [UInt32] = []
    try bytes.withUnsafeBytes { raw in
        var decoder = try RLEHybridDecoder(raw, bitWidth: bitWidth)
        while let run = try decoder.nextRun(maxValues: 1000) {
            switch run {
            case .repeated(let value, let count):
                values.append(contentsOf: repeatElement(value, count: count))
            case .bitPacked(let packed, let first, let count):
                var chunk = [UInt32](repeating: 0, count: count)
                try chunk.withUnsafeMutableBufferPointer {
                    try RLEHybridDecoder.unpack(packed, bitWidth: bitWidth, firstValue: first, count: count,
                                                into: $0.baseAddress!)
                }
                values.append(contentsOf: chunk)
            }
        }
    }
    return values
}

func encodeRLE(_ values: [UInt32], bitWidth: Int) -> [UInt8] {
    var encoder = RLEHybridEncoder(bitWidth: bitWidth)
    for v in values { encoder.append(v) }
    return encoder.finish()
}

/// Runs `body` and reports whether it threw a ParquetError (any other error fails the test).
func threwParquetError(_ body: () throws -> Void) -> Bool {
    do {
        try body()
        return false
    } catch is ParquetError {
        return true
    } catch {
        return false
    }
}

func decodedStrings(_ values: BinaryValues) -> [String] {
    (0..<values.count).map { String(decoding: values[$0], as: UTF8.self) }
}
