import Foundation
import Testing
@testable import Parquet

/// Damaged files: each must fail with an error that names the file, where it went wrong and why.
@Suite("Bad files")
struct BadFileTests {
    /// A small valid file: an optional int64 column and a string column, SNAPPY, two pages each.
    static func validFile() throws -> [UInt8] {
        var options = WriterOptions()
        options.dataPageSize = 256
        options.dictionary = false
        let sink = InMemorySink(name: "good.parquet")
        let writer = try ParquetFileWriter(sink: sink, fields: [
            .primitive(name: "id", type: .int64, nullable: true), .string("name"),
        ], options: options)
        let rows = 100
        try writer.writeRowGroup(rows: rows, columns: [
            .optional((0..<rows).map { $0 % 9 == 0 ? nil : Int64($0) }) { .int64($0) },
            .optional((0..<rows).map { "name \($0)" }) { .byteArray(BinaryValues(strings: $0)) },
        ])
        try writer.close()
        return sink.bytes
    }

    static func open(_ bytes: [UInt8], name: String = "bad.parquet") throws -> ParquetFileReader {
        try ParquetFileReader(source: InMemorySource(name: name, bytes: bytes))
    }

    /// Opens and reads every row; returns the error.
    static func failure(_ bytes: [UInt8], name: String = "bad.parquet") -> ParquetError? {
        parquetError {
            let reader = try open(bytes, name: name)
            for group in 0..<reader.rowGroupCount { _ = try reader.readRows(rowGroup: group) }
        }
    }

    /// The footer decoded, changed, and written back.
    static func withFooter(_ bytes: [UInt8], _ change: (inout FileMetaData) -> Void) throws -> [UInt8] {
        let length = bytes.withUnsafeBytes { Int($0.loadUnaligned(fromByteOffset: bytes.count - 8, as: UInt32.self)) }
        let footerStart = bytes.count - 8 - length
        var metadata = try Array(bytes[footerStart..<bytes.count - 8]).withUnsafeBytes { raw in
            var reader = ThriftCompactReader(raw)
            return try FileMetaData(thrift: &reader)
        }
        change(&metadata)
        let footer = metadata.thriftBytes()
        var count = UInt32(footer.count).littleEndian
        return Array(bytes[..<footerStart]) + footer + withUnsafeBytes(of: &count) { Array($0) } + Array("PAR1".utf8)
    }

    @Test("the valid file reads")
    func validReads() throws {
        #expect(Self.failure(try Self.validFile()) == nil)
    }

    @Test("a truncated file: every cut is an error, never a crash or hang")
    func truncated() throws {
        let good = try Self.validFile()
        for cut in stride(from: 0, to: good.count, by: 7) {
            let error = Self.failure(Array(good[..<cut]))
            #expect(error != nil, "cut at \(cut)")
            #expect(error?.location.file == "bad.parquet")
        }
        let error = try #require(Self.failure(Array(good[..<(good.count - 1)])))
        #expect(error.kind == .truncated)
        #expect(error.description.contains("does not end with PAR1"))
        #expect(Self.failure(Array(good[..<5]))?.description.contains("too short") == true)
    }

    @Test("a file that is not Parquet names the magic it found")
    func wrongMagic() throws {
        var bytes = try Self.validFile()
        bytes.replaceSubrange(0..<4, with: Array("GIF8".utf8))
        let error = try #require(Self.failure(bytes))
        #expect(error.kind == .badMagic)
        #expect(error.description.contains("bad.parquet"))
        #expect(error.description.contains("47494638"))
    }

    @Test("a corrupt page header names the row group, column and page")
    func corruptPageHeader() throws {
        var bytes = try Self.validFile()
        let reader = try Self.open(bytes)
        let start = Int(try reader.chunkRange(rowGroup: 0, column: 1).start)
        for i in 0..<6 { bytes[start + i] = 0xFF }
        let error = try #require(Self.failure(bytes))
        #expect(error.kind == .corruptMetadata || error.kind == .truncated)
        #expect(error.location.rowGroup == 0)
        #expect(error.location.column == "name")
        #expect(error.location.page == 0)
        #expect(error.description.contains("row group 0, column 'name', page 0"))
    }

