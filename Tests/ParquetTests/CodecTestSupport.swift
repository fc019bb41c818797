import Foundation
@testable import Parquet

/// Deterministic generator for the fuzz and round-trip tests (SplitMix64).
struct CodecTestRNG: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

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
    var generator = CodecTestRNG(seed: seed)
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
