import Foundation

/// `sluice bench`: the public comparison on one machine. Generates (once) the seed's dataset in Ray's
/// layout, runs each Sluice strategy as its own process (so peak RSS is per run), runs the Python peers on
/// the same files, and reports them side by side.
public struct BenchRunner: Sendable {
    public var images = 2000
    public var seed: UInt64 = 0
    public var input: String?
    public var dataRoot = "bench/data"
    public var peersDirectory = "bench/peers"
    public var strategies: [RunConfiguration.Strategy] = [.streaming, .fused, .staged, .perRequest]
    public var model = "resnet50"
    public var weights: String?
    public var precision = "fp32"
    /// More `sluice run` options for every strategy (calibration, convolution algorithm, preprocessing).
    public var runOptions: [String] = []
    public var batchSize = 64
    public var runPeers = true
    public var peerTimeout: TimeInterval = 3600
    /// The model, measured alone first (every layout of the cores) when given: the ceiling of the strategies.
    public var modelOnly: ModelOnlyBenchmark?
    /// On GPUs (`--device` of the runs, e.g. "cuda"): the peers are PyTorch on the GPU (model alone, eager and
    /// torch.compile; and its best pipeline), run when PyTorch with CUDA is importable. nil: the CPU peers.
    public var gpuDevice: String?
    /// The PyTorch pipeline peer's DataLoader workers on a GPU machine.
    public var gpuPeerWorkers = max(1, ProcessInfo.processInfo.activeProcessorCount - 2)
    public var gpuPeerSeconds = 20
    /// The sluice executable that runs each strategy.
    public var executable: String

    public init(executable: String) { self.executable = executable }

    /// The dataset directory, generated if missing (a `_COMPLETE` marker says a previous run finished it).
    public func dataset(log: (String) -> Void) throws -> String {
        if let input { return input }
        let directory = (dataRoot as NSString).appendingPathComponent("seed-\(images)-\(seed)")
        let marker = (directory as NSString).appendingPathComponent("_COMPLETE")
        if FileManager.default.fileExists(atPath: marker) { return directory }
        log("generating \(images) images in Ray's layout into \(directory) (once; later runs reuse it)")
        var generator = DatasetGenerator(images: images)
        generator.seed = seed
        _ = try generator.write(to: directory) { log("  wrote \($0)") }
        FileManager.default.createFile(atPath: marker, contents: Data())
        return directory
    }

    public func run(log: @escaping (String) -> Void) throws -> BenchReport {
        let data = try dataset(log: log)
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-bench-\(ProcessInfo.processInfo.processIdentifier)").path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        var entries: [BenchEntry] = []
        var missing: [String: String] = [:]
        var imageCount = 0

        if let modelOnly {
            log("measuring the model alone (\(Int(modelOnly.seconds)) s per configuration)")
            entries += try modelOnly.run(log: log)
        }
        // per-request runs twice: Batch Transform's two ways of splitting files into requests.
        let runs: [(name: String, strategy: RunConfiguration.Strategy, extra: [String])] = strategies.flatMap { strategy in
            strategy == .perRequest
                ? RequestBatching.allCases.map { ("per-request \($0.rawValue)", strategy, ["--batch-strategy", $0.rawValue]) }
                : [(strategy.rawValue, strategy, [])]
        }
        for (name, strategy, extra) in runs {
            log("running sluice --strategy \(strategy.rawValue) \(extra.joined(separator: " "))")
            let tag = name.replacingOccurrences(of: " ", with: "-")
            let output = (scratch as NSString).appendingPathComponent("sluice-\(tag)")
            let stats = (scratch as NSString).appendingPathComponent("stats-\(tag).json")
            var arguments = ["run", "--input", data, "--output", output, "--strategy", strategy.rawValue, "--model", model,
                             "--precision", precision, "--batch-size", String(batchSize), "--stats-json", stats, "--no-progress"] + extra
            if let weights { arguments += ["--weights", weights] }
            arguments += runOptions
            let status = try runProcess(executable, arguments)
            guard status == 0, let report = try? JSONDecoder().decode(JobReport.self, from: Data(contentsOf: URL(fileURLWithPath: stats))) else {
                throw PipelineError.configuration("sluice run --strategy \(strategy.rawValue) \(extra.joined(separator: " ")) failed (exit \(status))")
            }
            imageCount = report.images
            entries.append(BenchEntry(name: "sluice \(name)", kind: "sluice", images: report.images, seconds: report.seconds,
                                      imagesPerSecond: report.imagesPerSecond, peakRSSBytes: report.peakRSSBytes,
                                      cpuUtilisation: report.cpuUtilisation))
            log(String(format: "  %.1f images/s", report.imagesPerSecond))
        }

        if runPeers {
            for peer in peers(data: data, scratch: scratch) {
                log("running peer \(peer.name)")
                switch peer.run(timeout: peerTimeout) {
                case let .measured(entry):
                    entries.append(entry)
                    log(String(format: "  %.1f images/s", entry.imagesPerSecond))
                case let .missing(reason):
                    missing[peer.name] = reason
                    log("  not run: \(reason)")
                }
            }
        }
        return BenchReport(dataset: data, images: imageCount, model: model, precision: precision, batchSize: batchSize,
                           cores: ProcessInfo.processInfo.activeProcessorCount, entries: entries, peersMissing: missing)
    }

    private func peers(data: String, scratch: String) -> [PeerRunner] {
        func script(_ name: String) -> String { (peersDirectory as NSString).appendingPathComponent(name) }
        if gpuDevice != nil {
            let model = ["--model", self.model, "--batch", String(batchSize), "--precision", precision, "--seconds", String(gpuPeerSeconds)]
            return [
                PeerRunner(name: "PyTorch GPU model only eager", script: script("torch_gpu_model.py"), arguments: model + ["--mode", "eager"]),
                PeerRunner(name: "PyTorch GPU model only torch.compile", script: script("torch_gpu_model.py"), arguments: model + ["--mode", "compile"]),
                PeerRunner(name: "PyTorch GPU pipeline", script: script("torch_gpu_pipeline.py"),
                           arguments: ["--dataset", data, "--batch", String(batchSize), "--workers", String(gpuPeerWorkers)]),
            ]
        }
        func common(_ tag: String) -> [String] {
            var arguments = ["--input", data, "--output", (scratch as NSString).appendingPathComponent("peer-\(tag)"), "--batch-size", String(batchSize)]
            if let weights { arguments += ["--weights", weights] }
            return arguments
        }
        var list = [
            PeerRunner(name: "Ray Data", script: script("ray_data_peer.py"), arguments: common("ray")),
            PeerRunner(name: "Spark fused", script: script("spark_peer.py"), arguments: common("spark-fused") + ["--mode", "fused"]),
            PeerRunner(name: "Spark staged", script: script("spark_peer.py"), arguments: common("spark-staged") + ["--mode", "staged"]),
            PeerRunner(name: "PyTorch loop", script: script("torch_loop_peer.py"), arguments: common("torch") + ["--precision", precision]),
        ]
        if precision == "fp32" {
            list.append(PeerRunner(name: "ONNX Runtime loop", script: script("onnxruntime_peer.py"), arguments: common("onnxruntime")))
        }
        return list
    }

    private func runProcess(_ path: String, _ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }
}
