import Foundation
import Testing
@testable import Parquet

/// The tensor fast path against pyarrow's reading of tensor files pyarrow wrote in Ray's and Arrow's layouts.
@Suite("Tensor columns")
struct TensorColumnTests {
    static let files = ConformanceCase.fixtures.filter { $0.testDescription.hasPrefix("tensor_") }

    @Test("pyarrow's tensor files read with the right shape, dtype and values", arguments: files)
    func readsPyarrowTensors(_ testCase: ConformanceCase) throws {
        let expected = try JSONValue.parse(String(contentsOfFile: testCase.expectedPath, encoding: .utf8))
        let description = try #require(expected["tensor_columns"]?["image"])
        let reader = try ParquetFileReader(path: testCase.dataPath)
        for targetRows in [1, 3, 64] {  // batch boundaries anywhere within pages
            let tensors = try TensorColumnReader(file: reader, column: "image")
            #expect(tensors.shape == description["shape"]?.array?.compactMap(\.int))
            #expect(tensors.element.rawValue == description["dtype"]?.string)
            let rows = try #require(expected["columns"]?["image"]?.array)
            var row = 0
            while let batch = try tensors.next(targetRows: targetRows) {
                #expect(batch.firstRow == row)
                for i in 0..<batch.rowCount {
                    let want = rows[row + i]
                    if want == .null {
                        #expect(!batch.validity[i], "row \(row + i) is null")
                        #expect(batch.row(i).allSatisfy { $0 == 0 })
                        continue
                    }
                    #expect(batch.validity[i])
                    let got: [JSONValue] = tensors.element == .float32
                        ? batch.row(i).bindMemory(to: Float.self).map { ExpectedRendering.render(.float($0)) }
                        : batch.row(i).map { .number(String($0)) }
                    #expect(got == (want.array ?? []).map(ExpectedRendering.normalise), "row \(row + i)")
                }
                row += batch.rowCount
            }
            #expect(row == rows.count)
        }
    }

    @Test("nextOwned hands over the same rows as next, whatever the batch boundaries", arguments: files)
    func ownedBatchesMatch(_ testCase: ConformanceCase) throws {
        let reader = try ParquetFileReader(path: testCase.dataPath)
        for targetRows in [1, 3, 64] {
            let borrowed = try TensorColumnReader(file: reader, column: "image")
            let owned = try TensorColumnReader(file: reader, column: "image")
            var kept: [OwnedTensorBatch] = []  // every owned batch stays valid while later ones are read
            var expected: [[UInt8]] = []
            while let batch = try borrowed.next(targetRows: targetRows) {
                expected += (0..<batch.rowCount).map { Array(batch.row($0)) }
            }
            while let batch = try owned.nextOwned(targetRows: targetRows) { kept.append(batch) }
            let got = kept.flatMap { batch in (0..<batch.rowCount).map { Array(batch.bytes[($0 * batch.rowBytes)..<(($0 + 1) * batch.rowBytes)]) } }
            #expect(got == expected, "\(testCase.testDescription), \(targetRows) rows a batch")
            #expect(kept.map(\.firstRow) == kept.indices.map { i in kept[..<i].reduce(0) { $0 + $1.rowCount } })
        }
    }

    @Test("a dictionary index beyond the dictionary is a corrupt page, not a wild read")
    func indexOutOfRange() throws {
        let dictionary = try TensorDictionary(.int32([10, 20, 30]), element: .uint8)
        var scratch = PageScratch()
        var out = [UInt8](repeating: 0, count: 8)
        let page: [UInt8] = [8, 0x03] + [0, 1, 2, 3, 0, 1, 2, 1]  // width 8, one bit-packed group: index 3 is out of range
        let error = #expect(throws: ParquetError.self) {
            try page.withUnsafeBytes { raw in
                try out.withUnsafeMutableBytes { try dictionary.decodeIndices(raw, count: 8, into: $0.baseAddress!, scratch: &scratch) }
            }
        }
        #expect(error?.kind == .corruptPage)
        #expect(error?.description.contains("index 3") == true)
    }

    @Test("a uint8 tensor column whose dictionary holds 300 is refused")
    func valueOutOfRange() {
        #expect(throws: ParquetError.self) { try TensorDictionary(.int32([1, 300]), element: .uint8) }
    }

    @Test("a column that is not a list cannot be read as tensors")
    func notAList() throws {
        let file = ConformanceCase.fixtures.first { $0.testDescription == "types_integers.parquet" }
        let reader = try ParquetFileReader(path: try #require(file).dataPath)
        let name = try #require(reader.schema.fields.first?.name)
        let error = #expect(throws: ParquetError.self) { try TensorColumnReader(file: reader, column: name, shape: [1]) }
        #expect(error?.kind == .schemaMismatch)
    }
}

