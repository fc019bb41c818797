import Foundation
import Testing
@testable import Parquet

/// Counts and sizes a file declares are checked against what it can hold and against `ReadLimits`
/// before anything is allocated: each test is a tiny input that used to ask for gigabytes or trap.
@Suite("Read limits")
struct ReadLimitsTests {
    static func error(_ body: () throws -> Void) -> ParquetError? { parquetError(body) }

    /// A DELTA_BINARY_PACKED header (blocks of 65,536, one miniblock) declaring `total` values, followed by
    /// enough zero-width blocks (2 bytes each) to pass the header's own plausibility check.
    static func deltaHeader(total: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        VarintWriter.appendULEB128(65_536, to: &bytes)
        VarintWriter.appendULEB128(1, to: &bytes)
        VarintWriter.appendULEB128(UInt64(total), to: &bytes)
        bytes.append(0)  // first value 0
        for _ in 0..<((total - 1 + 65_535) / 65_536) { bytes += [0, 0] }  // min delta 0, width 0
        return bytes
    }

    @Test("DELTA_LENGTH_BYTE_ARRAY lengths declaring 2^29 values for a 1-value page", arguments: ["length", "prefix"])
    func deltaHeaderDeclaringMore(_ which: String) throws {
        let data = Self.deltaHeader(total: 1 << 29)  // 16 KiB that used to decode into 4 GiB of lengths
        let error = try #require(Self.error {
            _ = try data.withUnsafeBytes { raw in
                which == "length" ? try DeltaLengthByteArrayDecoder.decode(raw, count: 1)
                    : try DeltaByteArrayDecoder.decode(raw, count: 1)
            }
        })
        #expect(error.kind == .corruptPage)
        #expect(error.description.contains("\(1 << 29)"), "\(error)")
        #expect(error.description.contains("1 values expected"), "\(error)")
    }

    /// One dictionary-encoded string column: a 1,000-byte value in each of 1,000 rows.
    static func repeatedLongString() throws -> [UInt8] {
        let sink = InMemorySink(name: "dict.parquet")
        let writer = try ParquetFileWriter(sink: sink, fields: [.primitive(name: "s", type: .byteArray, nullable: false)])
        let long = [UInt8](repeating: 0x61, count: 1000)
        try writer.writeRowGroup(rows: 1000, columns: [.required(.byteArray(BinaryValues([[UInt8]](repeating: long, count: 1000))))])
        try writer.close()
        return sink.bytes
    }

    @Test("a dictionary gather is bounded by the bytes it produces, not only the index count")
    func dictionaryGather() throws {
        let reader = try ParquetFileReader(source: InMemorySource(name: "dict.parquet", bytes: try Self.repeatedLongString()))
        var limits = ReadLimits()
        limits.maxDecodedPageBytes = 100_000
        let error = try #require(Self.error { _ = try reader.readColumnChunk(rowGroup: 0, column: 0, options: ReadOptions(limits: limits)) })
        #expect(error.kind == .limitExceeded)
        #expect(error.location.file == "dict.parquet")
        #expect(error.location.rowGroup == 0)
        #expect(error.location.column == "s")
        #expect(error.location.page == 1)
        #expect(error.description.contains("gather more than 100000 bytes"), "\(error)")
        // The default limits read it.
        #expect(try reader.readColumnChunk(rowGroup: 0, column: 0).rowCount == 1000)
    }

    /// The valid file with its first data page header claiming `numValues` (and the footer agreeing).
    static func pageClaiming(_ numValues: Int32) throws -> [UInt8] {
        var bytes = try BadFileTests.validFile()
        let reader = try BadFileTests.open(bytes)
        let start = Int(try reader.chunkRange(rowGroup: 0, column: 0).start)
        let (header, length) = try Array(bytes[start..<start + 64]).withUnsafeBytes { raw -> (PageHeader, Int) in
            var thrift = ThriftCompactReader(raw)
            return (try PageHeader(thrift: &thrift), thrift.position)
        }
        var changed = header
        changed.dataPageHeader?.numValues = numValues
        let encoded = changed.thriftBytes()
        bytes.replaceSubrange(start..<start + length, with: encoded)
        let shift = Int64(encoded.count - length)
        return try BadFileTests.withFooter(bytes) { metadata in
            metadata.rowGroups[0].columns[0].metaData?.numValues = Int64(Int32.max)
            metadata.rowGroups[0].columns[0].metaData?.totalCompressedSize += shift
            metadata.rowGroups[0].columns[1].metaData?.dataPageOffset += shift
        }
    }

    @Test("a page claiming 2^31 values in a few bytes is refused before its levels are allocated")
    func pageValueCount() throws {
        let bytes = try Self.pageClaiming(Int32.max)
        let error = try #require(BadFileTests.failure(bytes))
        #expect(error.kind == .limitExceeded)
        #expect(error.location.rowGroup == 0)
        #expect(error.location.column == "id")
        #expect(error.location.page == 0)
        #expect(error.description.contains("\(Int32.max) values"), "\(error)")
    }

    @Test("lower limits (a memory budget) apply to ordinary pages too")
    func memoryBudget() throws {
        let reader = try BadFileTests.open(try BadFileTests.validFile())
        var limits = ReadLimits(memoryBudget: 0)
        #expect(limits.maxDecodedPageBytes == 1 << 20)
        limits.maxDecodedPageBytes = 100
        let error = try #require(Self.error { _ = try reader.readRows(rowGroup: 0, options: ReadOptions(limits: limits)) })
        #expect(error.kind == .limitExceeded)
        #expect(error.description.contains("ReadLimits.maxDecodedPageBytes"), "\(error)")
        limits.maxPageBytes = 10
        let pageError = try #require(Self.error { _ = try reader.readColumnChunk(rowGroup: 0, column: 1, options: ReadOptions(limits: limits)) })
        #expect(pageError.kind == .limitExceeded)
        #expect(pageError.description.contains("ReadLimits.maxPageBytes"), "\(pageError)")
    }

    @Test("a tensor row of 2^31 elements is refused before any row buffer exists")
    func tensorRowBytes() throws {
        let reader = try ParquetFileReader(source: InMemorySource(name: "t.parquet", bytes: try RowCountTests.tensorFile()))
        let error = try #require(Self.error { _ = try TensorColumnReader(file: reader, column: "image", shape: [1 << 16, 1 << 15]) })
        #expect(error.kind == .limitExceeded)
        #expect(error.location.column == "image")
        #expect(error.description.contains("ReadLimits.maxTensorRowBytes"), "\(error)")
        var limits = ReadLimits()
        limits.maxTensorRowBytes = 10
        let lowered = try #require(Self.error { _ = try TensorColumnReader(file: reader, column: "image", options: ReadOptions(limits: limits)) })
        #expect(lowered.kind == .limitExceeded)
    }

    @Test("chunk offsets and sizes near Int64.max are errors, not traps", arguments: [0, 1, 2])
    func hugeChunkNumbers(_ which: Int) throws {
        let bytes = try BadFileTests.withFooter(try BadFileTests.validFile()) { metadata in
            switch which {
            case 0: metadata.rowGroups[0].columns[0].metaData?.totalCompressedSize = Int64.max
            case 1: metadata.rowGroups[0].columns[0].metaData?.dataPageOffset = Int64.max
            default: metadata.rowGroups[0].columns[0].metaData?.dictionaryPageOffset = Int64.max - 1
            }
        }
        let error = BadFileTests.failure(bytes)
        if which == 2 {
            #expect(error == nil, "a dictionary offset past the data page is ignored: \(String(describing: error))")
        } else {
            #expect(error?.kind == .corruptMetadata)
            #expect(error?.location.column == "id")
        }
    }
}
