import Foundation
import Parquet
import Testing

/// `sluice run` and `sluice inspect` on plain list image columns, as a user runs them: the real binary,
/// real preprocessing and a real (small) ResNet.
@Suite("sluice run on plain list columns, as a process", .serialized)
struct TensorListCommandLineTests {
    /// Exit status and standard output of `sluice arguments`.
    static func sluice(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLineTests.sluice)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test("Spark's array<smallint>, datasets' Array3D and pyarrow's list<uint8> give the predictions of Ray's layout")
    func sameAsRay() throws {
        let root = try CommandLineTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        func predictions(_ file: String, _ extra: [String] = []) throws -> [String] {
            let output = (root as NSString).appendingPathComponent("out-\(UUID().uuidString.prefix(8))")
            let run = try Self.sluice(["run", "--input", TensorListPipelineTests.path(file), "--output", output, "--model", "resnet18",
                                       "--batch-size", "4", "--id-column", "id", "--no-progress"] + extra)
            #expect(run.status == 0, "\(file)")
            return try CommandLineTests.predictionRows(output)
        }
        let ray = try predictions("ray_uint8.parquet")
        #expect(ray.count == 6)
        #expect(try predictions("spark/spark_array_smallint.parquet", ["--image-shape", "8,8,3"]) == ray)
        #expect(try predictions("huggingface/hf_array3d_uint8.parquet") == ray)
        #expect(try predictions("list_uint8_dictionary_zstd.parquet") == ray)
        #expect(try predictions("chw_list_uint8.parquet", ["--image-shape", "8,8,3", "--image-layout", "chw"]) == ray)
    }

    @Test("inspect says what run does with each candidate column; a bad --image-shape is a usage error")
    func inspect() throws {
        let (status, output) = try Self.sluice(["inspect", TensorListPipelineTests.path("spark/spark_array_smallint.parquet")])
        #expect(status == 0)
        #expect(output.contains("image column image: list<int16>, stored [8, 8, 3] hwc; shape inferred from the row length; read as 8×8×3 uint8 pixels, then preprocessed [run's default image column]"))
        let bad = try Self.sluice(["run", "--input", "x", "--output", "y", "--image-shape", "8,8"])
        #expect(bad.status == 2)
    }
}
