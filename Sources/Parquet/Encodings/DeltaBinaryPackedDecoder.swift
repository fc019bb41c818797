/// DELTA_BINARY_PACKED decoder (INT32 and INT64; also the lengths inside DELTA_LENGTH_BYTE_ARRAY
/// and DELTA_BYTE_ARRAY). Values are produced as Int64 with wrapping arithmetic; an INT32 column
/// narrows them with `Int32(truncatingIfNeeded:)`, which gives the 32-bit wrapped result.
///
/// Layout: `<block size> <miniblocks per block> <total count> <first value (zigzag)>` then blocks of
/// `<min delta (zigzag)> <one bit width byte per miniblock> <miniblocks>`. Only miniblocks that hold
/// needed values are read, so the garbage widths and absent bodies of the trailing unused
/// miniblocks of the last block are never touched.
struct DeltaBinaryPackedDecoder {
    /// Largest accepted block size (parquet-java writes 128, parquet-cpp 128 or 256). It bounds how
    /// many values a byte of input can declare (zero-width miniblocks), and so what a page can make us allocate.
    static let maxBlockSize = 1 << 16

    let blockSize: Int
    let miniblocksPerBlock: Int
    let valuesPerMiniblock: Int
    /// Number of values the header declares (the first value included).
    let totalValueCount: Int
    private let firstValue: Int64

    private var cursor: ByteCursor
    private var valuesRead = 0
    private var lastValue: Int64 = 0
    private var minDelta: Int64 = 0
    /// Offset of the current block's bit-width bytes.
    private var widthsOffset = 0
    /// Index of the next miniblock to open in the current block (== miniblocksPerBlock: a new block is due).
    private var nextMiniblock: Int
    private var miniblockWidth = 0
    private var miniblockPosition = 0
    private var miniblockAvailable = 0
    private var scratch: [UInt64] = []

    /// Offset just past the header or the last miniblock read: once every value has been decoded,
    /// where the data that follows the encoded integers begins.
    var bytesConsumed: Int { cursor.position }

    /// Values not yet returned by `decode`.
    var remainingValueCount: Int { totalValueCount - valuesRead }

    init(_ data: UnsafeRawBufferPointer) throws {
        var cursor = ByteCursor(data)
        let blockSize = try cursor.readULEB128("DELTA_BINARY_PACKED block size")
        let miniblocks = try cursor.readULEB128("DELTA_BINARY_PACKED miniblock count")
        let total = try cursor.readULEB128("DELTA_BINARY_PACKED value count")
        firstValue = try cursor.readZigZag("DELTA_BINARY_PACKED first value")

        guard blockSize > 0, blockSize % 128 == 0 else {
            throw ParquetError.corruptPage("DELTA_BINARY_PACKED block size \(blockSize) is not a positive multiple of 128")
        }
        guard blockSize <= UInt64(Self.maxBlockSize) else {
            throw ParquetError.unsupported("DELTA_BINARY_PACKED block size \(blockSize) exceeds \(Self.maxBlockSize)")
        }
        guard miniblocks > 0, blockSize % miniblocks == 0, (blockSize / miniblocks) % 32 == 0 else {
            throw ParquetError.corruptPage(
                "DELTA_BINARY_PACKED: \(miniblocks) miniblocks do not split a block of \(blockSize) into multiples of 32")
        }
        self.blockSize = Int(blockSize)
        self.miniblocksPerBlock = Int(miniblocks)
        self.valuesPerMiniblock = Int(blockSize / miniblocks)

        // Every block of deltas costs at least its min delta byte and its bit-width bytes.
        guard total <= UInt64(Int32.max) else {
            throw ParquetError.corruptPage("DELTA_BINARY_PACKED value count \(total) exceeds a page's Int32 limit")
        }
        let totalCount = Int(total)
        let deltas = max(totalCount - 1, 0)
        let blocks = (deltas + self.blockSize - 1) / self.blockSize
        guard blocks <= cursor.remaining / (1 + self.miniblocksPerBlock) else {
            throw ParquetError.truncated(
                "DELTA_BINARY_PACKED declares \(totalCount) values (\(blocks) blocks), only \(cursor.remaining) bytes follow the header")
        }
        self.totalValueCount = totalCount
        self.nextMiniblock = self.miniblocksPerBlock
        self.cursor = cursor
    }

    /// The next `count` values. Asking for more than `remainingValueCount` is `.corruptPage`.
    mutating func decode(count: Int) throws -> [Int64] {
        guard count >= 0 else { throw ParquetError(.invalidArgument, "negative value count \(count)") }
        guard count <= remainingValueCount else {
            throw ParquetError.corruptPage(
                "DELTA_BINARY_PACKED holds \(remainingValueCount) more values, \(count) requested")
        }
        var result: [Int64] = []
        // Grow with what is actually decoded: zero-width miniblocks make huge counts cheap to declare.
        result.reserveCapacity(min(count, 1 << 16))
        guard count > 0 else { return result }
        if valuesRead == 0 {
            lastValue = firstValue
            result.append(firstValue)
            valuesRead = 1
        }
        while result.count < count {
            if miniblockPosition == miniblockAvailable { try openNextMiniblock() }
            let n = min(count - result.count, miniblockAvailable - miniblockPosition)
            var value = lastValue
            if miniblockWidth == 0 {
                for _ in 0..<n {
                    value = value &+ minDelta
                    result.append(value)
                }
            } else {
                scratch.withUnsafeBufferPointer { deltas in
                    for i in miniblockPosition..<(miniblockPosition + n) {
                        value = value &+ minDelta &+ Int64(bitPattern: deltas[i])
                        result.append(value)
                    }
                }
            }
            lastValue = value
            miniblockPosition += n
            valuesRead += n
        }
        return result
    }

    /// Reads the next miniblock that holds needed values (and the block header before it if due).
    private mutating func openNextMiniblock() throws {
        if nextMiniblock == miniblocksPerBlock {
            minDelta = try cursor.readZigZag("DELTA_BINARY_PACKED min delta")
            widthsOffset = cursor.position
            try cursor.skip(miniblocksPerBlock)
            nextMiniblock = 0
        }
        let width = Int(cursor.data[widthsOffset + nextMiniblock])
        guard width <= 64 else {
            throw ParquetError.corruptPage("DELTA_BINARY_PACKED miniblock bit width \(width) exceeds 64")
        }
        nextMiniblock += 1
        let needed = min(valuesPerMiniblock, totalValueCount - valuesRead)
        // The whole miniblock is present, padding included (valuesPerMiniblock is a multiple of 8).
        let body = try cursor.readBytes(valuesPerMiniblock / 8 * width)
        if width > 0 {
            if scratch.count < needed { scratch = [UInt64](repeating: 0, count: needed) }
            try scratch.withUnsafeMutableBufferPointer { out in
                guard let base = out.baseAddress else { return }
                try unpackBits64(body, bitWidth: width, count: needed, into: base)
            }
        }
        miniblockWidth = width
        miniblockPosition = 0
        miniblockAvailable = needed
    }
}
