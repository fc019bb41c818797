import Testing
import SluiceTestSupport
@testable import Parquet

@Suite struct EncodingsDeltaBinaryPackedTests {
    static func decodeAll(_ bytes: [UInt8]) throws -> (values: [Int64], consumed: Int) {
        try bytes.withUnsafeBytes { raw in
            var decoder = try DeltaBinaryPackedDecoder(raw)
            let values = try decoder.decode(count: decoder.totalValueCount)
            return (values, decoder.bytesConsumed)
        }
    }

    static func kind(_ body: () throws -> Void) -> ParquetError.Kind? {
        do { try body() } catch let error as ParquetError { return error.kind } catch { return nil }
        return nil
    }

    // MARK: Encodings.md examples

    /// The spec's examples use block size 8, which it calls invalid in real files: rejected.
    @Test func specExamplesWithBlockSize8AreRejected() {
        let example1: [UInt8] = [8, 1, 5, 2, /* block */ 2, 0]
        let example2: [UInt8] = [8, 1, 8, 14, /* block */ 3, 2, 0b1100_0000, 0b0011_1111]
        #expect(Self.kind { _ = try Self.decodeAll(example1) } == .corruptPage)
        #expect(Self.kind { _ = try Self.decodeAll(example2) } == .corruptPage)
    }

    /// Example 1 (1, 2, 3, 4, 5) with a valid block of 128 in 4 miniblocks of 32: deltas all 1, so
    /// min delta 1 and width 0. Widths of the three unused miniblocks are garbage with no bodies.
    @Test func specExample1WithValidBlock() throws {
        let bytes: [UInt8] = [0x80, 0x01, 4, 5, 2, /* block */ 2, 0, 0xFF, 0x41, 0x07]
        let (values, consumed) = try Self.decodeAll(bytes)
        #expect(values == [1, 2, 3, 4, 5])
        #expect(consumed == 10)
    }

    /// Example 2 (7, 5, 3, 1, 2, 3, 4, 5): min delta -2 (zigzag 3), relative deltas 0,0,0,3,3,3,3
    /// at 2 bits, the first miniblock padded to 32 values (8 bytes), garbage widths after it.
    @Test func specExample2WithValidBlock() throws {
        let miniblock: [UInt8] = [0b1100_0000, 0b0011_1111, 0, 0, 0, 0, 0, 0]
        let bytes: [UInt8] = [0x80, 0x01, 4, 8, 14, /* block */ 3, 2, 0xEE, 0x99, 0x42] + miniblock
        let (values, consumed) = try Self.decodeAll(bytes + [0xAB, 0xCD])  // trailing data is not read
        #expect(values == [7, 5, 3, 1, 2, 3, 4, 5])
        #expect(consumed == 18)

        // Padding bits may be arbitrary.
        let noisyPadding: [UInt8] = [0b1100_0000, 0b1111_1111, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]
        #expect(try Self.decodeAll(Array(bytes.prefix(10)) + noisyPadding).values == [7, 5, 3, 1, 2, 3, 4, 5])
        // The padding of the last miniblock used must be present.
        #expect(Self.kind { _ = try Self.decodeAll(Array(bytes.prefix(17))) } == .truncated)
    }

    @Test func headerOnlyStreams() throws {
        #expect(try Self.decodeAll([0x80, 0x01, 4, 0, 0]) == ([], 5))       // total count 0
        #expect(try Self.decodeAll([0x80, 0x01, 4, 1, 0x0D]) == ([-7], 5))  // one value, zigzag(-7) = 13
    }

