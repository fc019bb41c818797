import Testing
import SluiceTestSupport
@testable import Parquet

@Suite("Compressor output decompresses back to the input")
struct CodecRoundTripTests {
    static let writableCodecs: [CompressionCodec] = [.uncompressed, .snappy, .gzip, .zstd, .lz4, .lz4Raw]

    static func inputs() -> [[UInt8]] {
        var generator = SplitMix64(seed: 42)
        let random = (0 ..< 5000).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        return [
            [],
            [7],
            Array("Parquet pages, Parquet pages, Parquet pages".utf8),
            random,
            codecImageLikeBytes(count: 224 * 224 * 3, seed: 9),
            [UInt8](repeating: 0, count: 300_000),
        ]
    }

    @Test("round trip", arguments: writableCodecs)
    func roundTrip(_ codec: CompressionCodec) throws {
        let compressor = Compressor()
        let decompressor = Decompressor()
        for input in Self.inputs() {
            let compressed = try codecCompress(compressor, codec, input)
            let output = try codecDecompress(decompressor, codec, compressed, outputSize: input.count)
            #expect(output == input, "\(codec) with \(input.count) bytes")
            if input.count == 300_000 && codec != .uncompressed {
                #expect(compressed.count < 20_000, "\(codec) should shrink zeros, got \(compressed.count)")
            }
        }
    }

    @Test("levels other than the defaults round trip too")
    func otherLevels() throws {
        let input = codecImageLikeBytes(count: 50_000, seed: 1)
        for (zstd, gzip) in [(Int32(-5), Int32(1)), (19, 9), (3, 0)] {
            let compressor = Compressor(zstdLevel: zstd, gzipLevel: gzip)
            for codec in [CompressionCodec.zstd, .gzip] {
                let compressed = try codecCompress(compressor, codec, input)
                #expect(try codecDecompress(Decompressor(), codec, compressed, outputSize: input.count) == input)
            }
        }
    }

    @Test("an impossible gzip level is an invalid argument, not a crash")
    func badGzipLevel() {
        #expect(codecErrorKind { _ = try codecCompress(Compressor(gzipLevel: 42), .gzip, [1, 2, 3]) } == .invalidArgument)
    }

    @Test("GZIP writes the gzip format, LZ4 writes one Hadoop frame")
    func formats() throws {
        let input = codecImageLikeBytes(count: 1000, seed: 5)
        let gzip = try codecCompress(Compressor(), .gzip, input)
        #expect(Array(gzip.prefix(3)) == [0x1F, 0x8B, 0x08])
        let hadoop = try codecCompress(Compressor(), .lz4, input)
        #expect(Array(hadoop.prefix(4)) == [0, 0, 0x03, 0xE8])
        let blockSize = hadoop.count - 8
        #expect(Array(hadoop[4 ..< 8]) == [UInt8(blockSize >> 24), UInt8((blockSize >> 16) & 0xFF), UInt8((blockSize >> 8) & 0xFF), UInt8(blockSize & 0xFF)])
        // The block after the header is what LZ4_RAW writes.
        let raw = try codecCompress(Compressor(), .lz4Raw, input)
        #expect(Array(hadoop[8...]) == raw)
    }
}
