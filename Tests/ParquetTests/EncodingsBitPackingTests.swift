import Testing
import SluiceTestSupport
@testable import Parquet

@Suite struct EncodingsBitPackingTests {
    /// Encodings.md, RLE/bit-packing hybrid, note 1: 0...7 at width 3 packs to 10001000 11000110 11111010.
    @Test func specExampleWidth3() throws {
        let packed: [UInt8] = [0b1000_1000, 0b1100_0110, 0b1111_1010]
        var out = [UInt32](repeating: 99, count: 8)
        try packed.withUnsafeBytes { src in
            try out.withUnsafeMutableBufferPointer { try unpackBits(src, bitWidth: 3, count: 8, into: $0.baseAddress!) }
        }
        #expect(out == [0, 1, 2, 3, 4, 5, 6, 7])

        var repacked: [UInt8] = []
        packBits((0..<8).map { UInt64($0) }, bitWidth: 3, into: &repacked)
        #expect(repacked == packed)
    }

    @Test(arguments: 0...32) func unpackMatchesReference(bitWidth: Int) throws {
        var rng = SplitMix64(seed: UInt64(bitWidth) &* 7919)
        for count in [0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 100, 1000] {
            let values = (0..<count).map { _ in rng.next() & lowBitsMask(bitWidth) }
            let packed = referenceBitPack(values, bitWidth: bitWidth)
            var out = [UInt32](repeating: 0xDEAD_BEEF, count: count)
            try packed.withUnsafeBytes { src in
                try out.withUnsafeMutableBufferPointer { dst in
                    guard let base = dst.baseAddress else { return }
                    try unpackBits(src, bitWidth: bitWidth, count: count, into: base)
                }
            }
            #expect(out == values.map { UInt32($0) }, "width \(bitWidth), count \(count)")

            var ours: [UInt8] = []
            packBits(values, bitWidth: bitWidth, into: &ours)
            #expect(ours == packed, "packBits width \(bitWidth), count \(count)")
        }
    }

    @Test(arguments: 0...64) func unpack64MatchesReference(bitWidth: Int) throws {
        var rng = SplitMix64(seed: UInt64(bitWidth) &* 104_729)
        for count in [0, 1, 8, 13, 32, 33, 128, 517] {
            let values = (0..<count).map { _ in rng.next() & lowBitsMask(bitWidth) }
            let packed = referenceBitPack(values, bitWidth: bitWidth)
            var out = [UInt64](repeating: 0xDEAD_BEEF, count: count)
            try packed.withUnsafeBytes { src in
                try out.withUnsafeMutableBufferPointer { dst in
                    guard let base = dst.baseAddress else { return }
                    try unpackBits64(src, bitWidth: bitWidth, count: count, into: base)
                }
            }
            #expect(out == values, "width \(bitWidth), count \(count)")
        }
    }

    /// Values sitting in the last bytes of a buffer must not be read with loads past its end:
    /// unpack from an exact-size heap allocation at every width.
    @Test func exactSizeBuffersAtEveryWidth() throws {
        var rng = SplitMix64(seed: 42)
        for bitWidth in 1...32 {
            for count in 1...40 {
                let values = (0..<count).map { _ in rng.next() & lowBitsMask(bitWidth) }
                let packed = referenceBitPack(values, bitWidth: bitWidth)
                let exact = UnsafeMutableRawBufferPointer.allocate(byteCount: packed.count, alignment: 1)
                defer { exact.deallocate() }
                exact.copyBytes(from: packed)
                var out = [UInt32](repeating: 0, count: count)
                try out.withUnsafeMutableBufferPointer {
                    try unpackBits(UnsafeRawBufferPointer(exact), bitWidth: bitWidth, count: count, into: $0.baseAddress!)
                }
                #expect(out == values.map { UInt32($0) })
            }
        }
    }

    @Test func shortInputThrowsTruncated() {
        let packed: [UInt8] = [0xFF, 0xFF]
        var out = [UInt32](repeating: 0, count: 8)
        do {
            try packed.withUnsafeBytes { src in
                try out.withUnsafeMutableBufferPointer { try unpackBits(src, bitWidth: 3, count: 8, into: $0.baseAddress!) }
            }
            Issue.record("expected a throw")
        } catch let error as ParquetError {
            #expect(error.kind == .truncated)
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func badWidthsThrow() {
        var out = [UInt64](repeating: 0, count: 1)
        let bytes = [UInt8](repeating: 0, count: 16)
        #expect(threwParquetError {
            try bytes.withUnsafeBytes { src in
                try out.withUnsafeMutableBufferPointer { try unpackBits64(src, bitWidth: 65, count: 1, into: $0.baseAddress!) }
            }
        })
        var out32 = [UInt32](repeating: 0, count: 1)
        #expect(threwParquetError {
            try bytes.withUnsafeBytes { src in
                try out32.withUnsafeMutableBufferPointer { try unpackBits(src, bitWidth: 33, count: 1, into: $0.baseAddress!) }
            }
        })
        #expect(threwParquetError {
            try bytes.withUnsafeBytes { src in
                try out32.withUnsafeMutableBufferPointer { try unpackBits(src, bitWidth: 8, count: -1, into: $0.baseAddress!) }
            }
        })
    }
}