    @Test func invalidHeadersThrow() {
        #expect(Self.kind { _ = try Self.decodeAll([0x80, 0x01, 3, 1, 0]) } == .corruptPage)    // 3 does not divide 128
        #expect(Self.kind { _ = try Self.decodeAll([0x80, 0x01, 8, 1, 0]) } == .corruptPage)    // 16 values per miniblock
        #expect(Self.kind { _ = try Self.decodeAll([0x80, 0x01, 0, 1, 0]) } == .corruptPage)
        #expect(Self.kind { _ = try Self.decodeAll([0, 1, 1, 0]) } == .corruptPage)
        #expect(Self.kind { _ = try Self.decodeAll([0x80, 0x01, 4]) } == .truncated)
        // Eleven-byte varint.
        #expect(Self.kind { _ = try Self.decodeAll([0x80, 0x01, 4, 2] + [UInt8](repeating: 0xFF, count: 10) + [0x01]) } == .corruptPage)
        // A total count of 2^60 throws instead of allocating.
        var huge: [UInt8] = [0x80, 0x01, 4]
        VarintWriter.appendULEB128(1 << 60, to: &huge)
        huge += [0, 2, 0, 0, 0, 0]
        #expect(Self.kind { _ = try Self.decodeAll(huge) } != nil)
        // A count the data cannot hold (each block needs min delta + widths) is truncated.
        #expect(Self.kind { _ = try Self.decodeAll([0x80, 0x01, 4, 0xC8, 0x01, 0, 2, 0, 0, 0, 0]) } == .truncated)
    }

    @Test func usedMiniblockWiderThan64BitsThrows() {
        #expect(Self.kind { _ = try Self.decodeAll([0x80, 0x01, 4, 3, 0, 0, 65, 0, 0, 0] + [UInt8](repeating: 0, count: 300)) } == .corruptPage)
    }

    @Test func askingForMoreThanDeclaredThrows() throws {
        try [UInt8]([0x80, 0x01, 4, 1, 0]).withUnsafeBytes { raw in
            var decoder = try DeltaBinaryPackedDecoder(raw)
            #expect(threwParquetError { _ = try decoder.decode(count: 2) })
            #expect(try decoder.decode(count: 1) == [0])
            #expect(try decoder.decode(count: 0) == [])
            #expect(threwParquetError { _ = try decoder.decode(count: 1) })
        }
    }

    // MARK: pyarrow (parquet-cpp) pages

    @Test func pyarrowInt32() throws {
        for (page, expected) in [(PyarrowVectors.deltaInt32Page, PyarrowVectors.deltaInt32Values),
                                 (PyarrowVectors.deltaInt32Page1, PyarrowVectors.deltaInt32Values1),
                                 (PyarrowVectors.deltaInt32Page129, PyarrowVectors.deltaInt32Values129)] {
            let (values, consumed) = try Self.decodeAll(page)
            #expect(values.map { Int32(truncatingIfNeeded: $0) } == expected)
            #expect(consumed == page.count)
            #expect(DeltaBinaryPackedEncoder.encode(int32: expected) == page)
        }
    }

    @Test func pyarrowInt64() throws {
        let page = PyarrowVectors.deltaInt64Page
        let (values, consumed) = try Self.decodeAll(page)
        #expect(values == PyarrowVectors.deltaInt64Values)
        #expect(consumed == page.count)
        // parquet-cpp uses blocks of 256 (4 miniblocks of 64) for INT64.
        #expect(page.prefix(3) == [0x80, 0x02, 4])
        #expect(DeltaBinaryPackedEncoder.encode(PyarrowVectors.deltaInt64Values, blockSize: 256) == page)
    }

    @Test func decodingInPiecesMatches() throws {
        let page = PyarrowVectors.deltaInt32Page
        let expected = PyarrowVectors.deltaInt32Values.map { Int64($0) }
        for piece in [1, 7, 31, 32, 33, 128, 129] {
            var got: [Int64] = []
            try page.withUnsafeBytes { raw in
                var decoder = try DeltaBinaryPackedDecoder(raw)
                while decoder.remainingValueCount > 0 {
                    got += try decoder.decode(count: min(piece, decoder.remainingValueCount))
                }
                #expect(decoder.bytesConsumed == page.count)
            }
            #expect(got.map { Int32(truncatingIfNeeded: $0) } == expected.map { Int32(truncatingIfNeeded: $0) }, "pieces of \(piece)")
        }
    }

