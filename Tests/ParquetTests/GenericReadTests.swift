import Foundation
import Testing
@testable import Parquet

/// The generic reader: typed column buffers decoded in bulk per page, rows assembled lazily from them, and
/// `head` decoding only the pages its rows need. Expected values come from pyarrow
/// (Tests/Fixtures/generic/make_generic_fixtures.py).
@Suite("Generic reading")
struct GenericReadTests {
    static let directory = TestPaths.repository.appendingPathComponent("Tests/Fixtures/generic")
    static let variants = ["dictionary_v1_snappy", "plain_v1_uncompressed", "plain_v2_zstd", "dictionary_v2_gzip", "delta_v2_snappy"]

    static func path(_ variant: String) -> String {
        directory.appendingPathComponent("wide_\(variant).parquet").path
    }

    static func allRows(_ reader: ParquetFileReader) throws -> [[ParquetValue.Field]] {
        try (0..<reader.rowGroupCount).flatMap { try reader.readRows(rowGroup: $0) }
    }

    @Test("a wide table (every physical type, nested lists, structs, maps, nulls) reads as pyarrow reads it", arguments: variants)
    func wideTableMatchesPyarrow(_ variant: String) throws {
        let text = try String(contentsOfFile: Self.directory.appendingPathComponent("wide_expected.json").path, encoding: .utf8)
        let reader = try ParquetFileReader(path: Self.path(variant))
        #expect(reader.rowGroupCount > 1)
        let rows = try Self.allRows(reader)
        let mismatches = try ExpectedRendering.mismatches(rows, expectedJSON: text)
        #expect(mismatches.isEmpty, "\(variant): \(mismatches.prefix(5))")
    }

