/// Encoder of the RLE / bit-packing hybrid that emits the same runs as parquet-cpp: values are
/// taken in groups of 8; a group of 8 equal values starts a repeated run that lasts as long as the
/// value does; other groups are bit-packed into literal runs of at most 63 groups (so the literal
/// header fits one byte). At the end, leftover values that are all equal and follow no literal run
/// become a short repeated run; otherwise they are zero-padded into a final literal group.
struct RLEHybridEncoder {
    let bitWidth: Int
    private var output: [UInt8] = []
    private var buffered: [UInt32] = []
    private var currentValue: UInt32 = 0
    /// Consecutive copies of `currentValue`, counted from the start of the buffered group.
    private var repeatCount = 0
    /// Values in the literal run being written (whose header byte is reserved at `literalHeaderIndex`).
    private var literalCount = 0
    private var literalHeaderIndex: Int? = nil

    private static let maxLiteralGroups = 63

    init(bitWidth: Int) {
        precondition((0...32).contains(bitWidth), "RLE bit width must be in 0...32")
        self.bitWidth = bitWidth
        buffered.reserveCapacity(8)
    }

    /// Appends `count` copies of `value` (which must fit in `bitWidth` bits).
    mutating func append(_ value: UInt32, count: Int = 1) {
        assert(bitWidth == 32 || value >> UInt32(bitWidth) == 0, "value \(value) wider than \(bitWidth) bits")
        var left = count
        while left > 0 {
            if value == currentValue && repeatCount >= 8 {
                // Continuing a repeated run: nothing to buffer.
                repeatCount += left
                return
            }
            put(value)
            left -= 1
        }
    }

    /// Flushes what is pending and returns the encoded runs (no length prefix).
    mutating func finish() -> [UInt8] {
        if literalCount > 0 || repeatCount > 0 || !buffered.isEmpty {
            let allRepeat = literalCount == 0 && (repeatCount == buffered.count || buffered.isEmpty)
            if repeatCount > 0 && allRepeat {
                flushRepeatedRun()
            } else {
                if !buffered.isEmpty {
                    while buffered.count < 8 { buffered.append(0) }
                }
                literalCount += buffered.count
                flushLiteralRun(closing: true)
                repeatCount = 0
            }
        }
        let result = output
        output = []
        buffered.removeAll(keepingCapacity: true)
        currentValue = 0
        repeatCount = 0
        literalCount = 0
        literalHeaderIndex = nil
        return result
    }

    private mutating func put(_ value: UInt32) {
        if value == currentValue {
            repeatCount += 1
        } else {
            if repeatCount >= 8 { flushRepeatedRun() }
            repeatCount = 1
            currentValue = value
        }
        buffered.append(value)
        if buffered.count == 8 { flushBufferedGroup() }
    }

    private mutating func flushBufferedGroup() {
        if repeatCount >= 8 {
            // The group is the start of a repeated run; close any literal run before it.
            buffered.removeAll(keepingCapacity: true)
            if literalCount > 0 { flushLiteralRun(closing: true) }
            return
        }
        literalCount += buffered.count
        let groups = (literalCount + 7) / 8
        flushLiteralRun(closing: groups >= Self.maxLiteralGroups)
        repeatCount = 0
    }

    private mutating func flushLiteralRun(closing: Bool) {
        if literalHeaderIndex == nil {
            literalHeaderIndex = output.count
            output.append(0)
        }
        packBits(buffered.lazy.map { UInt64($0) }, bitWidth: bitWidth, into: &output)
        buffered.removeAll(keepingCapacity: true)
        if closing, let headerIndex = literalHeaderIndex {
            let groups = (literalCount + 7) / 8
            output[headerIndex] = UInt8(truncatingIfNeeded: groups << 1 | 1)
            literalHeaderIndex = nil
            literalCount = 0
        }
    }

    private mutating func flushRepeatedRun() {
        var left = repeatCount
        while left > 0 {
            let n = min(left, Int(Int32.max))
            VarintWriter.appendULEB128(UInt64(n) << 1, to: &output)
            for b in 0..<((bitWidth + 7) / 8) {
                output.append(UInt8(truncatingIfNeeded: currentValue >> UInt32(8 * b)))
            }
            left -= n
        }
        buffered.removeAll(keepingCapacity: true)
        repeatCount = 0
    }
}
