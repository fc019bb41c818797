import Foundation
import Testing
@testable import Parquet

/// Row groups without rows (a predictions part whose every record failed) and columns without values
/// (every entry null) must give valid files, not trap in the dictionary's index width.
@Suite("Writing zero rows")
struct ZeroRowWriteTests {
    /// Empty levels and values for every leaf of `schema`: the shredded form of zero rows.
    static func emptyColumns(_ schema: Schema) -> [ColumnWriteData] {
        schema.columns.map { leaf in
            ColumnWriteData(values: .empty(leaf.physicalType),
                            definitionLevels: leaf.maxDefinitionLevel > 0 ? [] : nil,
                            repetitionLevels: leaf.maxRepetitionLevel > 0 ? [] : nil)
        }
    }

    /// A file of every field kind the writer supports, with `rowGroups` row groups of zero rows.
    static func zeroRowFile(dictionary: Bool, rowGroups: Int = 1) throws -> [UInt8] {
        var options = WriterOptions()
        options.dictionary = dictionary
        let sink = InMemorySink(name: "empty.parquet")
        let writer = try ParquetFileWriter(sink: sink, fields: WriterRoundTripTests.fields, options: options)
        for _ in 0..<rowGroups { try writer.writeRowGroup(rows: 0, columns: emptyColumns(writer.schema)) }
        try writer.close()
        return sink.bytes
    }

    static func zeroRowTensorFile(layout: TensorLayout, element: TensorElement = .uint8) throws -> [UInt8] {
        let sink = InMemorySink(name: "empty-tensor.parquet")
        let writer = try ParquetFileWriter(sink: sink, fields: [.tensor(name: "image", element: element, shape: [4, 3, 2], layout: layout)])
        try writer.writeTensorRowGroup(UnsafeRawBufferPointer(start: nil, count: 0), rows: 0)
        try writer.close()
        return sink.bytes
    }

    @Test("a zero-row row group of every column kind reads back as zero rows with the schema", arguments: [true, false])
    func zeroRows(dictionary: Bool) throws {
        let bytes = try Self.zeroRowFile(dictionary: dictionary, rowGroups: 2)
        let reader = try ParquetFileReader(source: InMemorySource(bytes: bytes))
        #expect(reader.numRows == 0)
        #expect(reader.rowGroupCount == 2)
        #expect(reader.schema.fields.map(\.name) == WriterRoundTripTests.fields.map(\.name))
        for group in 0..<2 {
            #expect(try reader.readRows(rowGroup: group).isEmpty)
            for column in 0..<reader.schema.columns.count {
                let data = try reader.readColumnChunk(rowGroup: group, column: column)
                #expect(data.entryCount == 0)
                #expect(data.rowCount == 0)
            }
        }
    }

    @Test("a column whose every entry is null is written without a dictionary")
    func allNullColumn() throws {
        let sink = InMemorySink()
        let writer = try ParquetFileWriter(sink: sink, fields: [.string("name"), .primitive(name: "n", type: .int64, nullable: true)])
        try writer.writeRowGroup(rows: 3, columns: [
            .optional([String?](repeating: nil, count: 3)) { .byteArray(BinaryValues(strings: $0)) },
            .optional([Int64?](repeating: nil, count: 3)) { .int64($0) },
        ])
        try writer.close()
        let reader = try ParquetFileReader(source: InMemorySource(bytes: sink.bytes))
        let rows = try reader.readRows(rowGroup: 0)
        #expect(rows.count == 3)
        #expect(rows.allSatisfy { $0.allSatisfy { $0.value == .null } })
    }

    @Test("a zero-row tensor row group reads back as no batches", arguments: TensorLayout.allCases)
    func zeroRowTensors(_ layout: TensorLayout) throws {
        for element in [TensorElement.uint8, .float32] {
            let reader = try ParquetFileReader(source: InMemorySource(bytes: try Self.zeroRowTensorFile(layout: layout, element: element)))
            #expect(reader.numRows == 0)
            let tensors = try TensorColumnReader(file: reader, column: "image")
            #expect(tensors.shape == [4, 3, 2])
            #expect(try tensors.next(targetRows: 4) == nil)
            #expect(tensors.rowsDecoded == 0)
            #expect(try reader.readRows(rowGroup: 0).isEmpty)
        }
    }

    @Test("a file closed without any row group is valid")
    func noRowGroups() throws {
        let sink = InMemorySink()
        let writer = try ParquetFileWriter(sink: sink, fields: WriterRoundTripTests.fields)
        try writer.close()
        let reader = try ParquetFileReader(source: InMemorySource(bytes: sink.bytes))
        #expect(reader.numRows == 0)
        #expect(reader.rowGroupCount == 0)
        #expect(reader.schema.columns.count == WriterRoundTripTests.fields.flatMap { $0.schemaElements() }.filter { $0.numChildren == nil }.count)
    }
}