    @Test("a page that decompresses to another size than its header says")
    func wrongDecompressedSize() throws {
        var bytes = try Self.validFile()
        let reader = try Self.open(bytes)
        let start = Int(try reader.chunkRange(rowGroup: 0, column: 0).start)
        // Re-encode the first page header with an uncompressed size one larger (same encoded length).
        let (header, length) = try Array(bytes[start..<start + 64]).withUnsafeBytes { raw -> (PageHeader, Int) in
            var thrift = ThriftCompactReader(raw)
            return (try PageHeader(thrift: &thrift), thrift.position)
        }
        var changed = header
        changed.uncompressedPageSize += 2
        let encoded = changed.thriftBytes()
        try #require(encoded.count == length)
        bytes.replaceSubrange(start..<start + length, with: encoded)
        let error = try #require(Self.failure(bytes))
        #expect(error.kind == .decompression)
        #expect(error.location.column == "id")
        #expect(error.location.page == 0)
        #expect(error.description.contains("SNAPPY"))
    }

    @Test("a footer whose column type disagrees with the schema")
    func schemaMismatch() throws {
        let bytes = try Self.withFooter(try Self.validFile()) { metadata in
            metadata.rowGroups[0].columns[0].metaData?.type = .double
        }
        let error = try #require(Self.failure(bytes))
        #expect(error.kind == .schemaMismatch)
        #expect(error.location.column == "id")
        #expect(error.description.contains("INT64"))
    }

    @Test("a footer that promises more values than the pages hold")
    func valueCountMismatch() throws {
        let bytes = try Self.withFooter(try Self.validFile()) { metadata in
            metadata.rowGroups[0].columns[1].metaData?.numValues += 5
        }
        let error = try #require(Self.failure(bytes))
        #expect(error.location.column == "name")
        #expect(error.description.contains("100 values") || error.description.contains("105"))
    }

    @Test("a column chunk that points outside the file")
    func chunkOutsideFile() throws {
        let bytes = try Self.withFooter(try Self.validFile()) { metadata in
            metadata.rowGroups[0].columns[0].metaData?.totalCompressedSize = 1 << 40
        }
        let error = try #require(Self.failure(bytes))
        #expect(error.kind == .corruptMetadata)
        #expect(error.description.contains("outside the file"))
    }

    @Test("a schema whose children counts do not add up")
    func brokenSchemaTree() throws {
        let bytes = try Self.withFooter(try Self.validFile()) { metadata in
            metadata.schema[0].numChildren = 5
        }
        let error = try #require(Self.failure(bytes))
        #expect(error.kind == .corruptMetadata)
        #expect(error.description.contains("num_children"))
    }

    @Test("random damage anywhere in real files gives a result or a ParquetError", arguments: [
        "data/alltypes_plain.snappy.parquet", "data/nested_lists.snappy.parquet", "data/datapage_v2.snappy.parquet",
        "data/delta_encoding_optional_column.parquet", "data/byte_stream_split.zstd.parquet", "data/nested_maps.snappy.parquet",
    ])
    func fuzz(_ file: String) throws {
        let good = try [UInt8](Data(contentsOf: TestPaths.parquetTesting.appendingPathComponent(file)))
        var state: UInt64 = 0x5EED
        func next() -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int(truncatingIfNeeded: state >> 33)
        }
        for _ in 0..<1500 {
            var bytes = good
            for _ in 0..<(1 + next() % 4) {
                let position = next() % bytes.count
                switch next() % 3 {
                case 0: bytes[position] ^= UInt8(1 << (next() % 8))
                case 1: bytes[position] = UInt8(truncatingIfNeeded: next())
                default: bytes[position] = [0x00, 0xFF, 0x7F, 0x80][next() % 4]
                }
            }
            _ = Self.failure(bytes)  // must return, with or without an error
        }
    }

    @Test("encrypted files are refused as such")
    func encrypted() throws {
        let url = TestPaths.parquetTesting.appendingPathComponent("data/uniform_encryption.parquet.encrypted")
        let error = try #require(Self.failure(try [UInt8](Data(contentsOf: url))))
        #expect(error.kind == .unsupported)
        #expect(error.description.contains("encrypted"))
    }
}