    @Test func encoderRoundTrips() throws {
        var rng = SplitMix64(seed: 99)
        for (blockSize, miniblocks) in [(128, 4), (128, 1), (256, 8), (1024, 4)] {
            for count in [0, 1, 2, 31, 32, 33, 127, 128, 129, 1000] {
                let values: [Int64] = (0..<count).map { i in
                    switch rng.next() % 4 {
                    case 0: Int64(bitPattern: rng.next())
                    case 1: Int64(i)
                    default: Int64(rng.next() % 1000) - 500
                    }
                }
                let encoded = DeltaBinaryPackedEncoder.encode(values, blockSize: blockSize, miniblocks: miniblocks)
                let (decoded, consumed) = try Self.decodeAll(encoded)
                #expect(decoded == values, "\(blockSize)/\(miniblocks), \(count) values")
                #expect(consumed == encoded.count)
            }
        }
    }
}

@Suite struct EncodingsDeltaByteArrayTests {
    /// Encodings.md: "Hello", "World", "Foobar", "ABCDEF" → DeltaEncoding(5, 5, 6, 6) then the bytes.
    @Test func specDeltaLengthExample() throws {
        let bytes = DeltaBinaryPackedEncoder.encode([5, 5, 6, 6]) + Array("HelloWorldFoobarABCDEF".utf8)
        let values = try bytes.withUnsafeBytes { try DeltaLengthByteArrayDecoder.decode($0, count: 4) }
        #expect(decodedStrings(values) == ["Hello", "World", "Foobar", "ABCDEF"])
    }

    /// Encodings.md: "axis", "axle", "babble", "babyhood" → prefixes (0, 2, 0, 3), suffix lengths
    /// (4, 2, 6, 5), then "axislebabbleyhood".
    @Test func specDeltaStringsExample() throws {
        let bytes = DeltaBinaryPackedEncoder.encode([0, 2, 0, 3]) + DeltaBinaryPackedEncoder.encode([4, 2, 6, 5])
            + Array("axislebabbleyhood".utf8)
        let values = try bytes.withUnsafeBytes { try DeltaByteArrayDecoder.decode($0, count: 4) }
        #expect(decodedStrings(values) == ["axis", "axle", "babble", "babyhood"])
    }

    @Test func pyarrowDeltaLengthByteArray() throws {
        let expected = PyarrowVectors.byteArrayStrings
        let values = try PyarrowVectors.deltaLengthByteArrayPage.withUnsafeBytes {
            try DeltaLengthByteArrayDecoder.decode($0, count: expected.count)
        }
        #expect(decodedStrings(values) == expected)
    }

    @Test func pyarrowDeltaByteArray() throws {
        let expected = PyarrowVectors.byteArrayStrings
        let values = try PyarrowVectors.deltaByteArrayPage.withUnsafeBytes {
            try DeltaByteArrayDecoder.decode($0, count: expected.count)
        }
        #expect(decodedStrings(values) == expected)
    }

    @Test func malformedThrows() {
        func lengthArray(_ lengths: [Int64], _ tail: String, count: Int) -> Bool {
            let bytes = DeltaBinaryPackedEncoder.encode(lengths) + Array(tail.utf8)
            return threwParquetError { _ = try bytes.withUnsafeBytes { try DeltaLengthByteArrayDecoder.decode($0, count: count) } }
        }
        #expect(lengthArray([3, 4], "abcdef", count: 2))        // 7 bytes declared, 6 present
        #expect(lengthArray([3, -1], "abcdef", count: 2))       // negative length
        #expect(lengthArray([3], "abc", count: 2))              // fewer lengths than values
        #expect(!lengthArray([3, 3], "abcdef", count: 2))

        func deltaStrings(_ prefixes: [Int64], _ suffixes: [Int64], _ tail: String, count: Int) -> Bool {
            let bytes = DeltaBinaryPackedEncoder.encode(prefixes) + DeltaBinaryPackedEncoder.encode(suffixes) + Array(tail.utf8)
            return threwParquetError { _ = try bytes.withUnsafeBytes { try DeltaByteArrayDecoder.decode($0, count: count) } }
        }
        #expect(deltaStrings([1, 0], [2, 2], "abcd", count: 2))  // first value cannot share a prefix
        #expect(deltaStrings([0, 3], [2, 2], "abcd", count: 2))  // prefix longer than predecessor
        #expect(deltaStrings([0, -1], [2, 2], "abcd", count: 2))
        #expect(!deltaStrings([0, 2], [2, 2], "abcd", count: 2))
    }
}
