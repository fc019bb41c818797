import Testing
import SluiceTestSupport
@testable import Parquet

@Suite struct EncodingsRLEHybridTests {
    /// A stream built by hand from the grammar in Encodings.md: an RLE run, a bit-packed run (the
    /// spec's width-3 example) and an RLE run with a two-byte varint header.
    static let handBuilt: [UInt8] = [
        0x0A, 0x04,                   // rle-header varint(5 << 1), value 4
        0x03, 0x88, 0xC6, 0xFA,       // bit-packed-header varint(1 << 1 | 1), 0...7 at 3 bits
        0xD8, 0x04, 0x07,             // rle-header varint(300 << 1), value 7
    ]
    static let handBuiltValues: [UInt32] = Array(repeating: 4, count: 5) + Array(0...7) + Array(repeating: 7, count: 300)

    @Test func decodesHandBuiltStream() throws {
        #expect(try decodeRLE(Self.handBuilt, bitWidth: 3, count: 313) == Self.handBuiltValues)
        #expect(try decodeAllRuns(Self.handBuilt, bitWidth: 3) == Self.handBuiltValues)
    }

    @Test func decodesIntoOtherIntegerTypes() throws {
        func decode<T: FixedWidthInteger>(_: T.Type) throws -> [T] {
            var out = [T](repeating: 0, count: 313)
            try Self.handBuilt.withUnsafeBytes { raw in
                var decoder = try RLEHybridDecoder(raw, bitWidth: 3)
                try out.withUnsafeMutableBufferPointer { try decoder.decode(into: $0) }
            }
            return out
        }
        let expected = Self.handBuiltValues.map { Int($0) }
        #expect(try decode(UInt8.self).map { Int($0) } == expected)
        #expect(try decode(Int16.self).map { Int($0) } == expected)
        #expect(try decode(Int32.self).map { Int($0) } == expected)
        #expect(try decode(UInt64.self).map { Int($0) } == expected)
    }

    @Test func decodeInPiecesAcrossRunBoundaries() throws {
        for piece in [1, 3, 7, 8, 13, 100] {
            var got: [UInt32] = []
            try Self.handBuilt.withUnsafeBytes { raw in
                var decoder = try RLEHybridDecoder(raw, bitWidth: 3)
                while got.count < 313 {
                    var chunk = [UInt32](repeating: 0, count: min(piece, 313 - got.count))
                    try chunk.withUnsafeMutableBufferPointer { try decoder.decode(into: $0) }
                    got += chunk
                }
                #expect(try decoder.nextRun(maxValues: 1) == nil)
            }
            #expect(got == Self.handBuiltValues, "pieces of \(piece)")
        }
    }

    @Test func nextRunSplitsLongRuns() throws {
        try Self.handBuilt.withUnsafeBytes { raw in
            var decoder = try RLEHybridDecoder(raw, bitWidth: 3)
            guard case .repeated(4, 3)? = try decoder.nextRun(maxValues: 3) else { Issue.record("first piece"); return }
            guard case .repeated(4, 2)? = try decoder.nextRun(maxValues: 3) else { Issue.record("second piece"); return }
            guard case .bitPacked(let bytes, 0, 5)? = try decoder.nextRun(maxValues: 5) else { Issue.record("packed"); return }
            #expect(Array(bytes) == [0x88, 0xC6, 0xFA])
            guard case .bitPacked(_, 5, 3)? = try decoder.nextRun(maxValues: 5) else { Issue.record("packed rest"); return }
            guard case .repeated(7, 300)? = try decoder.nextRun(maxValues: 1000) else { Issue.record("last"); return }
            #expect(try decoder.nextRun(maxValues: 1) == nil)
        }
    }

    /// At width 8 a bit-packed run's values are its bytes, which the tensor path reads directly.
    @Test func width8BitPackedRunExposesBytes() throws {
        let stream: [UInt8] = [0x05] + Array(10..<26)  // 2 groups, 16 one-byte values
        try stream.withUnsafeBytes { raw in
            var decoder = try RLEHybridDecoder(raw, bitWidth: 8)
            _ = try decoder.nextRun(maxValues: 3)
            guard case .bitPacked(let bytes, let first, let count)? = try decoder.nextRun(maxValues: 100) else {
                Issue.record("expected a bit-packed run"); return
            }
            #expect(Array(bytes[first..<(first + count)]) == Array(13..<26))
        }
        var out = [UInt8](repeating: 0, count: 16)
        try stream.withUnsafeBytes { raw in
            var decoder = try RLEHybridDecoder(raw, bitWidth: 8)
            try out.withUnsafeMutableBufferPointer { try decoder.decode(into: $0) }
        }
        #expect(out == Array(10..<26))
    }

