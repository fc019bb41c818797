import Foundation
import Testing

/// The exit status tells the truth: 0 only when everything asked for was done, 1 when something failed,
/// 2 for a usage or configuration error.
@Suite("sluice run's exit status", .serialized)
struct ExitStatusTests {
    static func status(_ arguments: [String]) throws -> Int32 {
        try CommandLineTests.run(arguments).terminationStatus
    }

    @Test("a folder holding one corrupt JPEG: a part with the failed row, its error row, exit 1, every strategy")
    func corruptJPEG() throws {
        let root = try CommandLineTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let input = (root as NSString).appendingPathComponent("in")
        try FileManager.default.createDirectory(atPath: input, withIntermediateDirectories: true)
        // A JPEG start-of-image marker followed by garbage.
        try Data([0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 0x4A, 0x46, 0x49, 0x46, 0x00] + [UInt8](repeating: 0x5A, count: 64))
            .write(to: URL(fileURLWithPath: (input as NSString).appendingPathComponent("broken.jpg")))
        for strategy in ["streaming", "fused", "staged"] {
            let output = (root as NSString).appendingPathComponent("out-\(strategy)")
            let arguments = ["run", "--input", input, "--output", output, "--model", "resnet18", "--strategy", strategy, "--no-progress"]
            #expect(try Self.status(arguments) == 1, "\(strategy)")
            let part = (output as NSString).appendingPathComponent("images-00000.parquet")
            #expect(FileManager.default.fileExists(atPath: part), "\(strategy)")
            #expect(FileManager.default.fileExists(atPath: (output as NSString).appendingPathComponent("_errors/images-00000.parquet")))
            // The rerun has nothing left to do, does not crash, and still reports the row that failed.
            #expect(try Self.status(arguments) == 1, "\(strategy) rerun")
        }
    }

    @Test("usage and configuration errors exit 2 and write nothing")
    func usageErrors() throws {
        let root = try CommandLineTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let input = (root as NSString).appendingPathComponent("in")
        try CommandLineTests.gen(input, images: 4, rowsPerFile: 4)
        let output = (root as NSString).appendingPathComponent("out")
        let base = ["run", "--input", input, "--model", "resnet18", "--no-progress"]
        #expect(try Self.status(base + ["--output", output, "--max-memory", "nanGiB"]) == 2)
        #expect(try Self.status(base + ["--output", output, "--max-memory", "1KiB"]) == 2)
        #expect(try Self.status(base + ["--output", output, "--strategy", "sideways"]) == 2)
        #expect(try Self.status(base + ["--output", output, "--shard", "2/2"]) == 2)
        #expect(try Self.status(base + ["--output", input]) == 2)
        #expect(try Self.status(base + ["--output", (input as NSString).appendingPathComponent("predictions")]) == 2)
        #expect(!FileManager.default.fileExists(atPath: output))
        #expect(!FileManager.default.fileExists(atPath: (input as NSString).appendingPathComponent("_SUCCESS")))
    }
}