/// What `sluice inspect` and `sluice head` print.
@Suite("inspect and head")
struct InspectTests {
    @Test("inspect describes a Ray tensor file: schema, tensor shape and dtype, row groups, codecs")
    func inspectTensorFile() throws {
        let file = try #require(ConformanceCase.fixtures.first { $0.testDescription == "tensor_ray_v2_uint8.parquet" })
        let text = FileDescription(try ParquetFileReader(path: file.dataPath)).render()
        #expect(text.contains("optional group image (LIST)"))
        #expect(text.contains("optional int32 element (INTEGER(8,unsigned))  [def 3, rep 1]"))
        #expect(text.contains("tensor column image: shape [4, 4, 3], dtype uint8, ray.data.arrow_tensor_v2"))
        #expect(text.contains("row group 1:"))
        #expect(text.contains("SNAPPY"))
        #expect(text.contains("RLE_DICTIONARY"))
        #expect(text.contains("key-value metadata: ARROW:schema"))
    }

    @Test("head prints tensors as shape, dtype and CRC-32 of exactly the pixels pyarrow reads")
    func headTensorFile() throws {
        let file = try #require(ConformanceCase.fixtures.first { $0.testDescription == "tensor_ray_v1_uint8_null_row.parquet" })
        let expected = try JSONValue.parse(String(contentsOfFile: file.expectedPath, encoding: .utf8))
        let rows = try #require(expected["columns"]?["image"]?.array)
        let lines = try RowPreview(try ParquetFileReader(path: file.dataPath)).lines(limit: 4)
        #expect(lines.count == 4)
        for (line, row) in zip(lines, rows) {
            guard let pixels = row.array?.compactMap(\.int).map(UInt8.init) else {
                #expect(line == "{\"image\":null}")
                continue
            }
            let crc = pixels.withUnsafeBytes { String(crc32($0), radix: 16).leftPadded(to: 8) }
            #expect(line == "{\"image\":{\"tensor\":{\"shape\":[4,4,3],\"dtype\":\"uint8\",\"crc32\":\"\(crc)\"}}}")
        }
    }

    @Test("head renders the parquet-testing values: strings, dates, decimals, binary, nested")
    func headValues() throws {
        let path = TestPaths.parquetTesting.appendingPathComponent("data/alltypes_plain.parquet").path
        let lines = try RowPreview(try ParquetFileReader(path: path)).lines(limit: 2)
        #expect(lines.count == 2)
        #expect(lines[0].hasPrefix("{\"id\":4,\"bool_col\":true,\"tinyint_col\":0,"))
        #expect(lines[0].contains("\"date_string_col\":{\"binary\":8,\"crc32\":"))
        #expect(lines[0].contains("\"timestamp_col\":\"2009-03-01T00:00:00.000000000\""))
        let nested = TestPaths.parquetTesting.appendingPathComponent("data/nested_maps.snappy.parquet").path
        let first = try RowPreview(try ParquetFileReader(path: nested)).lines(limit: 1)
        #expect(first == ["{\"a\":[{\"key\":\"a\",\"value\":[{\"key\":1,\"value\":true},{\"key\":2,\"value\":false}]}],\"b\":1,\"c\":1.0}"])
    }
}
