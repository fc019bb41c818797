import CLZ4
import CSnappy
import CZlib
import CZstd

/// Compresses Parquet pages. Holds the zstd and deflate contexts for reuse; same threading rule
/// as `Decompressor`: one thread at a time, free to move.
final class Compressor: @unchecked Sendable {
    let zstdLevel: Int32
    let gzipLevel: Int32
    private var zstdContext: OpaquePointer?
    private var deflateStream: UnsafeMutablePointer<z_stream>?
    /// Stands in for an empty input's missing base address (C codecs reject NULL).
    private let emptyInput = UnsafeMutableRawPointer.allocate(byteCount: 16, alignment: 16)

    init(zstdLevel: Int32 = 1, gzipLevel: Int32 = 6) {
        self.zstdLevel = zstdLevel
        self.gzipLevel = gzipLevel
    }

    deinit {
        if let zstdContext { ZSTD_freeCCtx(zstdContext) }
        if let deflateStream {
            deflateEnd(deflateStream)
            deflateStream.deallocate()
        }
        emptyInput.deallocate()
    }

    /// The compressed page. GZIP writes the gzip format (as pyarrow does); LZ4 writes one Hadoop frame
    /// (as parquet-cpp does); LZO and BROTLI throw `.unsupported`.
    func compress(_ codec: CompressionCodec, _ input: UnsafeRawBufferPointer) throws -> [UInt8] {
        switch codec {
        case .uncompressed: Array(input)
        case .snappy: try compressSnappy(input)
        case .gzip: try compressGzip(input)
        case .zstd: try compressZstd(input)
        case .lz4Raw: try compressLZ4Block(input, headerBytes: 0)
        case .lz4: try compressLZ4Block(input, headerBytes: 8)
        case .lzo, .brotli: throw unsupportedCodec(codec)
        }
    }

    private func compressSnappy(_ input: UnsafeRawBufferPointer) throws -> [UInt8] {
        let bound = snappy_max_compressed_length(input.count)
        let result = [UInt8](unsafeUninitializedCapacity: bound) { buffer, count in
            guard let base = buffer.baseAddress else { return }
            var written = bound
            // The buffer holds snappy_max_compressed_length(input.count) bytes, snappy's own bound.
            let status = snappy_compress(input.base(or: emptyInput).assumingMemoryBound(to: CChar.self), input.count,
                                         UnsafeMutableRawPointer(base).assumingMemoryBound(to: CChar.self), &written)
            count = status == SNAPPY_OK ? written : 0
        }
        // Even empty input compresses to one byte (its length), so an empty result means failure.
        guard !result.isEmpty else { throw ParquetError(.invalidArgument, "SNAPPY compression failed") }
        return result
    }

    private func compressZstd(_ input: UnsafeRawBufferPointer) throws -> [UInt8] {
        let context = try zstdCompressionContext()
        let bound = ZSTD_compressBound(input.count)
        var failure: String? = "no output buffer"
        let result = [UInt8](unsafeUninitializedCapacity: bound) { buffer, count in
            guard let base = buffer.baseAddress else { return }
            // The buffer holds ZSTD_compressBound(input.count) bytes, so compression cannot run out of room.
            let written = ZSTD_compressCCtx(context, base, bound, input.base(or: emptyInput), input.count, zstdLevel)
            failure = nil
            if ZSTD_isError(written) != 0 {
                failure = String(cString: ZSTD_getErrorName(written))
            } else {
                count = written
            }
        }
        if let failure { throw ParquetError(.invalidArgument, "ZSTD compression failed: \(failure)") }
        return result
    }

    private func compressGzip(_ input: UnsafeRawBufferPointer) throws -> [UInt8] {
        guard input.count <= Int(UInt32.max) else {
            throw ParquetError(.invalidArgument, "GZIP: pages over 4 GiB are not supported")
        }
        let stream = try readyDeflateStream()
        let bound = Int(deflateBound(stream, uLong(input.count)))
        var status: Int32 = Z_BUF_ERROR
        let result = [UInt8](unsafeUninitializedCapacity: bound) { buffer, count in
            guard let base = buffer.baseAddress else { return }
            // The buffer holds deflateBound(input.count) bytes, which covers the gzip header and trailer.
            stream.pointee.next_in = UnsafeMutablePointer(mutating: input.base(or: emptyInput).assumingMemoryBound(to: Bytef.self))
            stream.pointee.avail_in = uInt(input.count)
            stream.pointee.next_out = base
            stream.pointee.avail_out = uInt(bound)
            status = deflate(stream, Z_FINISH)
            count = status == Z_STREAM_END ? bound - Int(stream.pointee.avail_out) : 0
        }
        guard status == Z_STREAM_END else {
            throw ParquetError(.invalidArgument, "GZIP compression failed: \(zlibMessage(stream, status))")
        }
        return result
    }

    /// A raw LZ4 block, after an 8-byte Hadoop frame header (decompressed then compressed size,
    /// big-endian) when `headerBytes` is 8.
    private func compressLZ4Block(_ input: UnsafeRawBufferPointer, headerBytes: Int) throws -> [UInt8] {
        guard input.count <= Int(LZ4_MAX_INPUT_SIZE) else {
            throw ParquetError(.invalidArgument, "LZ4: pages over \(LZ4_MAX_INPUT_SIZE) bytes are not supported")
        }
        let bound = Int(LZ4_compressBound(Int32(input.count)))
        let result = [UInt8](unsafeUninitializedCapacity: headerBytes + bound) { buffer, count in
            guard let base = buffer.baseAddress else { return }
            // The buffer holds headerBytes + LZ4_compressBound(input.count) bytes, LZ4's own bound.
            let written = LZ4_compress_default(input.base(or: emptyInput).assumingMemoryBound(to: CChar.self),
                                               UnsafeMutableRawPointer(base + headerBytes).assumingMemoryBound(to: CChar.self),
                                               Int32(input.count), Int32(bound))
            guard written > 0 else { return }
            if headerBytes == 8 {
                UnsafeMutableRawPointer(base).storeBytes(of: UInt32(input.count).bigEndian, as: UInt32.self)
                UnsafeMutableRawPointer(base + 4).storeBytes(of: UInt32(written).bigEndian, as: UInt32.self)
            }
            count = headerBytes + Int(written)
        }
        guard result.count > headerBytes else { throw ParquetError(.invalidArgument, "LZ4 compression failed") }
        return result
    }

    private func zstdCompressionContext() throws -> OpaquePointer {
        if let zstdContext { return zstdContext }
        guard let context = ZSTD_createCCtx() else {
            throw ParquetError(.invalidArgument, "ZSTD: cannot allocate a compression context")
        }
        zstdContext = context
        return context
    }

    /// The deflate stream, freshly reset; window bits 15 + 16 write the gzip format.
    private func readyDeflateStream() throws -> UnsafeMutablePointer<z_stream> {
        if let deflateStream {
            guard deflateReset(deflateStream) == Z_OK else {
                throw ParquetError(.invalidArgument, "GZIP: cannot reset the deflate stream")
            }
            return deflateStream
        }
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let status = deflateInit2_(stream, gzipLevel, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY,
                                   ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else {
            stream.deallocate()
            throw ParquetError(.invalidArgument, "GZIP: cannot initialise deflate at level \(gzipLevel) (status \(status))")
        }
        deflateStream = stream
        return stream
    }
}
