/// DELTA_BINARY_PACKED encoder laid out like parquet-cpp's: per block, the min delta over the
/// block's deltas, each used miniblock packed at the width of its largest (delta - min delta) and
/// zero-padded to full length, zero widths (and no bodies) for unused miniblocks of the last block.
struct DeltaBinaryPackedEncoder {
    /// INT64 values: deltas wrap at 64 bits.
    static func encode(_ values: [Int64], blockSize: Int = 128, miniblocks: Int = 4) -> [UInt8] {
        encode(values, blockSize: blockSize, miniblocks: miniblocks, valueBits: 64)
    }

    /// INT32 values: deltas wrap at 32 bits, so no miniblock needs more than 32 bits.
    static func encode(int32 values: [Int32], blockSize: Int = 128, miniblocks: Int = 4) -> [UInt8] {
        encode(values.map { Int64($0) }, blockSize: blockSize, miniblocks: miniblocks, valueBits: 32)
    }

    private static func encode(_ values: [Int64], blockSize: Int, miniblocks: Int, valueBits: Int) -> [UInt8] {
        precondition(blockSize > 0 && blockSize % 128 == 0, "block size must be a positive multiple of 128")
        precondition(miniblocks > 0 && blockSize % miniblocks == 0 && (blockSize / miniblocks) % 32 == 0,
                     "miniblocks must split the block into multiples of 32 values")
        let perMiniblock = blockSize / miniblocks
        var out: [UInt8] = []
        VarintWriter.appendULEB128(UInt64(blockSize), to: &out)
        VarintWriter.appendULEB128(UInt64(miniblocks), to: &out)
        VarintWriter.appendULEB128(UInt64(values.count), to: &out)
        VarintWriter.appendZigZag(values.first ?? 0, to: &out)
        guard values.count > 1 else { return out }

        // Deltas as signed values of the column's width (wrapped), sign-extended to Int64.
        var deltas = [Int64](repeating: 0, count: values.count - 1)
        for i in 1..<values.count {
            let delta = values[i] &- values[i - 1]
            deltas[i - 1] = valueBits == 32 ? Int64(Int32(truncatingIfNeeded: delta)) : delta
        }
        var adjusted = [UInt64](repeating: 0, count: perMiniblock)
        var blockStart = 0
        while blockStart < deltas.count {
            let blockEnd = min(blockStart + blockSize, deltas.count)
            let minDelta = deltas[blockStart..<blockEnd].min() ?? 0
            VarintWriter.appendZigZag(minDelta, to: &out)
            let widthsAt = out.count
            out.append(contentsOf: repeatElement(0, count: miniblocks))
            var start = blockStart
            var miniblock = 0
            while start < blockEnd {
                let end = min(start + perMiniblock, blockEnd)
                var widest: UInt64 = 0
                for j in start..<end {
                    // delta >= minDelta, so the unsigned difference is exact.
                    let value = UInt64(bitPattern: deltas[j] &- minDelta)
                    adjusted[j - start] = value
                    widest |= value
                }
                for j in (end - start)..<perMiniblock { adjusted[j] = 0 }
                let width = 64 - widest.leadingZeroBitCount
                out[widthsAt + miniblock] = UInt8(width)
                packBits(adjusted, bitWidth: width, into: &out)
                start = end
                miniblock += 1
            }
            blockStart = blockEnd
        }
        return out
    }
}