    // MARK: pyarrow (parquet-cpp) pages

    @Test func pyarrowOptionalDefinitionLevels() throws {
        let expected = PyarrowVectors.optionalDefinitionLevelValues.map { UInt32($0) }
        #expect(try decodeRLE(PyarrowVectors.optionalDefinitionLevels, bitWidth: 1, count: expected.count) == expected)
        #expect(encodeRLE(expected, bitWidth: 1) == PyarrowVectors.optionalDefinitionLevels)
    }

    @Test func pyarrowListLevels() throws {
        let reps = PyarrowVectors.listRepetitionLevelValues.map { UInt32($0) }
        let defs = PyarrowVectors.listDefinitionLevelValues.map { UInt32($0) }
        #expect(try decodeRLE(PyarrowVectors.listRepetitionLevels, bitWidth: 1, count: reps.count) == reps)
        #expect(try decodeRLE(PyarrowVectors.listDefinitionLevels, bitWidth: 2, count: defs.count) == defs)
        #expect(encodeRLE(reps, bitWidth: 1) == PyarrowVectors.listRepetitionLevels)
        #expect(encodeRLE(defs, bitWidth: 2) == PyarrowVectors.listDefinitionLevels)
    }

    @Test func pyarrowDictionaryIndices() throws {
        let width = PyarrowVectors.dictionaryIndexBitWidth
        let expected = PyarrowVectors.dictionaryIndices
        #expect(width == 5)
        #expect(try decodeRLE(PyarrowVectors.dictionaryIndicesRuns, bitWidth: width, count: expected.count) == expected)
        #expect(encodeRLE(expected, bitWidth: width) == PyarrowVectors.dictionaryIndicesRuns)
    }

    @Test func pyarrowRLEBooleans() throws {
        let page = PyarrowVectors.rleBooleanPage
        let length = Int(page[0]) | Int(page[1]) << 8 | Int(page[2]) << 16 | Int(page[3]) << 24
        #expect(length == page.count - 4)
        let runs = Array(page[4...])
        let expected = PyarrowVectors.booleanValues.map { UInt32($0 ? 1 : 0) }
        #expect(try decodeRLE(runs, bitWidth: 1, count: expected.count) == expected)
        #expect(encodeRLE(expected, bitWidth: 1) == runs)
    }

    // MARK: truncated final groups

