import Foundation
import Parquet
import Pipeline
import Testing

@Suite("Synthetic datasets")
struct DatasetGeneratorTests {
    @Test("images are deterministic per seed and index, differ across both, and use the whole byte range")
    func deterministicImages() {
        func render(seed: UInt64, index: Int) -> [UInt8] {
            let images = SyntheticImages(seed: seed)
            var out = [UInt8](repeating: 0, count: images.bytesPerImage)
            out.withUnsafeMutableBufferPointer { images.render(index: index, into: $0) }
            return out
        }
        let a = render(seed: 7, index: 3)
        #expect(a == render(seed: 7, index: 3))
        #expect(a != render(seed: 7, index: 4))
        #expect(a != render(seed: 8, index: 3))
        #expect(Set(a).count > 200, "photo-like images use most byte values")
    }

    @Test("gen writes Ray-layout files that read back as the same tensors")
    func writesRayLayout() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-gen-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var generator = DatasetGenerator(images: 5)
        generator.rowsPerFile = 2
        generator.seed = 11
        generator.height = 8
        generator.width = 6
        let report = try generator.write(to: directory)
        #expect(report.files.map { URL(fileURLWithPath: $0).lastPathComponent } == ["part-00000.parquet", "part-00001.parquet", "part-00002.parquet"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).allSatisfy { $0.hasSuffix(".parquet") }, "no temporary files left")

        let images = SyntheticImages(seed: 11, height: 8, width: 6)
        var index = 0
        for file in report.files {
            let reader = try ParquetFileReader(path: file)
            let field = try #require(try reader.arrowSchema()?.fields.first)
            #expect(field.metadataValue("ARROW:extension:name") == "ray.data.arrow_tensor_v2")
            #expect(field.metadataValue("ARROW:extension:metadata") == "[8, 6, 3]")
            let tensors = try TensorColumnReader(file: reader, column: "image")
            while let batch = try tensors.next(targetRows: 10) {
                for row in 0..<batch.rowCount {
                    var expected = [UInt8](repeating: 0, count: images.bytesPerImage)
                    expected.withUnsafeMutableBufferPointer { images.render(index: index, into: $0) }
                    #expect(Array(batch.row(row)) == expected, "image \(index)")
                    index += 1
                }
            }
        }
        #expect(index == 5)
    }
}

@Suite("Class labels")
struct ClassLabelTests {
    @Test("the shipped ImageNet class names are the shared list, in torchvision's order")
    func imageNetNames() throws {
        let shared = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("shared/data/imagenet-classes.txt")
        let path = ProcessInfo.processInfo.environment["SLUICE_SHARED"].map { $0 + "/data/imagenet-classes.txt" } ?? shared.path
        let names = ClassLabels.imageNet
        #expect(names.count == 1000)
        #expect(names == (try ClassLabels.load(path)))
        #expect(names[0] == "tench")
        #expect(names[999] == "toilet tissue")
    }
}
