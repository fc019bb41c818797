import Foundation
import SluiceTestSupport
@testable import Parquet


func codecBytes(base64: String) -> [UInt8] {
    guard let data = Data(base64Encoded: base64) else { return [] }
    return [UInt8](data)
}

/// Decompresses `input` into a fresh buffer of `outputSize` bytes.
func codecDecompress(_ decompressor: Decompressor, _ codec: CompressionCodec, _ input: [UInt8], outputSize: Int) throws -> [UInt8] {
    var output = [UInt8](repeating: 0xEE, count: outputSize)
    try input.withUnsafeBytes { source in
        try output.withUnsafeMutableBytes { target in
            try decompressor.decompress(codec, source, into: target)
        }
    }
    return output
}

func codecCompress(_ compressor: Compressor, _ codec: CompressionCodec, _ input: [UInt8]) throws -> [UInt8] {
    try input.withUnsafeBytes { try compressor.compress(codec, $0) }
}

/// The kind of ParquetError `body` throws, or nil when it returns.
func codecErrorKind(_ body: () throws -> Void) -> ParquetError.Kind? {
    do {
        try body()
        return nil
    } catch let error as ParquetError {
        return error.kind
    } catch {
        return .io
    }
}

/// Pixel-like bytes: smooth gradients with a little noise, the shape of decoded image data.
func codecImageLikeBytes(count: Int, seed: UInt64) -> [UInt8] {
    var generator = SplitMix64(seed: seed)
    let width = 224
    return (0 ..< count).map { index in
        let pixel = index / 3, channel = index % 3
        let x = pixel % width, y = pixel / width
        let base = (x &* (channel + 1) &+ y &* 2 &+ channel &* 40) & 0xFF
        let noise = Int(generator.next() % 5) - 2
        return UInt8(clamping: base + noise)
    }
}

let codecsThatDecompress: [CompressionCodec] = [.uncompressed, .snappy, .gzip, .zstd, .lz4, .lz4Raw]
