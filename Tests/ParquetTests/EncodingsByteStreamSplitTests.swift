import Testing
import SluiceTestSupport
@testable import Parquet

@Suite struct EncodingsByteStreamSplitTests {
    /// Encodings.md, BYTE_STREAM_SPLIT example: three 4-byte elements.
    @Test func specExample() throws {
        let original: [UInt8] = [0xAA, 0xBB, 0xCC, 0xDD, 0x00, 0x11, 0x22, 0x33, 0xA3, 0xB4, 0xC5, 0xD6]
        let split: [UInt8] = [0xAA, 0x00, 0xA3, 0xBB, 0x11, 0xB4, 0xCC, 0x22, 0xC5, 0xDD, 0x33, 0xD6]
        #expect(original.withUnsafeBytes { ByteStreamSplit.encode($0, width: 4) } == split)
        #expect(try split.withUnsafeBytes { try ByteStreamSplit.decode($0, width: 4, count: 3) } == original)
    }

    @Test func pyarrowFloats() throws {
        let page = PyarrowVectors.byteStreamSplitFloatPage
        let expected = PyarrowVectors.byteStreamSplitFloatBits
        let bytes = try page.withUnsafeBytes { try ByteStreamSplit.decode($0, width: 4, count: expected.count) }
        let bits: [UInt32] = try bytes.withUnsafeBytes { try PlainDecoder.fixedWidth($0, count: expected.count) }
        #expect(bits == expected)
        #expect(bytes.withUnsafeBytes { ByteStreamSplit.encode($0, width: 4) } == page)
    }

    @Test func pyarrowDoubles() throws {
        let page = PyarrowVectors.byteStreamSplitDoublePage
        let expected = PyarrowVectors.byteStreamSplitDoubleBits
        let bytes = try page.withUnsafeBytes { try ByteStreamSplit.decode($0, width: 8, count: expected.count) }
        let bits: [UInt64] = try bytes.withUnsafeBytes { try PlainDecoder.fixedWidth($0, count: expected.count) }
        #expect(bits == expected)
    }

    @Test(arguments: [1, 2, 3, 4, 5, 8, 12, 16]) func roundTrips(width: Int) throws {
        var rng = SplitMix64(seed: UInt64(width))
        let values = (0..<(width * 37)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        let split = values.withUnsafeBytes { ByteStreamSplit.encode($0, width: width) }
        for i in 0..<37 { #expect(split[i] == values[i * width]) }  // stream 0 holds byte 0 of each value
        #expect(try split.withUnsafeBytes { try ByteStreamSplit.decode($0, width: width, count: 37) } == values)
        // Fewer values than the streams hold: the first ones, from the same streams.
        #expect(try split.withUnsafeBytes { try ByteStreamSplit.decode($0, width: width, count: 5) } == Array(values.prefix(5 * width)))
    }

    @Test func malformedThrows() {
        let bytes = [UInt8](repeating: 1, count: 10)
        #expect(threwParquetError { _ = try bytes.withUnsafeBytes { try ByteStreamSplit.decode($0, width: 4, count: 2) } })
        #expect(threwParquetError { _ = try bytes.withUnsafeBytes { try ByteStreamSplit.decode($0, width: 5, count: 3) } })
        #expect(threwParquetError { _ = try bytes.withUnsafeBytes { try ByteStreamSplit.decode($0, width: 0, count: 0) } })
        #expect(threwParquetError { _ = try bytes.withUnsafeBytes { try ByteStreamSplit.decode($0, width: 5, count: 1 << 60) } })
    }
}
