import CLZ4

extension Decompressor {
    /// LZ4_RAW: one raw LZ4 block.
    func decompressLZ4Raw(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws {
        let produced = lz4DecompressBlock(input, into: output)
        guard produced == output.count else {
            throw decompressionError(.lz4Raw, produced < 0
                ? "corrupt block, or it inflates to more than the \(output.count) bytes the page header declares"
                : "the block inflates to \(produced) bytes but the page header declares \(output.count)")
        }
    }

    /// LZ4 (deprecated codec 5), read the way parquet-cpp reads it: Hadoop framing first, then
    /// one raw LZ4 block (older parquet-cpp writers), then the LZ4 frame format.
    func decompressLZ4(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws {
        if decompressHadoopLZ4(input, into: output) { return }
        if lz4DecompressBlock(input, into: output) == output.count { return }
        if try decompressLZ4Frames(input, into: output) { return }
        throw decompressionError(.lz4, "the page is neither Hadoop-framed LZ4, a raw LZ4 block nor an LZ4 frame that inflates to the \(output.count) bytes its header declares")
    }

    /// Hadoop's framing: repeated [big-endian UInt32 decompressed size][big-endian UInt32
    /// compressed size][raw LZ4 block]. False when the page is not exactly that.
    private func decompressHadoopLZ4(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) -> Bool {
        var inputOffset = 0
        var outputOffset = 0
        while input.count - inputOffset >= 8 {
            let decompressedSize = Int(loadBigEndianUInt32(input, at: inputOffset))
            let compressedSize = Int(loadBigEndianUInt32(input, at: inputOffset + 4))
            inputOffset += 8
            guard compressedSize <= input.count - inputOffset,
                  decompressedSize <= output.count - outputOffset else { return false }
            let block = UnsafeRawBufferPointer(rebasing: input[inputOffset ..< inputOffset + compressedSize])
            let target = UnsafeMutableRawBufferPointer(rebasing: output[outputOffset ..< outputOffset + decompressedSize])
            guard lz4DecompressBlock(block, into: target) == decompressedSize else { return false }
            inputOffset += compressedSize
            outputOffset += decompressedSize
        }
        return inputOffset == input.count && outputOffset == output.count
    }

    /// One raw block into `output`: the number of bytes produced, or -1 when the block is corrupt
    /// or does not fit.
    private func lz4DecompressBlock(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) -> Int {
        guard input.count <= Int(Int32.max), output.count <= Int(Int32.max) else { return -1 }
        // LZ4_decompress_safe never reads past input.count nor writes past output.count.
        let produced = LZ4_decompress_safe(input.base(or: scratch).assumingMemoryBound(to: CChar.self),
                                           output.base(or: scratch).assumingMemoryBound(to: CChar.self),
                                           Int32(input.count), Int32(output.count))
        return Int(produced)
    }

    /// One or more LZ4 frames that together inflate to exactly `output.count` bytes. Once the
    /// output is full, the decoder writes to scratch: any byte landing there means "too long".
    private func decompressLZ4Frames(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws -> Bool {
        let context = try lz4DecompressionContext()
        LZ4F_resetDecompressionContext(context)
        let source = input.base(or: scratch)
        let destination = output.base(or: scratch)
        var inputOffset = 0
        var outputOffset = 0
        while true {
            let outputFull = outputOffset == output.count
            var consumed = input.count - inputOffset
            var produced = outputFull ? Self.scratchSize : output.count - outputOffset
            // LZ4F_decompress reads at most `consumed` and writes at most `produced` bytes: what is left of each buffer.
            let hint = LZ4F_decompress(context, outputFull ? scratch : destination + outputOffset, &produced,
                                       source + inputOffset, &consumed, nil)
            if LZ4F_isError(hint) != 0 || (outputFull && produced > 0) {
                LZ4F_resetDecompressionContext(context)
                return false
            }
            inputOffset += consumed
            outputOffset += produced
            if hint == 0 && inputOffset == input.count {
                return outputOffset == output.count
            }
            // A frame ended with more input left (the next frame starts), or the decoder needs
            // more input than there is: stop when a call makes no progress at all.
            if consumed == 0 && produced == 0 {
                LZ4F_resetDecompressionContext(context)
                return false
            }
        }
    }

    private func lz4DecompressionContext() throws -> OpaquePointer {
        if let lz4FrameContext { return lz4FrameContext }
        var context: OpaquePointer?
        let status = LZ4F_createDecompressionContext(&context, UInt32(LZ4F_VERSION))
        guard LZ4F_isError(status) == 0, let context else {
            throw decompressionError(.lz4, "cannot allocate an LZ4 frame decompression context")
        }
        lz4FrameContext = context
        return context
    }
}
