import FuzzSupport
@testable import Parquet

/// A valid page in each encoding, v1 and v2, compressed with each codec by the writer's own encoders.
func writePageSeeds(_ seeds: SeedWriter) throws {
    let compressor = Compressor()
    let ints = (0..<40).map { Int64($0 * $0 % 97) - 20 }
    let strings = BinaryValues(strings: (0..<12).map { "key-\($0 % 5)-" + String(repeating: "x", count: $0) })
    var rle = RLEHybridEncoder(bitWidth: 3)
    for i in 0..<40 { rle.append(UInt32(i / 7 % 5)) }
    let indices = [3] + rle.finish()
    var booleans = RLEHybridEncoder(bitWidth: 1)
    for i in 0..<40 { booleans.append(UInt32(i % 3 == 0 ? 1 : 0)) }
    let booleanValues = booleans.finish()
    let lengths = (0..<strings.count).map { Int64(strings.offsets[$0 + 1] - strings.offsets[$0]) }
    let floats = (0..<10).map { Float($0) * 1.5 }
    let floatBytes = PlainEncoder.fixedWidth(floats.map(\.bitPattern))
    let split = (0..<4).flatMap { lane in (0..<floats.count).map { floatBytes[$0 * 4 + lane] } }
    let dictionaryValues = PlainEncoder.fixedWidth((0..<5).map { Int64($0) * 1000 })

    // (encoding, type, values, count, dictionary)
    let pages: [(Encoding, PhysicalType, [UInt8], Int, (count: Int, bytes: [UInt8])?)] = [
        (.plain, .int32, PlainEncoder.fixedWidth(ints.map { Int32($0) }), ints.count, nil),
        (.plain, .int64, PlainEncoder.fixedWidth(ints), ints.count, nil),
        (.plain, .double, PlainEncoder.fixedWidth(ints.map { Double($0).bitPattern }), ints.count, nil),
        (.plain, .byteArray, PlainEncoder.byteArrays(strings), strings.count, nil),
        (.plain, .boolean, PlainEncoder.booleans(ints.map { $0 > 0 }), ints.count, nil),
        (.plain, .int96, [UInt8](repeating: 7, count: 36), 3, nil),
        (.plain, .fixedLenByteArray, Array("abcdefgh".utf8), 2, nil),
        (.rleDictionary, .int64, indices, 40, (5, dictionaryValues)),
        (.plainDictionary, .int64, indices, 40, (5, dictionaryValues)),
        (.rle, .boolean, withLength(booleanValues), 40, nil),
        (.deltaBinaryPacked, .int64, DeltaBinaryPackedEncoder.encode(ints), ints.count, nil),
        (.deltaBinaryPacked, .int32, DeltaBinaryPackedEncoder.encode(int32: ints.map { Int32($0) }), ints.count, nil),
        (.deltaLengthByteArray, .byteArray, DeltaBinaryPackedEncoder.encode(lengths) + strings.bytes, strings.count, nil),
        (.deltaByteArray, .byteArray, DeltaBinaryPackedEncoder.encode([Int64](repeating: 0, count: strings.count))
            + DeltaBinaryPackedEncoder.encode(lengths) + strings.bytes, strings.count, nil),
        (.byteStreamSplit, .float, split, floats.count, nil),
    ]
    for (p, (encoding, type, values, count, dictionary)) in pages.enumerated() {
        for (c, codec) in codecs.enumerated() {
            guard let compressed = try? values.withUnsafeBytes({ try compressor.compress(codec, $0) }) else { continue }
            // v1, required column.
            var prologue: [UInt8] = [UInt8(encodings.firstIndex(of: encoding) ?? 0), UInt8(physicalTypes.firstIndex(of: type) ?? 0),
                                     UInt8(c), type == .fixedLenByteArray ? 3 : 0]
            let dictionaryFlag: UInt8 = dictionary == nil ? 0 : 16
            var v1 = prologue + [dictionaryFlag] + u16(count) + u32(values.count)
            if let dictionary { v1 += u16(dictionary.count) + u16(dictionary.bytes.count) + dictionary.bytes }
            try seeds.write("v1-\(p)-\(c)", v1 + compressed)
            // v2, optional column, every value defined: the levels are RLE runs of 1, stored uncompressed.
            var levels = RLEHybridEncoder(bitWidth: 1)
            levels.append(1, count: count)
            let definition = levels.finish()
            prologue += [dictionaryFlag | 8 | 1] + u16(count) + u32(values.count + definition.count) + u16(0) + u16(definition.count)
            if let dictionary { prologue += u16(dictionary.count) + u16(dictionary.bytes.count) + dictionary.bytes }
            try seeds.write("v2-\(p)-\(c)", prologue + definition + compressed)
        }
    }
}

private func u16(_ value: Int) -> [UInt8] { [UInt8(value & 0xff), UInt8(value >> 8 & 0xff)] }
private func u32(_ value: Int) -> [UInt8] { u16(value & 0xffff) + u16(value >> 16) }
private func withLength(_ bytes: [UInt8]) -> [UInt8] { u32(bytes.count) + bytes }
