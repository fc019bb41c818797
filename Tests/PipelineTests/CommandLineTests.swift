import Foundation
import Parquet
import SluiceTestSupport
import Testing

/// `sluice run` as a user runs it: the real binary, real preprocessing and a real (small) ResNet.
@Suite("sluice run, as a process", .serialized)
struct CommandLineTests {
    static let sluice: String = {
        let directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let candidates = [directory, directory.deletingLastPathComponent()].map { $0.appendingPathComponent("sluice").path }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates[0]
    }()

    static func temporaryDirectory() throws -> String { try TestData.temporaryDirectory("cli") }

    @discardableResult
    static func run(_ arguments: [String], wait: Bool = true) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: sluice)
        process.arguments = arguments
        process.standardError = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        if wait { process.waitUntilExit() }
        return process
    }

    /// Standard output of `python3 -c script argument`, which must succeed.
    static func python(_ script: String, _ argument: String, failure: Comment) throws -> Data {
        let python = Process()
        python.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        python.arguments = ["python3", "-c", script, argument]
        let pipe = Pipe()
        python.standardOutput = pipe
        try python.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        python.waitUntilExit()
        try #require(python.terminationStatus == 0, failure)
        return data
    }

    static func gen(_ directory: String, images: Int, rowsPerFile: Int) throws {
        let process = try run(["gen", "--out", directory, "--images", String(images), "--rows-per-file", String(rowsPerFile)])
        try #require(process.terminationStatus == 0)
    }

    static func predictionRows(_ output: String) throws -> [String] {
        let parts = try FileManager.default.contentsOfDirectory(atPath: output).filter { $0.hasSuffix(".parquet") }.sorted()
        return try parts.flatMap { part in
            let reader = try ParquetFileReader(path: (output as NSString).appendingPathComponent(part))
            return try (0..<reader.rowGroupCount).flatMap { try reader.readRows(rowGroup: $0).map(JSONRendering.render(row:)) }
        }
    }

    @Test("a run killed with SIGKILL at any moment resumes: nothing lost, nothing duplicated", arguments: [
        ["--batch-size", "4"],
        // The server batches requests as they come: one image per model call keeps the logits bit-identical.
        ["--strategy", "per-request", "--batch-size", "1", "--model-threads", "2"],
    ])
    func sigkillResume(_ strategy: [String]) throws {
        let root = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let input = (root as NSString).appendingPathComponent("in"), output = (root as NSString).appendingPathComponent("out")
        try Self.gen(input, images: 48, rowsPerFile: 8)
        let arguments = ["run", "--input", input, "--model", "resnet18", "--no-progress"] + strategy

        let killed = try Self.run(arguments + ["--output", output], wait: false)
        // Kill it once some parts are committed and others are not.
        let deadline = Date().addingTimeInterval(120)
        var committed = 0
        while Date() < deadline && killed.isRunning {
            committed = ((try? FileManager.default.contentsOfDirectory(atPath: output)) ?? []).filter { $0.hasSuffix(".parquet") && !$0.hasPrefix(".") }.count
            if committed >= 2 { break }
            usleep(20_000)
        }
        kill(killed.processIdentifier, SIGKILL)
        killed.waitUntilExit()
        #expect(committed >= 2 && committed < 6, "killed after \(committed) of 6 parts")
        #expect(!FileManager.default.fileExists(atPath: (output as NSString).appendingPathComponent("_SUCCESS")))
        for part in try FileManager.default.contentsOfDirectory(atPath: output) where part.hasSuffix(".parquet") && !part.hasPrefix(".") {
            #expect(throws: Never.self) { _ = try ParquetFileReader(path: (output as NSString).appendingPathComponent(part)) }
        }

        let resumed = try Self.run(arguments + ["--output", output])
        #expect(resumed.terminationStatus == 0)
        #expect(FileManager.default.fileExists(atPath: (output as NSString).appendingPathComponent("_SUCCESS")))
        #expect(try FileManager.default.contentsOfDirectory(atPath: output).allSatisfy { !$0.hasPrefix(".tmp") })
        let rows = try Self.predictionRows(output)
        #expect(rows.count == 48)

        let clean = (root as NSString).appendingPathComponent("clean")
        try #require(try Self.run(arguments + ["--output", clean]).terminationStatus == 0)
        #expect(rows == (try Self.predictionRows(clean)), "resumed output equals an uninterrupted run")
    }

    @Test("memory stays flat: ten times the data does not raise peak RSS")
    func memoryIsFlat() throws {
        let root = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        func peakRSS(images: Int) throws -> Int64 {
            let input = (root as NSString).appendingPathComponent("in-\(images)")
            try Self.gen(input, images: images, rowsPerFile: 20)
            let stats = (root as NSString).appendingPathComponent("stats-\(images).json")
            let process = try Self.run(["run", "--input", input, "--output", (root as NSString).appendingPathComponent("out-\(images)"),
                                        "--model", "resnet18", "--batch-size", "4", "--max-memory", "64MiB", "--no-progress", "--stats-json", stats])
            try #require(process.terminationStatus == 0)
            let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: stats))) as? [String: Any]
            return (report?["peakRSSBytes"] as? NSNumber)?.int64Value ?? 0
        }
        // The pool holds at most 3 batches of 4: 120 images is ten times that.
        let small = try peakRSS(images: 12), large = try peakRSS(images: 120)
        #expect(small > 0)
        #expect(Double(large) < Double(small) * 1.15 + 16 * 1_048_576, "peak RSS \(small) → \(large) bytes")
    }

    @Test("sluice bench passes the model options on to each strategy's run (int8 needs its calibration there)")
    func benchPassesModelOptions() throws {
        let root = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let input = (root as NSString).appendingPathComponent("in")
        let calibration = (root as NSString).appendingPathComponent("calibration.npy")
        try Self.gen(input, images: 4, rowsPerFile: 4)
        _ = try Self.python("import sys, numpy as np; np.save(sys.argv[1], np.random.default_rng(0).standard_normal((2, 3, 224, 224), dtype=np.float32))",
                            calibration, failure: "numpy could not write the calibration batch")
        let bench = try Self.run(["bench", "--input", input, "--model", "resnet18", "--precision", "int8", "--calibration", calibration,
                                  "--convolution", "direct", "--strategies", "streaming", "--no-peers", "--batch-size", "4",
                                  "--report-directory", root])
        #expect(bench.terminationStatus == 0)
        let report = try String(contentsOfFile: (root as NSString).appendingPathComponent("bench-report.md"), encoding: .utf8)
        #expect(report.contains("int8"))
    }

    @Test("pyarrow reads the predictions: ids, top-k classes, scores, labels, logits as a tensor")
    func pyarrowReadsPredictions() throws {
        let root = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let input = (root as NSString).appendingPathComponent("in"), output = (root as NSString).appendingPathComponent("out")
        try Self.gen(input, images: 6, rowsPerFile: 6)
        try #require(try Self.run(["run", "--input", input, "--output", output, "--model", "resnet18", "--batch-size", "4",
                                   "--logits", "--no-progress"]).terminationStatus == 0)
        let part = (output as NSString).appendingPathComponent("part-00000.parquet")
        let script = """
        import json, sys, pyarrow.parquet as pq
        t = pq.read_table(sys.argv[1])
        f = t.schema.field("logits")
        print(json.dumps({"rows": t.num_rows, "columns": t.column_names, "ids": t.column("id").to_pylist(),
                          "top_k": t.column("top_k").to_pylist(), "labels": t.column("labels").to_pylist(),
                          "scores_sum_first": sum(t.column("scores").to_pylist()[0]),
                          "logits_extension": f.metadata[b"ARROW:extension:name"].decode(),
                          "logits_shape": f.metadata[b"ARROW:extension:metadata"].decode(),
                          "logits_len": len(t.column("logits").to_pylist()[0])}))
        """
        let data = try Self.python(script, part, failure: "pyarrow could not read the predictions")
        let seen = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(seen["rows"] as? Int == 6)
        #expect(seen["columns"] as? [String] == ["id", "top_k", "scores", "labels", "logits"])
        #expect(seen["logits_extension"] as? String == "ray.data.arrow_tensor_v2")
        #expect(seen["logits_shape"] as? String == "[1000]")
        #expect(seen["logits_len"] as? Int == 1000)
        #expect(((seen["scores_sum_first"] as? Double) ?? 2) <= 1.0)
        let ours = try ParquetFileReader(path: part).readRows(rowGroup: 0)
        #expect(seen["ids"] as? [String] == ours.map { row -> String in
            if case let .string(id) = row[0].value { return id }
            return ""
        })
        let topK = (seen["top_k"] as? [[Int]]) ?? []
        #expect(topK.count == 6)
        for (row, classes) in zip(ours, topK) {
            #expect(row[1].value == .list(classes.map { .int(Int64($0)) }))
        }
        let labels = (seen["labels"] as? [[String]]) ?? []
        #expect(labels.first?.count == 5)
    }
}
