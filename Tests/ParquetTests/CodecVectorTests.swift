import Foundation
import Testing
@testable import Parquet

@Suite("Codecs decode what independent implementations wrote")
struct CodecVectorTests {
    @Test("decompresses the reference vector", arguments: CodecTestVectors.all)
    func decodesVector(_ vector: CodecVector) throws {
        let compressed = codecBytes(base64: vector.compressedBase64)
        let expected = codecBytes(base64: vector.expectedBase64)
        #expect(!compressed.isEmpty)
        let output = try codecDecompress(Decompressor(), vector.codec, compressed, outputSize: expected.count)
        #expect(output == expected)
    }

    @Test("a page that inflates to more or fewer bytes than declared is an error", arguments: CodecTestVectors.all)
    func detectsWrongSize(_ vector: CodecVector) {
        let compressed = codecBytes(base64: vector.compressedBase64)
        let expected = codecBytes(base64: vector.expectedBase64)
        let decompressor = Decompressor()
        #expect(codecErrorKind { _ = try codecDecompress(decompressor, vector.codec, compressed, outputSize: expected.count + 1) } == .decompression)
        #expect(codecErrorKind { _ = try codecDecompress(decompressor, vector.codec, compressed, outputSize: expected.count + 4096) } == .decompression)
        if !expected.isEmpty {
            #expect(codecErrorKind { _ = try codecDecompress(decompressor, vector.codec, compressed, outputSize: expected.count - 1) } == .decompression)
            #expect(codecErrorKind { _ = try codecDecompress(decompressor, vector.codec, compressed, outputSize: 0) } == .decompression)
        }
        // The context is still usable after those failures.
        #expect((try? codecDecompress(decompressor, vector.codec, compressed, outputSize: expected.count)) == expected)
    }

    @Test("one Decompressor decodes every vector in turn, reusing its contexts")
    func reusesContexts() throws {
        let decompressor = Decompressor()
        for _ in 0 ..< 2 {
            for vector in CodecTestVectors.all {
                let expected = codecBytes(base64: vector.expectedBase64)
                let output = try codecDecompress(decompressor, vector.codec, codecBytes(base64: vector.compressedBase64), outputSize: expected.count)
                #expect(output == expected, "\(vector.name)")
            }
        }
    }

    static let largerHadoopFile = TestPaths.parquetTesting.appendingPathComponent("data/hadoop_lz4_compressed_larger.parquet").path

    @Test("hadoop_lz4_compressed_larger.parquet: a page of several Hadoop frames")
    func decodesLargerHadoopPage() throws {
        let file = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Self.largerHadoopFile)))
        for page in CodecTestVectors.hadoopLarger {
            let compressed = Array(file[page.offset ..< page.offset + page.compressedSize])
            let output = try codecDecompress(Decompressor(), .lz4, compressed, outputSize: page.uncompressedSize)
            #expect(output.withUnsafeBytes { crc32($0) } == page.crc)
        }
    }

    @Test("an empty input inflating to zero bytes is accepted for every supported codec (data page v2 with no values)")
    func acceptsEmptyPage() throws {
        for codec in codecsThatDecompress {
            #expect(try codecDecompress(Decompressor(), codec, [], outputSize: 0) == [])
        }
    }

    @Test("an empty input cannot fill a non-empty page")
    func rejectsEmptyInputForNonEmptyPage() {
        for codec in codecsThatDecompress {
            #expect(codecErrorKind { _ = try codecDecompress(Decompressor(), codec, [], outputSize: 10) } == .decompression, "\(codec)")
        }
    }

    @Test("LZO and BROTLI are reported as unsupported")
    func unsupportedCodecs() throws {
        let decompressor = Decompressor()
        let compressor = Compressor()
        for codec in [CompressionCodec.lzo, .brotli] {
            do {
                _ = try codecDecompress(decompressor, codec, [1, 2, 3], outputSize: 3)
                Issue.record("\(codec) should not decompress")
            } catch let error as ParquetError {
                #expect(error.kind == .unsupported)
                #expect(error.message.contains("codec \(codec) is not supported"))
            }
            #expect(codecErrorKind { _ = try codecDecompress(decompressor, codec, [], outputSize: 0) } == .unsupported)
            #expect(codecErrorKind { _ = try codecCompress(compressor, codec, [1, 2, 3]) } == .unsupported)
        }
    }

    @Test("UNCOMPRESSED copies, and checks the size")
    func uncompressed() throws {
        #expect(try codecDecompress(Decompressor(), .uncompressed, [1, 2, 3], outputSize: 3) == [1, 2, 3])
        #expect(codecErrorKind { _ = try codecDecompress(Decompressor(), .uncompressed, [1, 2, 3], outputSize: 2) } == .decompression)
        #expect(codecErrorKind { _ = try codecDecompress(Decompressor(), .uncompressed, [1, 2, 3], outputSize: 4) } == .decompression)
    }

    @Test("codec names and thrift values follow the specification")
    func codecNames() {
        let expected: [(CompressionCodec, Int32, String)] = [
            (.uncompressed, 0, "UNCOMPRESSED"), (.snappy, 1, "SNAPPY"), (.gzip, 2, "GZIP"), (.lzo, 3, "LZO"),
            (.brotli, 4, "BROTLI"), (.lz4, 5, "LZ4"), (.zstd, 6, "ZSTD"), (.lz4Raw, 7, "LZ4_RAW"),
        ]
        #expect(CompressionCodec.allCases.count == expected.count)
        for (codec, value, name) in expected {
            #expect(codec.rawValue == value)
            #expect(CompressionCodec(rawValue: value) == codec)
            #expect(codec.description == name)
        }
        #expect(CompressionCodec(rawValue: 8) == nil)
    }
}
