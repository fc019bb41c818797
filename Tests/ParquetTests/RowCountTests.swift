import Foundation
import Testing
@testable import Parquet

/// Footers whose row and value counts disagree with the pages: every reader must say so, naming the file,
/// row group, column and both counts, instead of returning short or long data.
@Suite("Row counts the footer declares")
struct RowCountTests {
    /// The valid two-column file of BadFileTests (100 rows) with its declared counts changed.
    static func declaring(rows: Int64, values: Int64? = nil, fileRows: Int64? = nil) throws -> [UInt8] {
        try BadFileTests.withFooter(try BadFileTests.validFile()) { metadata in
            metadata.numRows = fileRows ?? rows
            metadata.rowGroups[0].numRows = rows
            if let values {
                for c in metadata.rowGroups[0].columns.indices { metadata.rowGroups[0].columns[c].metaData?.numValues = values }
            }
        }
    }

    static func readError(_ bytes: [UInt8], _ read: (ParquetFileReader) throws -> Void) -> ParquetError? {
        parquetError { try read(try BadFileTests.open(bytes)) }
    }

    @Test("more rows declared than the pages hold")
    func moreRowsDeclared() throws {
        let bytes = try Self.declaring(rows: 150, values: 150)
        let error = try #require(Self.readError(bytes) { _ = try $0.readRows(rowGroup: 0) })
        #expect(error.kind == .rowCountMismatch)
        #expect(error.location.file == "bad.parquet")
        #expect(error.location.rowGroup == 0)
        #expect(error.location.column == "id")
        #expect(error.description.contains("100 values"), "\(error)")
        #expect(error.description.contains("declares 150"), "\(error)")
    }

    @Test("fewer rows declared than the pages hold")
    func fewerRowsDeclared() throws {
        let bytes = try Self.declaring(rows: 60)
        let error = try #require(Self.readError(bytes) { _ = try $0.readColumnChunk(rowGroup: 0, column: 1) })
        #expect(error.kind == .rowCountMismatch)
        #expect(error.location.rowGroup == 0)
        #expect(error.location.column == "name")
        #expect(error.description.contains("hold 100 rows, the row group declares 60"), "\(error)")
    }

    @Test("fewer values declared than the pages hold")
    func fewerValuesDeclared() throws {
        let bytes = try Self.declaring(rows: 60, values: 60)
        let error = try #require(Self.readError(bytes) { _ = try $0.readRows(rowGroup: 0) })
        #expect(error.kind == .rowCountMismatch)
        #expect(error.location.column == "id")
        #expect(error.description.contains("the chunk has only 24 left"), "\(error)")
    }

    @Test("a row group declaring more rows than a chunk declares values fails at open")
    func rowsBeyondValues() throws {
        let bytes = try Self.declaring(rows: 1 << 40)
        let error = try #require(Self.readError(bytes) { _ in })
        #expect(error.kind == .rowCountMismatch)
        #expect(error.location.rowGroup == 0)
        #expect(error.description.contains("\(1 << 40) rows"), "\(error)")
        #expect(error.description.contains("only 100 values"), "\(error)")
    }

    @Test("2^40 declared rows and values: an error after the pages end, no allocation per declared row")
    func hugeDeclaredRowCount() throws {
        let bytes = try Self.declaring(rows: 1 << 40, values: 1 << 40)
        let error = try #require(Self.readError(bytes) { _ = try $0.readRows(rowGroup: 0) })
        #expect(error.kind == .rowCountMismatch)
        #expect(error.description.contains("\(1 << 40)"), "\(error)")
    }

    @Test("row counts that overflow when added fail cleanly")
    func overflowingRowCounts() throws {
        let bytes = try BadFileTests.withFooter(try BadFileTests.validFile()) { metadata in
            metadata.rowGroups[0].numRows = Int64.max
            for c in metadata.rowGroups[0].columns.indices { metadata.rowGroups[0].columns[c].metaData?.numValues = Int64.max }
            metadata.rowGroups.append(metadata.rowGroups[0])
            metadata.numRows = -2
        }
        let error = try #require(Self.readError(bytes) { _ in })
        #expect(error.kind == .limitExceeded)
        #expect(error.location.rowGroup == 1)
    }

    // MARK: tensors

    /// 5 rows of 24 uint8 elements, one row group.
    static func tensorFile(rows declaredRows: Int64? = nil, values: Int64? = nil) throws -> [UInt8] {
        let sink = InMemorySink()
        let writer = try ParquetFileWriter(sink: sink, fields: [.tensor(name: "image", element: .uint8, shape: [4, 3, 2], layout: .rayV1)])
        let pixels = (0..<(5 * 24)).map { UInt8($0 % 256) }
        try pixels.withUnsafeBytes { try writer.writeTensorRowGroup($0, rows: 5) }
        try writer.close()
        return try BadFileTests.withFooter(sink.bytes) { metadata in
            if let declaredRows {
                metadata.numRows = declaredRows
                metadata.rowGroups[0].numRows = declaredRows
            }
            if let values { metadata.rowGroups[0].columns[0].metaData?.numValues = values }
        }
    }

    static func readTensors(_ bytes: [UInt8]) throws -> Int {
        let tensors = try TensorColumnReader(file: try BadFileTests.open(bytes), column: "image")
        while try tensors.next(targetRows: 2) != nil {}
        return tensors.rowsDecoded
    }

    @Test("the tensor reader reports the rows it decoded")
    func tensorRowsDecoded() throws {
        #expect(try Self.readTensors(try Self.tensorFile()) == 5)
    }

    static func tensorError(_ bytes: [UInt8]) -> ParquetError? { parquetError { _ = try readTensors(bytes) } }

    @Test("the tensor reader refuses more declared rows than the pages hold", arguments: [false, true])
    func tensorMoreRowsDeclared(declaringValues: Bool) throws {
        let error = try #require(Self.tensorError(try Self.tensorFile(rows: 7, values: declaringValues ? 7 * 24 : nil)))
        #expect(error.kind == .rowCountMismatch)
        #expect(error.location.rowGroup == 0)
        #expect(error.location.column?.hasPrefix("image") == true)
        #expect(error.description.contains(declaringValues ? "hold 120 values, its metadata declares 168" : "hold 5 rows, the row group declares 7"), "\(error)")
    }

    @Test("the tensor reader refuses fewer declared rows than the pages hold", arguments: [false, true])
    func tensorFewerRowsDeclared(declaringValues: Bool) throws {
        let error = try #require(Self.tensorError(try Self.tensorFile(rows: 3, values: declaringValues ? 3 * 24 : nil)))
        #expect(error.kind == .rowCountMismatch)
        #expect(error.location.rowGroup == 0)
        #expect(error.location.column?.hasPrefix("image") == true)
        #expect(error.description.contains(declaringValues ? "120 values but the chunk has only 72 left" : "hold 5 rows, the row group declares 3"), "\(error)")
    }
}
