import ArgumentParser
import Foundation
import Pipeline

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Reproduce the Ray Data / Spark / SageMaker comparison on this machine.",
        discussion: """
        Generates (once, cached under bench/data) the benchmark's dataset in Ray's layout — 256×256×3 uint8 \
        images, 1,000 per file — then runs Sluice's streaming, fused, staged and per-request strategies (each as its own \
        process) and the Python peers in bench/peers (Ray Data, Spark fused and staged, a PyTorch loop, an ONNX \
        Runtime loop) when they are installed, all on the same files. Prints the table and writes \
        bench-report.md and bench-chart.svg. --images 16232 reproduces the public benchmark's size.

        With --device cuda the rows are the GPU's: the model alone (fp16, batch 256 by default; one copy, then \
        two on their own streams), each strategy end to end on the GPU (streaming by default), and the PyTorch \
        GPU peers (bench/peers/torch_gpu_model.py eager and torch.compile, torch_gpu_pipeline.py) when PyTorch \
        with CUDA is importable; the CPU peers are not run.
        """
    )

    @Option(help: "Images to generate (ignored with --input).")
    var images = 2000

    @Option(help: "Use this dataset instead of generating one.")
    var input: String?

    @Option(help: "Strategies to run, comma-separated (per-request runs single- and multi-record). (default: streaming,fused,staged,per-request; streaming on a GPU)")
    var strategies: String?

    @OptionGroup var model: ModelOptions

    @OptionGroup(title: "Preprocessing") var preprocessing: PreprocessOptions

    @OptionGroup(title: "Image columns that are plain numeric lists (with --input)") var tensorInput: TensorInputArguments

    @Option(help: "Images per batch. (default: 64 on the CPU, 256 on a GPU)")
    var batchSize: Int?

    @Flag(help: "Skip the Python peers.")
    var noPeers = false

    @Flag(help: "Skip measuring the model alone (every layout of copies × threads; about a minute).")
    var noModelOnly = false

    @Option(help: "Directory of the peer scripts.")
    var peers = "bench/peers"

    @Option(help: "Where to write bench-report.md and bench-chart.svg.")
    var reportDirectory = "."

    @Flag(help: "Print the results as JSON.")
    var json = false

    /// Bad options fail here, before any data is generated.
    func validate() throws {
        _ = try preprocessing.resolved(model: model.model)
        _ = try tensorInput.options()
        _ = try strategyList(gpu: false)
    }

    private func strategyList(gpu: Bool) throws -> [RunConfiguration.Strategy] {
        try (strategies ?? (gpu ? "streaming" : "streaming,fused,staged,per-request")).split(separator: ",").map {
            guard let strategy = RunConfiguration.Strategy(rawValue: $0.trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError("--strategies: unknown strategy '\($0)' (streaming, fused, staged, per-request)")
            }
            return strategy
        }
    }

    func run() throws {
        let (placement, precision) = try model.placement(command: "bench")
        let batchSize = self.batchSize ?? placement.defaultBatchSize
        var runner = BenchRunner(executable: try currentExecutable())
        runner.images = images
        runner.input = input
        runner.model = model.model
        runner.weights = model.weights
        runner.precision = precision.rawValue
        runner.runOptions = model.arguments + preprocessing.arguments + tensorInput.arguments
        runner.batchSize = batchSize
        runner.runPeers = !noPeers
        runner.gpuDevice = placement.isGPU ? model.device : nil
        if !noModelOnly {
            let spec = try preprocessing.resolved(model: model.model).spec
            var factory = model.factory(on: placement, precision: precision, normalization: spec.inputNormalization)
            if factory.needsAutoCalibration { factory = try factory.calibratedOnSeededSamples(count: 16) }
            runner.modelOnly = ModelOnlyBenchmark(factory: factory, batchSize: batchSize)
        }
        runner.peersDirectory = peers
        runner.strategies = try strategyList(gpu: placement.isGPU)
        let report = try runner.run { printError($0) }
        let chart = (reportDirectory as NSString).appendingPathComponent("bench-chart.svg")
        try report.svg().write(toFile: chart, atomically: true, encoding: .utf8)
        try report.markdown(chartFile: "bench-chart.svg").write(toFile: (reportDirectory as NSString).appendingPathComponent("bench-report.md"), atomically: true, encoding: .utf8)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(report.table())
        }
    }
}

/// The path of the running sluice binary, to start each strategy as its own process.
func currentExecutable() throws -> String {
    let path = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    guard FileManager.default.isExecutableFile(atPath: path) else { throw ValidationError("cannot find the sluice executable") }
    return path
}
