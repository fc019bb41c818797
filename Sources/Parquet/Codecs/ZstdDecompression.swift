import CZstd

extension Decompressor {
    /// Single-pass decompression straight into the page buffer. `ZSTD_decompressDCtx` needs only an
    /// upper bound on the output, so frames that do not record their content size, concatenated
    /// frames and skippable frames all work, and no window buffer is allocated for garbage headers.
    func decompressZstd(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws {
        let context = try zstdDecompressionContext()
        // ZSTD_decompressDCtx reads input.count bytes and writes at most output.count.
        let produced = ZSTD_decompressDCtx(context, output.base(or: scratch), output.count,
                                           input.base(or: scratch), input.count)
        if ZSTD_isError(produced) != 0 {
            let reason = String(cString: ZSTD_getErrorName(produced))
            throw decompressionError(.zstd, "\(reason) (page header declares \(output.count) bytes)")
        }
        guard produced == output.count else {
            throw decompressionError(.zstd, "the page inflates to \(produced) bytes but its header declares \(output.count)")
        }
    }

    private func zstdDecompressionContext() throws -> OpaquePointer {
        if let zstdContext { return zstdContext }
        guard let context = ZSTD_createDCtx() else {
            throw decompressionError(.zstd, "cannot allocate a decompression context")
        }
        zstdContext = context
        return context
    }
}
