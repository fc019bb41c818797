import Testing
import SluiceTestSupport
@testable import Parquet

/// Garbage, truncated and corrupted pages must throw `.decompression` (or decode), never crash or hang.
@Suite("Codecs survive malformed input")
struct CodecFuzzTests {
    static let fuzzedCodecs: [CompressionCodec] = [.snappy, .gzip, .zstd, .lz4, .lz4Raw]

    /// Magic numbers that lead each decoder past its first check.
    static let prefixes: [[UInt8]] = [
        [], [0x1F, 0x8B, 0x08, 0x00], [0x78, 0x9C], [0x28, 0xB5, 0x2F, 0xFD], [0x04, 0x22, 0x4D, 0x18],
        [0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x40], [0x80, 0x08],
    ]

    @Test("random bytes", arguments: fuzzedCodecs)
    func randomBytes(_ codec: CompressionCodec) {
        var generator = SplitMix64(seed: 0xC0DEC + UInt64(codec.rawValue))
        let decompressor = Decompressor()
        for round in 0 ..< 3000 {
            let prefix = Self.prefixes[round % Self.prefixes.count]
            let length = Int(generator.next() % 400)
            let input = prefix + (0 ..< length).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            let outputSize = Int(generator.next() % 2000)
            let kind = codecErrorKind { _ = try codecDecompress(decompressor, codec, input, outputSize: outputSize) }
            #expect(kind == nil || kind == .decompression)
        }
    }

    @Test("every truncation of a valid page fails", arguments: fuzzedCodecs)
    func truncations(_ codec: CompressionCodec) throws {
        let decompressor = Decompressor()
        let vectors = CodecTestVectors.all.filter { $0.codec == codec }
        #expect(!vectors.isEmpty)
        for vector in vectors {
            let compressed = codecBytes(base64: vector.compressedBase64)
            let expected = codecBytes(base64: vector.expectedBase64)
            guard !expected.isEmpty else { continue }
            for length in 0 ..< compressed.count {
                let kind = codecErrorKind { _ = try codecDecompress(decompressor, codec, Array(compressed[..<length]), outputSize: expected.count) }
                #expect(kind == .decompression, "\(vector.name) cut to \(length) bytes")
            }
        }
    }

    @Test("corrupted bytes in valid pages", arguments: fuzzedCodecs)
    func corruptions(_ codec: CompressionCodec) {
        var generator = SplitMix64(seed: 0xBADC0DE + UInt64(codec.rawValue))
        let decompressor = Decompressor()
        for vector in CodecTestVectors.all where vector.codec == codec {
            let compressed = codecBytes(base64: vector.compressedBase64)
            let expected = codecBytes(base64: vector.expectedBase64)
            for _ in 0 ..< 150 {
                var input = compressed
                for _ in 0 ... Int(generator.next() % 3) {
                    let index = Int(generator.next() % UInt64(input.count))
                    input[index] = UInt8(truncatingIfNeeded: generator.next())
                }
                let kind = codecErrorKind { _ = try codecDecompress(decompressor, codec, input, outputSize: expected.count) }
                #expect(kind == nil || kind == .decompression)
            }
            // Still decodes the intact page afterwards.
            #expect((try? codecDecompress(decompressor, codec, compressed, outputSize: expected.count)) == expected, "\(vector.name)")
        }
    }

    @Test("Hadoop headers that promise more than the page holds")
    func lyingHadoopHeaders() throws {
        let decompressor = Decompressor()
        let headers: [[UInt8]] = [
            [0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x02, 0x10, 0x41],
            [0x00, 0x00, 0x00, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0x10, 0x41],
            [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00],
            [0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0x10, 0x41, 0x00, 0x00, 0x00],
        ]
        for header in headers {
            for outputSize in [0, 1, 2, 100] {
                let kind = codecErrorKind { _ = try codecDecompress(decompressor, .lz4, header, outputSize: outputSize) }
                #expect(kind == nil || kind == .decompression)
            }
        }
        // The one well-formed case among them decodes: [size 1][compressed 2][token 0x10, literal 'A'].
        #expect(try codecDecompress(decompressor, .lz4, Array(headers[3].prefix(10)), outputSize: 1) == [0x41])
    }
}
