import Foundation
import Testing

/// `--device` as a user meets it, on a machine without a GPU (this one, and CI's).
@Suite("--device on the command line", .serialized)
struct DeviceCommandLineTests {
    /// Exit status and standard error of `sluice arguments`.
    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, stderr: String, stdout: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLineTests.sluice)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let errors = Pipe(), output = Pipe()
        process.standardError = errors
        process.standardOutput = output
        try process.run()
        let stderr = errors.fileHandleForReading.readDataToEndOfFile()
        let stdout = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stderr, as: UTF8.self), String(decoding: stdout, as: UTF8.self))
    }

    /// No GPU here: the probe fails, unless a CUDA driver was installed on this machine after all.
    static var noGPU: Bool { !FileManager.default.fileExists(atPath: "/dev/nvidiactl") }

    @Test("run --device cuda without a GPU: exit 2 with the loader's error, before any input is opened",
          .enabled(if: DeviceCommandLineTests.noGPU, "this machine has a GPU"), arguments: ["cuda", "cuda:1", "cuda:all"])
    func noGPUFailsFirst(_ device: String) throws {
        let root = try CommandLineTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let missing = (root as NSString).appendingPathComponent("no-such-input")
        let output = (root as NSString).appendingPathComponent("out")
        let result = try Self.run(["run", "--input", missing, "--output", output, "--device", device, "--no-progress"],
                                  environment: ["SLUICE_CUDA_LIBRARY_PATH": (root as NSString).appendingPathComponent("no-cuda-here")])
        #expect(result.status == 2)
        #expect(result.stderr.contains("--device \(device == "cuda" ? "cuda:0" : device): "), "\(result.stderr)")
        // The loader's error: what it looked for and where, the override first.
        #expect(result.stderr.contains("libcuda.so.1") && result.stderr.contains("no-cuda-here"), "\(result.stderr)")
        // The input was never looked at: its error would name it.
        #expect(!result.stderr.contains("no-such-input"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: output))
    }

    @Test("eval and predict --device cuda without a GPU: exit 2 before reading their inputs",
          .enabled(if: DeviceCommandLineTests.noGPU, "this machine has a GPU"))
    func otherCommands() throws {
        let eval = try Self.run(["eval", "--input", "/no/such/dataset", "--labels", "/no/such/dataset/labels.csv", "--device", "cuda", "--no-progress"])
        #expect(eval.status == 2 && eval.stderr.contains("--device cuda:0: ") && !eval.stderr.contains("/no/such/dataset"), "\(eval.stderr)")
        let predict = try Self.run(["predict", "--device", "cuda", "/no/such/image.jpg"])
        #expect(predict.status == 2 && predict.stderr.contains("--device cuda:0: ") && !predict.stderr.contains("/no/such/image.jpg"), "\(predict.stderr)")
    }

    @Test("a bad --device value, or a precision the device cannot run: exit 2 with a message naming the flag")
    func badValues() throws {
        let root = try CommandLineTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let output = (root as NSString).appendingPathComponent("out")
        let base = ["run", "--input", "/no/such/input", "--output", output, "--no-progress"]
        let bad = try Self.run(base + ["--device", "cuda:x"])
        #expect(bad.status == 2 && bad.stderr.contains("'cuda:x' is not a device"), "\(bad.stderr)")
        let fp16 = try Self.run(base + ["--precision", "fp16"])
        #expect(fp16.status == 2 && fp16.stderr.contains("--precision fp16 needs a GPU"), "\(fp16.stderr)")
        let tf32 = try Self.run(base + ["--device", "cpu", "--precision", "tf32"])
        #expect(tf32.status == 2 && tf32.stderr.contains("--precision tf32 needs a GPU"), "\(tf32.stderr)")
        #expect(!FileManager.default.fileExists(atPath: output))
    }

    @Test("--device auto without a GPU runs on the CPU and says so", .enabled(if: DeviceCommandLineTests.noGPU, "this machine has a GPU"))
    func autoFallsBack() throws {
        let root = try CommandLineTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let input = (root as NSString).appendingPathComponent("in")
        try CommandLineTests.gen(input, images: 4, rowsPerFile: 4)
        let result = try Self.run(["run", "--input", input, "--output", (root as NSString).appendingPathComponent("out"), "--model", "resnet18",
                                   "--device", "auto", "--model-replicas", "1", "--no-progress"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("device: auto → cpu (no usable GPU: "), "\(result.stderr)")
    }

    @Test("--help explains --device, the precisions per device and where the CUDA libraries are searched", arguments: ["run", "predict", "bench", "eval"])
    func help(_ command: String) throws {
        let result = try Self.run([command, "--help"])
        let text = result.stdout.replacingOccurrences(of: "\n", with: " ").split(separator: " ").joined(separator: " ")
        #expect(text.contains("--device"))
        #expect(text.contains("cuda:all"))
        #expect(text.contains("SLUICE_CUDA_LIBRARY_PATH"))
        #expect(text.contains("On a GPU: fp16 (default)"))
    }
}
