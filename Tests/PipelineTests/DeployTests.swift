import Foundation
import SluiceTestSupport
import Testing

/// The launchers in deploy/: their structure (no cluster runs here), and the Ray launcher on a local Ray
/// cluster with one of its tasks killed.
@Suite("Launchers for Kubernetes, Slurm, AWS Batch and Ray", .serialized)
struct DeployTests {
    static let deploy = TestData.repository.appendingPathComponent("deploy").path
    static let checker = TestData.fixtures.appendingPathComponent("check_deploy.py").path

    /// Exit status and standard output of a command.
    static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }

    @Test("the manifests have what each engine needs, and the checker catches a broken one")
    func manifests() throws {
        let (status, problems) = try Self.run("/usr/bin/env", ["python3", Self.checker, Self.deploy])
        #expect(status == 0, "\(problems)")

        let broken = try TestData.temporaryDirectory("deploy") + "/deploy"
        try FileManager.default.copyItem(atPath: Self.deploy, toPath: broken)
        let job = broken + "/kubernetes/sluice-job.yaml"
        let text = try String(contentsOfFile: job, encoding: .utf8)
        try text.replacingOccurrences(of: "--shards=16", with: "--shards=8").write(toFile: job, atomically: true, encoding: .utf8)
        let (brokenStatus, found) = try Self.run("/usr/bin/env", ["python3", Self.checker, broken])
        #expect(brokenStatus == 1 && found.contains("--shards must equal completions"), "\(found)")
    }

    /// The PIDs of running `sluice run … --files-from …` processes (the Ray tasks' workers).
    static func rayWorkers() -> [Int32] {
        let pids = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return pids.compactMap(Int32.init).filter { pid in
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            let arguments = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            return arguments.first?.hasSuffix("sluice") == true && arguments.contains("--files-from")
        }
    }

    @Test("sluice_ray.py on a local Ray cluster: a task killed mid-run is retried; the output is one run's")
    func rayLauncher() throws {
        let root = try TestData.temporaryDirectory("ray")
        let input = root + "/in", reference = root + "/reference", output = root + "/out"
        let model = ["--model", "resnet18", "--model-replicas", "1", "--batch-size", "1", "--logits"]
        try #require(try Self.run(CommandLineTests.sluice, ["gen", "--out", input, "--images", "24", "--rows-per-file", "3"]).0 == 0)
        try #require(try Self.run(CommandLineTests.sluice, ["run", "--input", input, "--output", reference, "--model-threads", "1", "--no-progress"] + model).0 == 0)

        var environment = ProcessInfo.processInfo.environment
        environment["RAY_DISABLE_USAGE_STATS"] = "1"
        environment["RAY_USAGE_STATS_ENABLED"] = "0"
        environment["SLUICE_CACHE_DIR"] = root + "/cache"
        let killer = Thread {
            // Kill the first task's sluice as soon as it runs; Ray retries the task.
            let deadline = Date().addingTimeInterval(120)
            while Date() < deadline {
                if let pid = Self.rayWorkers().first {
                    Thread.sleep(forTimeInterval: 0.5)
                    kill(pid, SIGKILL)
                    FileManager.default.createFile(atPath: root + "/killed", contents: Data("\(pid)".utf8))
                    return
                }
                Thread.sleep(forTimeInterval: 0.05)
            }
        }
        killer.start()
        let (status, report) = try Self.run("/usr/bin/env", [
            "python3", Self.deploy + "/ray/sluice_ray.py", "--input", input, "--output", output, "--tasks", "4",
            "--num-cpus", "1", "--max-retries", "2", "--sluice", CommandLineTests.sluice, "--",
        ] + model, environment: environment)
        #expect(status == 0, "\(report)")
        #expect(FileManager.default.fileExists(atPath: root + "/killed"), "a task's sluice was killed")
        #expect(report.contains("\"complete\": true"), "\(report)")
        #expect(try CommandLineTests.predictionRows(output) == (try CommandLineTests.predictionRows(reference)))
        #expect(FileManager.default.fileExists(atPath: output + "/_SUCCESS"))
    }
}