    /// A writer that trims the zero padding of the last group: the values that are present decode.
    @Test func trimmedPaddingOfLastGroupStillDecodes() throws {
        let values: [UInt32] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]
        let full = encodeRLE(values, bitWidth: 5)  // header + 2 groups × 5 bytes
        #expect(full.count == 11)
        // 13 values × 5 bits = 65 bits = 9 bytes after the header.
        #expect(try decodeRLE(Array(full.prefix(10)), bitWidth: 5, count: 13) == values)
        // 8 bytes hold 12 whole values: 12 decode, the 13th is truncated.
        #expect(try decodeRLE(Array(full.prefix(9)), bitWidth: 5, count: 12) == Array(values.prefix(12)))
        #expect(threwParquetError { _ = try decodeRLE(Array(full.prefix(9)), bitWidth: 5, count: 13) })
        // Missing more than the last group's bytes is a truncated run.
        #expect(threwParquetError { _ = try decodeRLE(Array(full.prefix(6)), bitWidth: 5, count: 1) })
    }

    /// pyarrow's 700 indices end in a literal run of 49 groups (392 values, 245 bytes) holding the last
    /// 391 indices and one padding value. Cut its last byte and 390 whole values remain in the run:
    /// the stream still yields 699 indices, and asking for 700 is `.truncated`.
    @Test func pyarrowIndicesWithCutLastGroup() throws {
        let runs = PyarrowVectors.dictionaryIndicesRuns
        let expected = PyarrowVectors.dictionaryIndices
        #expect(runs[runs.count - 246] == 49 << 1 | 1)  // the last run's header
        let cut = Array(runs.dropLast())
        #expect(try decodeRLE(cut, bitWidth: 5, count: 699) == Array(expected.prefix(699)))
        #expect(try decodeAllRuns(cut, bitWidth: 5) == Array(expected.prefix(699)))
        #expect(threwParquetError { _ = try decodeRLE(cut, bitWidth: 5, count: 700) })
    }

    // MARK: encoder

    @Test func encoderRoundTrips() throws {
        var rng = SplitMix64(seed: 77)
        for bitWidth in [0, 1, 2, 3, 5, 8, 12, 17, 31, 32] {
            var values: [UInt32] = []
            while values.count < 3000 {
                let value = UInt32(truncatingIfNeeded: rng.next() & lowBitsMask(bitWidth))
                let run = rng.next() % 4 == 0 ? Int(rng.next() % 40) : 1
                values += repeatElement(value, count: run)
            }
            let encoded = encodeRLE(values, bitWidth: bitWidth)
            #expect(try decodeRLE(encoded, bitWidth: bitWidth, count: values.count) == values, "width \(bitWidth)")
        }
    }

    /// Long bit-packed runs into narrower and wider integer types, in misaligned pieces (the scratch
    /// and group-boundary paths of `unpack`).
    @Test func bitPackedRunsIntoOtherTypesInPieces() throws {
        var rng = SplitMix64(seed: 12)
        let values = (0..<1500).map { _ in UInt32(truncatingIfNeeded: rng.next() & 0xFFF) }
        let encoded = encodeRLE(values, bitWidth: 12)
        func decode<T: FixedWidthInteger>(_: T.Type, piece: Int) throws -> [Int] {
            var got: [Int] = []
            try encoded.withUnsafeBytes { raw in
                var decoder = try RLEHybridDecoder(raw, bitWidth: 12)
                while got.count < values.count {
                    var chunk = [T](repeating: 0, count: min(piece, values.count - got.count))
                    try chunk.withUnsafeMutableBufferPointer { try decoder.decode(into: $0) }
                    got += chunk.map { Int($0) }
                }
            }
            return got
        }
        for piece in [5, 37, 300, 1500] {
            #expect(try decode(UInt16.self, piece: piece) == values.map { Int($0) })
            #expect(try decode(Int64.self, piece: piece) == values.map { Int($0) })
        }
    }

    @Test func encoderUsesRepeatedRunsForLongRepeats() {
        var encoder = RLEHybridEncoder(bitWidth: 4)
        encoder.append(9, count: 1_000_000)
        #expect(encoder.finish() == [0x80, 0x89, 0x7A, 0x09])  // varint(1_000_000 << 1), value 9
    }

    // MARK: malformed input

    @Test func malformedStreamsThrow() {
        #expect(threwParquetError { _ = try decodeRLE([0x02, 0x09], bitWidth: 3, count: 1) })   // value wider than 3 bits
        #expect(threwParquetError { _ = try decodeRLE([0x00, 0x01], bitWidth: 3, count: 1) })   // zero-length RLE run
        #expect(threwParquetError { _ = try decodeRLE([0x01], bitWidth: 3, count: 1) })         // zero groups
        #expect(threwParquetError { _ = try decodeRLE([0x02], bitWidth: 3, count: 1) })         // value missing
        #expect(threwParquetError { _ = try decodeRLE([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01], bitWidth: 1, count: 1) })
        #expect(threwParquetError { _ = try decodeRLE([0x0A, 0x04], bitWidth: 3, count: 6) })   // fewer values than asked
        #expect(threwParquetError { _ = try decodeRLE([], bitWidth: 3, count: 1) })
        #expect(threwParquetError { _ = try decodeRLE([0x02, 0x00], bitWidth: 33, count: 1) })
        #expect(threwParquetError {
            var out = [UInt8](repeating: 0, count: 1)
            try [UInt8]([0x02, 0x00, 0x00]).withUnsafeBytes { raw in
                var decoder = try RLEHybridDecoder(raw, bitWidth: 9)
                try out.withUnsafeMutableBufferPointer { try decoder.decode(into: $0) }
            }
        })
    }

    @Test func emptyOutputNeedsNoData() throws {
        #expect(try decodeRLE([], bitWidth: 3, count: 0) == [])
    }
}
