import Testing
import SluiceTestSupport
@testable import Parquet

/// Random, truncated and mutated inputs for every decoder: each call must throw a ParquetError or
/// return a well-formed result — never crash, hang or allocate without bound. Seeded and bounded.
@Suite struct EncodingsFuzzTests {
    static let validStreams: [[UInt8]] = [
        PyarrowVectors.deltaInt32Page, PyarrowVectors.deltaInt64Page, PyarrowVectors.deltaInt32Page129,
        PyarrowVectors.deltaLengthByteArrayPage, PyarrowVectors.deltaByteArrayPage, PyarrowVectors.plainByteArrayPage,
        PyarrowVectors.dictionaryIndicesRuns, PyarrowVectors.optionalDefinitionLevels, PyarrowVectors.listDefinitionLevels,
        PyarrowVectors.byteStreamSplitFloatPage, PyarrowVectors.plainBooleanPage, PyarrowVectors.plainInt32Page,
    ]

    /// Runs every decoder over `bytes` with parameters drawn from `rng`; returns how many returned.
    @discardableResult
    static func exercise(_ bytes: [UInt8], _ rng: inout SplitMix64) -> Int {
        var succeeded = 0
        func attempt(_ body: () throws -> Void) -> Bool {
            let ok = throwsOrSucceeds(body)
            if ok { succeeded += 1 }
            return ok
        }
        let count = Int(rng.next() % 700)
        let width = Int(rng.next() % 34)
        bytes.withUnsafeBytes { raw in
            // RLE / bit-packed hybrid: whole decode into two integer types.
            var out32 = [UInt32](repeating: 0, count: count)
            if attempt({
                var decoder = try RLEHybridDecoder(raw, bitWidth: width)
                try out32.withUnsafeMutableBufferPointer { try decoder.decode(into: $0) }
            }), width <= 32 {
                let limit: UInt64 = width == 32 ? UInt64(UInt32.max) : (1 << UInt64(width)) - 1
                #expect(out32.allSatisfy { UInt64($0) <= limit })
            }
            var out8 = [UInt8](repeating: 0, count: count)
            _ = attempt {
                var decoder = try RLEHybridDecoder(raw, bitWidth: min(width, 8))
                try out8.withUnsafeMutableBufferPointer { try decoder.decode(into: $0) }
            }
            // Run by run with small pieces, unpacking each bit-packed piece.
            _ = attempt {
                var decoder = try RLEHybridDecoder(raw, bitWidth: width)
                var total = 0
                var scratch = [UInt32](repeating: 0, count: 64)
                while total < 100_000, let run = try decoder.nextRun(maxValues: 1 + Int(rng.next() % 64)) {
                    if case .bitPacked(let packed, let first, let n) = run {
                        try scratch.withUnsafeMutableBufferPointer {
                            try RLEHybridDecoder.unpack(packed, bitWidth: width, firstValue: first, count: n, into: $0.baseAddress!)
                        }
                    }
                    total += run.count
                }
            }
            // Bit unpacking.
            _ = attempt {
                var out = [UInt64](repeating: 0, count: count)
                try out.withUnsafeMutableBufferPointer { try unpackBits64(raw, bitWidth: width * 2, count: count, into: $0.baseAddress!) }
            }
            // PLAIN.
            _ = attempt { let v = try PlainDecoder.booleans(raw, count: count); #expect(v.count == count) }
            _ = attempt { let v: [Int64] = try PlainDecoder.fixedWidth(raw, count: count); #expect(v.count == count) }
            _ = attempt { try checkBinary(PlainDecoder.byteArrays(raw, count: count), count: count) }
            _ = attempt { try checkBinary(PlainDecoder.fixedLenByteArrays(raw, width: width, count: count), count: count) }
            // Delta family.
            _ = attempt {
                var decoder = try DeltaBinaryPackedDecoder(raw)
                var decoded = 0
                while decoder.remainingValueCount > 0 && decoded < 200_000 {
                    let n = min(decoder.remainingValueCount, 1 + Int(rng.next() % 300))
                    let values = try decoder.decode(count: n)
                    #expect(values.count == n)
                    decoded += n
                }
                #expect(decoder.bytesConsumed <= raw.count)
            }
            _ = attempt { try checkBinary(DeltaLengthByteArrayDecoder.decode(raw, count: count), count: count) }
            _ = attempt { try checkBinary(DeltaByteArrayDecoder.decode(raw, count: count), count: count) }
            // BYTE_STREAM_SPLIT.
            _ = attempt { let v = try ByteStreamSplit.decode(raw, width: width, count: count); #expect(v.count == count * width) }
        }
        return succeeded
    }

    static func checkBinary(_ values: BinaryValues, count: Int) {
        #expect(values.count == count)
        #expect(values.offsets.first == 0 && values.offsets.last == values.bytes.count)
        #expect(zip(values.offsets, values.offsets.dropFirst()).allSatisfy { $0 <= $1 })
    }

    /// True if `body` returned; false if it threw a ParquetError; records an issue for other errors.
    static func throwsOrSucceeds(_ body: () throws -> Void) -> Bool {
        do {
            try body()
            return true
        } catch is ParquetError {
            return false
        } catch {
            Issue.record("non-Parquet error \(error)")
            return false
        }
    }

    @Test func randomBytes() {
        var rng = SplitMix64(seed: 0xF022)
        var succeeded = 0
        for _ in 0..<1500 {
            let length = Int(rng.next() % 96)
            var bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            if rng.next() % 2 == 0 {
                // A plausible DELTA_BINARY_PACKED header, so the fuzz reaches the blocks.
                var header: [UInt8] = [0x80, 0x01, [1, 2, 4][Int(rng.next() % 3)]]
                VarintWriter.appendULEB128(rng.next() % 400, to: &header)
                VarintWriter.appendZigZag(Int64(bitPattern: rng.next()) >> 40, to: &header)
                bytes = header + bytes
            }
            succeeded += Self.exercise(bytes, &rng)
        }
        #expect(succeeded > 1500)  // many inputs are accepted by some decoder, so the fuzz goes deep
    }

    @Test func truncatedValidStreams() {
        var rng = SplitMix64(seed: 0x7A11)
        for stream in Self.validStreams {
            for cut in stride(from: 0, to: stream.count, by: max(1, stream.count / 150)) {
                Self.exercise(Array(stream.prefix(cut)), &rng)
            }
        }
    }

    @Test func mutatedValidStreams() {
        var rng = SplitMix64(seed: 0x3377)
        var succeeded = 0
        for stream in Self.validStreams {
            for _ in 0..<120 {
                var bytes = stream
                for _ in 0..<(1 + Int(rng.next() % 4)) where !bytes.isEmpty {
                    bytes[Int(rng.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: rng.next())
                }
                succeeded += Self.exercise(bytes, &rng)
            }
        }
        #expect(succeeded > 1000)
    }

    /// Truncating valid delta pages anywhere must be reported, never yield the full value list.
    @Test func truncatedDeltaPagesThrow() {
        let page = PyarrowVectors.deltaInt32Page
        for cut in 0..<page.count {
            let prefix = Array(page.prefix(cut))
            let ok = Self.throwsOrSucceeds {
                try prefix.withUnsafeBytes { raw in
                    var decoder = try DeltaBinaryPackedDecoder(raw)
                    _ = try decoder.decode(count: decoder.totalValueCount)
                }
            }
            #expect(!ok, "prefix of \(cut) bytes decoded")
        }
    }
}
