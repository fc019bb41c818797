import Testing
import SluiceTestSupport
@testable import Parquet

@Suite struct EncodingsPlainTests {
    @Test func pyarrowInt32() throws {
        let page = PyarrowVectors.plainInt32Page
        let values: [Int32] = try page.withUnsafeBytes { try PlainDecoder.fixedWidth($0, count: PyarrowVectors.plainInt32Values.count) }
        #expect(values == PyarrowVectors.plainInt32Values)
        #expect(PlainEncoder.fixedWidth(values) == page)
    }

    @Test func pyarrowDoubleBitPatterns() throws {
        let page = PyarrowVectors.plainDoublePage
        let bits: [UInt64] = try page.withUnsafeBytes { try PlainDecoder.fixedWidth($0, count: 9) }
        #expect(bits == PyarrowVectors.plainDoubleBits)
    }

    @Test func pyarrowBooleans() throws {
        let page = PyarrowVectors.plainBooleanPage
        let values = try page.withUnsafeBytes { try PlainDecoder.booleans($0, count: 45) }
        #expect(values == PyarrowVectors.booleanValues)
        #expect(PlainEncoder.booleans(values) == page)
    }

    @Test func pyarrowByteArrays() throws {
        let page = PyarrowVectors.plainByteArrayPage
        let expected = PyarrowVectors.byteArrayStrings
        let values = try page.withUnsafeBytes { try PlainDecoder.byteArrays($0, count: expected.count) }
        #expect(decodedStrings(values) == expected)
        #expect(PlainEncoder.byteArrays(values) == page)
    }

    @Test func pyarrowFixedLenByteArrays() throws {
        let page = PyarrowVectors.plainFixedLen5Page
        let values = try page.withUnsafeBytes { try PlainDecoder.fixedLenByteArrays($0, width: 5, count: 11) }
        #expect(values.count == 11)
        #expect(values.bytes == bytesFromHex(PyarrowVectors.plainFixedLen5Hex))
        #expect(values.offsets == (0...11).map { $0 * 5 })
        #expect(PlainEncoder.fixedLenByteArrays(values) == page)
    }

    @Test func int96AndInt64RoundTrip() throws {
        var rng = SplitMix64(seed: 5)
        let int64s = (0..<50).map { _ in Int64(bitPattern: rng.next()) }
        let encoded = PlainEncoder.fixedWidth(int64s)
        #expect(encoded.count == 400)
        #expect(encoded[0] == UInt8(truncatingIfNeeded: int64s[0]))  // little-endian
        #expect(try encoded.withUnsafeBytes { try PlainDecoder.fixedWidth($0, count: 50) } == int64s)

        var int96 = BinaryValues()
        for _ in 0..<7 { int96.append(contentsOf: (0..<12).map { _ in UInt8(truncatingIfNeeded: rng.next()) }) }
        let bytes = PlainEncoder.fixedLenByteArrays(int96)
        #expect(try bytes.withUnsafeBytes { try PlainDecoder.fixedLenByteArrays($0, width: 12, count: 7) } == int96)
    }

    @Test func shortDataThrows() throws {
        let bytes: [UInt8] = [1, 0, 0, 0, 65, 2, 0, 0, 0, 66]  // "A", then a 2-byte value with 1 byte
        #expect(threwParquetError { _ = try bytes.withUnsafeBytes { try PlainDecoder.byteArrays($0, count: 2) } })
        #expect(try bytes.withUnsafeBytes { try decodedStrings(PlainDecoder.byteArrays($0, count: 1)) } == ["A"])
        #expect(threwParquetError { _ = try bytes.withUnsafeBytes { try PlainDecoder.booleans($0, count: 81) } })
        #expect(threwParquetError { let _: [Int32] = try bytes.withUnsafeBytes { try PlainDecoder.fixedWidth($0, count: 3) } })
        #expect(threwParquetError { _ = try bytes.withUnsafeBytes { try PlainDecoder.fixedLenByteArrays($0, width: 3, count: 4) } })
        #expect(threwParquetError { _ = try bytes.withUnsafeBytes { try PlainDecoder.fixedLenByteArrays($0, width: 0, count: 4) } })
    }

    /// Counts far beyond the data must throw before anything is allocated.
    @Test func hugeCountsThrowWithoutAllocating() {
        let bytes = [UInt8](repeating: 0, count: 64)
        let huge = 1 << 60
        #expect(threwParquetError { _ = try bytes.withUnsafeBytes { try PlainDecoder.booleans($0, count: huge) } })
        #expect(threwParquetError { let _: [Int64] = try bytes.withUnsafeBytes { try PlainDecoder.fixedWidth($0, count: huge) } })
        #expect(threwParquetError { _ = try bytes.withUnsafeBytes { try PlainDecoder.byteArrays($0, count: huge) } })
        #expect(threwParquetError { _ = try bytes.withUnsafeBytes { try PlainDecoder.fixedLenByteArrays($0, width: 12, count: huge) } })
        #expect(threwParquetError { _ = try bytes.withUnsafeBytes { try PlainDecoder.byteArrays($0, count: -1) } })
        // A length prefix of 2^32 - 1 with 60 bytes behind it.
        let lengthBomb: [UInt8] = [0xFF, 0xFF, 0xFF, 0xFF] + [UInt8](repeating: 0, count: 60)
        #expect(threwParquetError { _ = try lengthBomb.withUnsafeBytes { try PlainDecoder.byteArrays($0, count: 1) } })
    }
}
