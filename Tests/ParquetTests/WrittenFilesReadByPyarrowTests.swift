import Foundation
import Testing
@testable import Parquet

/// Files our writer produced, read by pyarrow: pyarrow's values must be the ones we wrote, and pyarrow
/// must see tensor columns with Ray's (or Arrow's) extension type and shape.
@Suite("Files we write, read by pyarrow")
struct WrittenFilesReadByPyarrowTests {
    @Test("pyarrow reads every type and tensor layout back as written")
    func pyarrowReadsOurFiles() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-written-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }

        var paths: [String] = []
        for setting in WriterRoundTripTests.settings where setting.codec == .snappy || setting.codec == .zstd {
            let path = directory.appendingPathComponent("types-\(setting.codec)-\(setting.dictionary).parquet").path
            try Data(WriterRoundTripTests.write(setting)).write(to: URL(fileURLWithPath: path))
            paths.append(path)
        }
        let shape = [4, 3, 2]
        let pixels = (0..<(5 * 24)).map { UInt8(($0 * 37) % 256) }
        for layout in TensorLayout.allCases {
            let path = directory.appendingPathComponent("tensor-\(layout.rawValue).parquet").path
            let writer = try ParquetFileWriter(path: path, fields: [.tensor(name: "image", element: .uint8, shape: shape, layout: layout)])
            try pixels.withUnsafeBytes { try writer.writeTensorRowGroup($0, rows: 5) }
            try writer.close()
            paths.append(path)
        }

        // Zero rows (a predictions part whose every record failed): pyarrow must read 0 rows, same schema.
        var emptyPaths: [String] = []
        for dictionary in [true, false] {
            let path = directory.appendingPathComponent("empty-types-\(dictionary).parquet").path
            try Data(ZeroRowWriteTests.zeroRowFile(dictionary: dictionary)).write(to: URL(fileURLWithPath: path))
            emptyPaths.append(path)
        }
        for layout in TensorLayout.allCases {
            let path = directory.appendingPathComponent("empty-tensor-\(layout.rawValue).parquet").path
            try Data(ZeroRowWriteTests.zeroRowTensorFile(layout: layout)).write(to: URL(fileURLWithPath: path))
            emptyPaths.append(path)
        }
        paths += emptyPaths

        let script = TestPaths.repository.appendingPathComponent("Tests/Fixtures/expect_with_pyarrow.py").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script] + paths
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "pyarrow could not read our files (is pyarrow installed? scripts/bootstrap)")

        for path in paths {
            try ConformanceTests().check(ConformanceCase(dataPath: path, expectedPath: path + ".expected.json"))
        }
        for path in emptyPaths {
            let expected = try JSONValue.parse(String(contentsOfFile: path + ".expected.json", encoding: .utf8))
            #expect(expected["num_rows"]?.int == 0, "\(path)")
            guard case let .object(fields)? = expected["arrow_fields"] else {
                Issue.record("\(path): no arrow_fields")
                continue
            }
            #expect(fields.map(\.0) == (path.contains("empty-tensor") ? ["image"] : WriterRoundTripTests.fields.map(\.name)), "\(path)")
        }
        for layout in TensorLayout.allCases {
            let emptyTensor = try JSONValue.parse(String(contentsOfFile: directory.appendingPathComponent("empty-tensor-\(layout.rawValue).parquet").path + ".expected.json", encoding: .utf8))
            let path = directory.appendingPathComponent("tensor-\(layout.rawValue).parquet").path
            let expected = try JSONValue.parse(String(contentsOfFile: path + ".expected.json", encoding: .utf8))
            let field = try #require(expected["arrow_fields"]?["image"])
            let type = field["type"]?.string
            let metadata = field["metadata"]?["ARROW:extension:metadata"]?.string
            switch layout {
            case .rayV1, .rayV2:
                // Ray's types are not registered in plain pyarrow: the storage type plus Ray's metadata.
                #expect(type == (layout == .rayV1 ? "list<element: uint8>" : "large_list<element: uint8>"))
                #expect(field["metadata"]?["ARROW:extension:name"]?.string == layout.rawValue)
                #expect(metadata == "[4, 3, 2]")
            case .fixedShape:
                // pyarrow knows Arrow's canonical tensor type and rebuilds it.
                #expect(type == "extension<arrow.fixed_shape_tensor[value_type=uint8, shape=[4,3,2], permutation=[0,1,2]]>")
            }
            // A zero-row file has the same Arrow type as a full one.
            #expect(emptyTensor["arrow_fields"]?["image"]?["type"]?.string == type)
            // And the values pyarrow read are our pixels, row by row.
            let rows = try #require(expected["columns"]?["image"]?.array)
            #expect(rows.count == 5)
            #expect(rows.first?.array?.compactMap(\.int) == pixels[0..<24].map(Int.init))
        }
    }
}