    @Test("the first N rows read alone are the first N rows of the whole read", arguments: variants)
    func limitedRowsArePrefix(_ variant: String) throws {
        let reader = try ParquetFileReader(path: Self.path(variant))
        let whole = try reader.readRows(rowGroup: 0)
        for limit in [0, 1, 2, 7, whole.count, whole.count + 5] {
            #expect(try reader.readRows(rowGroup: 0, limit: limit).map(JSONRendering.render(row:)) == whole.prefix(limit).map(JSONRendering.render(row:)),
                    "limit \(limit)")
        }
    }

    @Test("row-limited reads agree with whole reads on every parquet-testing file that reads")
    func limitedRowsOnConformanceFiles() throws {
        var compared = 0
        for testCase in ConformanceCase.upstream {
            guard let reader = try? ParquetFileReader(path: testCase.dataPath), reader.rowGroupCount > 0,
                  let whole = try? reader.readRows(rowGroup: 0) else { continue }
            for limit in [1, 3, whole.count] {
                let part = try reader.readRows(rowGroup: 0, limit: limit)
                // (Compared as rendered: NaN is not equal to itself.)
                #expect(part.map(JSONRendering.render(row:)) == whole.prefix(limit).map(JSONRendering.render(row:)),
                        "\(testCase.testDescription) limit \(limit)")
            }
            compared += 1
        }
        #expect(compared >= 50)
    }

    @Test("head without shortening prints exactly the rendered rows")
    func previewWithoutShortening() throws {
        let reader = try ParquetFileReader(path: Self.path("dictionary_v1_snappy"))
        let lines = try RowPreview(reader, preview: nil).lines(limit: 70)
        let rows = try Self.allRows(reader).prefix(70)
        #expect(lines == rows.map(JSONRendering.render(row:)))
    }

    @Test("head shortens long lists (count, first values, CRC-32 of the uint8 values) and long strings")
    func previewShortens() throws {
        let reader = try ParquetFileReader(path: Self.path("plain_v2_zstd"))
        let rows = try reader.readRows(rowGroup: 0, limit: 6)
        let lines = try RowPreview(reader).lines(limit: 6)
        for (line, row) in zip(lines, rows) {
            guard case let .list(pixels)? = row.first(where: { $0.name == "pixels" })?.value else {
                Issue.record("pixels is not a list")
                continue
            }
            let bytes = pixels.compactMap { if case let .uint(u) = $0 { UInt8(u) } else { nil } }
            let crc = bytes.withUnsafeBytes { String(crc32($0), radix: 16).leftPadded(to: 8) }
            #expect(line.contains("\"pixels\":\"[40 × uint8: \(bytes[0]), \(bytes[1]), \(bytes[2]), …] crc32=\(crc)\""), "\(line)")
        }
        // Row 5's name is "long-" and 300 x's.
        #expect(lines[5].contains("\"name\":\"long-" + String(repeating: "x", count: 59) + "… (305 bytes)\""), "\(lines[5])")
    }

    @Test("readColumns hands out typed buffers with levels, as pyarrow's arrays hold them")
    func typedColumnBuffers() throws {
        let reader = try ParquetFileReader(path: Self.path("dictionary_v1_snappy"))
        let columns = try reader.readColumns(rowGroup: 0)
        #expect(columns.count == reader.schema.columns.count)
        let byPath = Dictionary(uniqueKeysWithValues: columns.map { ($0.column.dottedPath, $0) })
        #expect(byPath["id"]?.values == .int64((0..<50).map(Int64.init)))
        #expect(byPath["id"]?.definitionLevels == [Int16](repeating: 1, count: 50))
        let tags = try #require(byPath["tags.list.element"])
        #expect(tags.rowCount == 50)
        #expect(tags.repetitionLevels.filter { $0 == 0 }.count == 50)
        #expect(tags.definitionLevels.filter { $0 == 3 }.count == tags.values.count)
        guard case .int32 = tags.values else {
            Issue.record("tags are not int32: \(tags.values)")
            return
        }
        let names = try #require(byPath["name"])
        guard case let .byteArray(strings) = names.values else {
            Issue.record("name is not a byte array column")
            return
        }
        #expect(String(decoding: strings[0], as: UTF8.self).hasPrefix("name-0-"))
        #expect(names.definitionLevels.filter { $0 == 0 }.count + strings.count == 50)
    }

    /// `rows` rows of an id and a `length`-value list<uint8> column, written with small pages (one row a page).
    static func listFile(rows: Int, length: Int) throws -> (bytes: [UInt8], firstRow: [UInt8]) {
        let sink = InMemorySink(name: "lists.parquet")
        var options = WriterOptions()
        options.dataPageSize = length
        options.dictionary = false
        let uint8 = LogicalType.integer(bitWidth: 8, isSigned: false)
        let writer = try ParquetFileWriter(sink: sink, fields: [
            .primitive(name: "id", type: .int64, nullable: false),
            .list(name: "image", element: .primitive(name: "element", type: .int32, logical: uint8, nullable: true)),
        ], options: options)
        let lists: [[Int32?]?] = (0..<rows).map { row in (0..<length).map { Int32((row * 31 + $0 * 7) % 256) } }
        try writer.writeRowGroup(rows: rows, columns: [
            .required(.int64((0..<rows).map(Int64.init))),
            .lists(lists) { .int32($0) },
        ])
        try writer.close()
        return (sink.bytes, (0..<length).map { UInt8($0 * 7 % 256) })
    }

    @Test("head -n 2 on a long list file decodes only the first pages")
    func headDecodesOnlyItsPages() throws {
        let (bytes, firstRow) = try Self.listFile(rows: 64, length: 3072)
        let reader = try ParquetFileReader(source: InMemorySource(name: "lists.parquet", bytes: bytes))
        let all = try reader.readColumnChunk(rowGroup: 0, column: 1)
        #expect(all.dataPagesRead >= 32, "the fixture must have many pages")
        let (lines, pages) = try RowPreview(reader).linesAndStatistics(limit: 2)
        #expect(lines.count == 2)
        #expect(pages <= 4, "decoded \(pages) pages for 2 rows (\(all.dataPagesRead) in the list column)")
        let crc = firstRow.withUnsafeBytes { String(crc32($0), radix: 16).leftPadded(to: 8) }
        #expect(lines[0] == "{\"id\":0,\"image\":\"[3072 × uint8: 0, 7, 14, …] crc32=\(crc)\"}")
    }

    @Test("shortened long lists cost one pass over the levels, not one per row")
    func previewIsLinear() throws {
        let (bytes, _) = try Self.listFile(rows: 64, length: 3072)
        let reader = try ParquetFileReader(source: InMemorySource(name: "lists.parquet", bytes: bytes))
        let columns = try reader.readColumns(rowGroup: 0)
        let assembler = RecordAssembler(schema: reader.schema, columns: columns, preview: ValuePreview())
        let rows = try assembler.rows(fields: reader.schema.fields, rowCount: 64)
        #expect(rows.count == 64)
        // Every row's summary counts its own entries once (it used to recount from the chunk's start).
        #expect(assembler.levelsScanned <= 64 * 3072, "\(assembler.levelsScanned) levels scanned for \(64 * 3072) entries")
    }

    @Test("a row-limited read keeps the page limits (checked before allocating)")
    func limitedReadKeepsLimits() throws {
        let (bytes, _) = try Self.listFile(rows: 4, length: 300_000)
        let reader = try ParquetFileReader(source: InMemorySource(name: "lists.parquet", bytes: bytes))
        var limits = ReadLimits()
        limits.maxDecodedPageBytes = 1 << 20
        let error = try #require(parquetError { _ = try RowPreview(reader, options: ReadOptions(limits: limits)).lines(limit: 1) })
        #expect(error.kind == .limitExceeded, "\(error)")
        #expect(error.location.column == "image.list.element")
        #expect(error.location.page == 0)
        #expect(error.description.contains("ReadLimits.maxDecodedPageBytes"))
    }

    @Test("leaf columns of 20,000 fields are found in linear time", .timeLimit(.minutes(1)))
    func leafColumnsLinear() throws {
        let reader = try ParquetFileReader(source: InMemorySource(name: "wide.parquet", bytes: try ManyColumnsTests.wideFile()))
        let names = reader.schema.fields.map(\.name)
        #expect(reader.leafColumns(of: names) == Array(reader.schema.columns.indices))
        #expect(reader.leafColumns(of: ["c7", "image"]) == [7, ManyColumnsTests.columnCount - 1])
        #expect(reader.leafColumns(of: ["image.list"]) == [ManyColumnsTests.columnCount - 1])
        for column in reader.schema.columns {
            #expect(reader.schema.column(dottedPath: column.dottedPath)?.index == column.index)
        }
    }
}

