import CLZ4
import CZlib
import CZstd

/// Decompresses Parquet pages. Holds the zstd, zlib and LZ4-frame contexts so that a reader
/// reuses them from page to page; they are created on first use.
///
/// Use it from one thread at a time: it may move between threads (hence `Sendable`), but two
/// threads must not call it at once. Give each worker its own.
final class Decompressor: @unchecked Sendable {
    /// Bytes a codec writes to when the real output is empty or already full; anything landing
    /// here means the page inflates to more than the header declared.
    static let scratchSize = 64
    let scratch: UnsafeMutableRawPointer

    var zstdContext: OpaquePointer?
    var inflateStream: UnsafeMutablePointer<z_stream>?
    var lz4FrameContext: OpaquePointer?

    init() {
        scratch = UnsafeMutableRawPointer.allocate(byteCount: Self.scratchSize, alignment: 16)
    }

    deinit {
        if let zstdContext { ZSTD_freeDCtx(zstdContext) }
        if let inflateStream {
            inflateEnd(inflateStream)
            inflateStream.deallocate()
        }
        if let lz4FrameContext { LZ4F_freeDecompressionContext(lz4FrameContext) }
        scratch.deallocate()
    }

    /// Decompress `input` into `output`, which is exactly the uncompressed size the page header declares.
    ///
    /// Throws `.decompression` when the codec fails or the page inflates to any other size than
    /// `output.count`, and `.unsupported` for LZO and BROTLI. An empty input with an empty output
    /// is accepted for every supported codec (a data page v2 whose values section is empty).
    func decompress(_ codec: CompressionCodec, _ input: UnsafeRawBufferPointer,
                    into output: UnsafeMutableRawBufferPointer) throws {
        guard codec != .lzo && codec != .brotli else { throw unsupportedCodec(codec) }
        if input.isEmpty && output.isEmpty { return }
        switch codec {
        case .uncompressed:
            guard input.count == output.count else {
                throw decompressionError(codec, "page holds \(input.count) bytes but its header declares \(output.count)")
            }
            output.copyMemory(from: input)
        case .snappy:
            try decompressSnappy(input, into: output)
        case .gzip:
            try decompressGzip(input, into: output)
        case .zstd:
            try decompressZstd(input, into: output)
        case .lz4:
            try decompressLZ4(input, into: output)
        case .lz4Raw:
            try decompressLZ4Raw(input, into: output)
        case .lzo, .brotli:
            throw unsupportedCodec(codec)
        }
    }
}
