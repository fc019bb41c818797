/// Small helpers shared by the codec adapters: C libraries reject NULL pointers even for zero
/// lengths, and every size crossing into C must fit the library's integer type.

extension UnsafeRawBufferPointer {
    /// The base address, or `fallback` when the buffer is empty (and may have no address).
    @inline(__always)
    func base(or fallback: UnsafeMutableRawPointer) -> UnsafeRawPointer {
        baseAddress ?? UnsafeRawPointer(fallback)
    }
}

extension UnsafeMutableRawBufferPointer {
    /// The base address, or `fallback` when the buffer is empty (and may have no address).
    @inline(__always)
    func base(or fallback: UnsafeMutableRawPointer) -> UnsafeMutableRawPointer {
        baseAddress ?? fallback
    }
}

/// A decompression failure for `codec`, in the form every adapter reports it.
@inline(__always)
func decompressionError(_ codec: CompressionCodec, _ message: String) -> ParquetError {
    ParquetError(.decompression, "\(codec): \(message)")
}

/// LZO and BROTLI: valid Parquet codecs this module does not implement.
func unsupportedCodec(_ codec: CompressionCodec) -> ParquetError {
    ParquetError(.unsupported, "compression codec \(codec) is not supported")
}

/// Reads a big-endian UInt32 at `offset`; the caller guarantees `offset + 4 <= bytes.count`.
@inline(__always)
func loadBigEndianUInt32(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> UInt32 {
    // Invariant: offset + 4 <= bytes.count (checked by every caller).
    UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
}