/// The bulk decoding paths refuse hostile pages with the reason, before gathering or copying.
@Suite("Generic reading: hostile pages")
struct GenericReadHostileTests {
    static let column = ColumnDescriptor(index: 0, path: ["v"], element: SchemaElement(name: "v"), physicalType: .byteArray,
                                         maxDefinitionLevel: 0, maxRepetitionLevel: 0)

    static func append(_ values: inout ColumnValues, _ page: [UInt8], encoding: Encoding, count: Int,
                       dictionary: ColumnValues? = nil, maxBytes: Int = 1 << 20) -> ParquetError? {
        var indices: [UInt32] = []
        return parquetError {
            try page.withUnsafeBytes {
                try values.appendDecoded($0, encoding: encoding, column: column, count: count, dictionary: dictionary,
                                         maxBytes: maxBytes, indices: &indices)
            }
        }
    }

    @Test("a dictionary index past the dictionary's end")
    func indexOutOfRange() throws {
        var values = ColumnValues.int32([])
        // Bit width 2, then an RLE run of 4 copies of index 3; the dictionary has 2 values.
        let error = try #require(Self.append(&values, [2, 0x08, 3], encoding: .rleDictionary, count: 4, dictionary: .int32([10, 20])))
        #expect(error.kind == .corruptPage)
        #expect(error.description.contains("dictionary index 3 is out of range for a dictionary of 2 values"), "\(error)")
        #expect(values.count == 0)
    }

    @Test("dictionary strings that gather more bytes than a page may decode")
    func gatherBytesLimit() throws {
        var values = ColumnValues.byteArray(BinaryValues())
        var dictionary = BinaryValues()
        dictionary.append(contentsOf: [UInt8](repeating: 0x61, count: 1000))
        // Bit width 1, an RLE run of 8 copies of index 0: 8,000 bytes from a 3-byte page.
        let error = try #require(Self.append(&values, [1, 0x10, 0], encoding: .rleDictionary, count: 8,
                                             dictionary: .byteArray(dictionary), maxBytes: 4000))
        #expect(error.kind == .limitExceeded)
        #expect(error.description.contains("8 dictionary values gather more than 4000 bytes"), "\(error)")
        #expect(values.count == 0)
    }

    @Test("a PLAIN byte array longer than the rest of the page")
    func plainByteArrayPastEnd() throws {
        var values = ColumnValues.byteArray(BinaryValues())
        // Value 0: 2 bytes; value 1 claims 100 with 3 left.
        let error = try #require(Self.append(&values, [2, 0, 0, 0, 0x41, 0x42, 100, 0, 0, 0, 1, 2, 3], encoding: .plain, count: 2))
        #expect(error.kind == .truncated)
        #expect(error.description.contains("PLAIN byte array 1 of 100 bytes, 3 left"), "\(error)")
    }

    @Test("PLAIN numbers fewer than the page declares")
    func plainNumbersShort() throws {
        var values = ColumnValues.double([])
        let error = try #require(Self.append(&values, [UInt8](repeating: 0, count: 20), encoding: .plain, count: 3))
        #expect(error.kind == .truncated)
        #expect(error.description.contains("3 PLAIN Double values need 3 × 8 bytes, 20 present"), "\(error)")
        #expect(values.count == 0)
    }
}
