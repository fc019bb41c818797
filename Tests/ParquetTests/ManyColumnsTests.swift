import Foundation
import Testing
@testable import Parquet

/// Finding the tensor column of a very wide file: the Arrow schema is decoded once per file and fields are
/// looked up by name, so asking about every field is linear (it was quadratic: minutes for 20,000 columns).
@Suite("Many columns")
struct ManyColumnsTests {
    static let columnCount = 20_000

    /// 19,999 int32 columns, then a Ray tensor column, zero rows.
    static func wideFile() throws -> [UInt8] {
        let fields: [FieldSpec] = (0..<(columnCount - 1)).map { .primitive(name: "c\($0)", type: .int32, nullable: false) }
            + [.tensor(name: "image", element: .uint8, shape: [8, 8, 3], layout: .rayV2)]
        let sink = InMemorySink(name: "wide.parquet")
        var options = WriterOptions()
        options.codec = .uncompressed
        let writer = try ParquetFileWriter(sink: sink, fields: fields, options: options)
        try writer.writeRowGroup(rows: 0, columns: ZeroRowWriteTests.emptyColumns(writer.schema))
        try writer.close()
        return sink.bytes
    }

    @Test("every field of a 20,000-column file is asked about; the tensor column is the last", .timeLimit(.minutes(1)))
    func findTensorColumn() throws {
        let reader = try ParquetFileReader(source: InMemorySource(name: "wide.parquet", bytes: try Self.wideFile()))
        #expect(reader.schema.fields.count == Self.columnCount)
        // What the pipeline's image-column search does: every field, in order, by name.
        var found: [(String, TensorType)] = []
        for field in reader.schema.fields {
            #expect(reader.schema.field(named: field.name)?.name == field.name)
            if let tensor = try TensorColumnReader.describedTensor(file: reader, field: field.name) { found.append((field.name, tensor)) }
        }
        #expect(found.map(\.0) == ["image"])
        #expect(found.first?.1.shape == [8, 8, 3])
        let listed = try reader.tensorFields()
        #expect(listed.map(\.name) == ["image"])
        #expect(try reader.arrowField(named: "c19998")?.name == "c19998")
        #expect(try reader.arrowField(named: "missing") == nil)
    }

    @Test("a broken ARROW:schema is reported on use, with the file, as before")
    func brokenArrowSchema() throws {
        let bytes = try BadFileTests.withFooter(try ZeroRowWriteTests.zeroRowTensorFile(layout: .rayV1)) { metadata in
            metadata.keyValueMetadata = [KeyValue(key: "ARROW:schema", value: "not base64!")]
        }
        let reader = try ParquetFileReader(source: InMemorySource(name: "arrow.parquet", bytes: bytes))
        #expect(throws: ParquetError.self) { try reader.arrowSchema() }
        do {
            _ = try TensorColumnReader.describedTensor(file: reader, field: "image")
            Issue.record("a broken ARROW:schema was accepted")
        } catch let error as ParquetError {
            #expect(error.location.file == "arrow.parquet")
        }
    }
}
