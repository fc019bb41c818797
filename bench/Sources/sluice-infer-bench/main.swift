// Model-only throughput of Sluice's inference engine, printed side by side with PyTorch and ONNX Runtime
// from the same run, and as a fraction of the machine's measured arithmetic peak.
//
//   sluice-infer-bench [--model resnet50] [--batches 1,16,64] [--precisions fp32,bf16,int8] [--threads 2]
//                      [--seconds 5] [--no-peers] [--micro-batch N] [--convolution fastest|direct] [--onnx FILE]
//                      [--streams both|1|N] [--json] [--dispatch] [--no-peak]
//
// --onnx FILE: Sluice runs the ONNX model (imported), and ONNX Runtime the same file; --model then only names
// the ResNet whose multiply-adds the GFLOP/s figures use. A precision the model cannot be compiled for (e.g. int8
// of an operator the quantiser refuses) is reported as unsupported, with the error, and the others still run.
// --json: one JSON object per Sluice measurement on stdout (`json: ` prefix; scripts/bench-onnx reads them).
// --dispatch: the implementation oneDNN chose for each primitive (a `ref` one is a slow reference kernel).
//
// Peers: bench/peers/torch_resnet.py (interpreter: $SLUICE_TORCH_PYTHON, default /usr/bin/python3, e.g.
// Debian's python3-torchvision) and bench/peers/onnxruntime_resnet.py ($SLUICE_ORT_PYTHON, default python3
// with `pip install onnxruntime`) on the ONNX export the first one writes to bench/data/.
import CPeak
import Dispatch
import Foundation
import ONNX
import Inference
import Pipeline

struct Options {
    var model = "resnet50"
    var batches = [1, 16, 64]
    var precisions: [Precision] = [.fp32, .bf16, .int8]
    var threads = 2
    var seconds = 5.0
    var peers = true
    var microBatch: Int?
    var convolution = ConvolutionAlgorithm.fastest
    var onnx: String?
    /// Stream counts to measure: [1, threads] by default (the better one is reported).
    var streams: [Int]?
    var json = false
    var dispatch = false
    var peak = true

    init(_ arguments: [String]) throws {
        var rest = arguments[...]
        func value(_ flag: String) throws -> String {
            guard let v = rest.popFirst() else { throw BenchError("\(flag) needs a value") }
            return v
        }
        while let flag = rest.popFirst() {
            switch flag {
            case "--model": model = try value(flag)
            case "--batches": batches = try value(flag).split(separator: ",").compactMap { Int($0) }
            case "--precisions":
                precisions = try value(flag).split(separator: ",").map {
                    guard let p = Precision(rawValue: String($0)) else { throw BenchError("unknown precision \($0)") }
                    return p
                }
            case "--threads": threads = Int(try value(flag)) ?? 2
            case "--seconds": seconds = Double(try value(flag)) ?? 5
            case "--no-peers": peers = false
            case "--onnx": onnx = try value(flag)
            case "--json": json = true
            case "--dispatch": dispatch = true
            case "--no-peak": peak = false
            case "--streams":
                let text = try value(flag)
                if text != "both" {
                    streams = try text.split(separator: ",").map {
                        guard let n = Int($0), n > 0 else { throw BenchError("--streams takes both or positive counts, not \(text)") }
                        return n
                    }
                }
            case "--micro-batch": microBatch = Int(try value(flag))
            case "--convolution":
                let name = try value(flag)
                guard let algorithm = ConvolutionAlgorithm(rawValue: name) else { throw BenchError("unknown convolution algorithm \(name)") }
                convolution = algorithm
            case "-h", "--help":
                print("sluice-infer-bench [--model resnet50] [--batches 1,16,64] [--precisions fp32,bf16,int8] [--threads 2] [--seconds 5] [--no-peers] [--micro-batch N] [--convolution fastest|direct] [--onnx FILE] [--streams both|N,...] [--json] [--dispatch] [--no-peak]")
                exit(0)
            default: throw BenchError("unknown argument \(flag)")
            }
        }
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

/// CPU seconds this process has used (all threads, user and system).
func cpuTime() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

/// GFLOP/s of `threads` threads each running the loop for about `seconds`: as measured, and per CPU-second
/// times the thread count (what the threads reach with the cores to themselves).
enum PeakLoop { case fp32, bf16, int8 }

func runLoop(_ loop: PeakLoop, _ iterations: Int) {
    switch loop {
    case .fp32: _ = sluice_peak_fp32(iterations)
    case .bf16: _ = sluice_peak_bf16(iterations)
    case .int8: _ = sluice_peak_int8(iterations)
    }
}

func peak(threads: Int, loop: PeakLoop, seconds: Double = 1.0) -> (wall: Double, cpu: Double) {
    // Per loop iteration: 16 instructions × (16 fp32 lanes × 2 | 32 bf16 pairs × 2 | 64 u8·s8 pairs × 2).
    let perIteration: Double
    switch loop {
    case .fp32: perIteration = 16 * 16 * 2
    case .bf16: perIteration = 16 * 32 * 2
    case .int8: perIteration = 16 * 64 * 2
    }
    let calibration = 2_000_000
    let t0 = now()
    runLoop(loop, calibration)
    let iterations = max(calibration, Int(Double(calibration) * seconds / max(now() - t0, 1e-6)))
    let group = DispatchGroup()
    let start = now(), cpuStart = cpuTime()
    for _ in 0..<threads {
        group.enter()
        Thread.detachNewThread {
            runLoop(loop, iterations)
            group.leave()
        }
    }
    group.wait()
    let elapsed = now() - start, cpu = cpuTime() - cpuStart
    let flops = Double(iterations) * perIteration * Double(threads)
    return (flops / elapsed / 1e9, flops / cpu * Double(threads) / 1e9)
}

struct Result {
    let name: String
    let config: String
    let batch: Int
    /// Batch size over the median batch time (summed over streams).
    let imagesPerSecond: Double
    /// Images per CPU-second of the process times the thread count.
    let cpuNormalized: Double
}

struct Measurement {
    let median: Double
    let best: Double
    let runs: Int
    let cpuNormalized: Double
    /// The micro-batch the model ran in (timed at compile time unless --micro-batch gave it).
    let microBatch: Int
}

/// Images/s of `streams` copies of the model, each on its own thread with `threads / streams` oneDNN
/// threads, running batches back to back for about `seconds` (at least 3 batches each).
func measure(graph: Graph, precision: Precision, batch: Int, threads: Int, streams: Int, seconds: Double,
             microBatch: Int?, convolution: ConvolutionAlgorithm, dispatch: Bool = false) throws -> Measurement {
    // int8 scales come from 8 seeded inputs (not the timed one).
    let calibration = precision == .int8 ? try calibrationBatch(shape: graph.inputShape) : nil
    let backend = OneDNNBackend(threads: max(1, threads / streams), calibration: calibration, microBatch: microBatch,
                                convolutionAlgorithm: convolution)
    let models = try (0..<streams).map { _ in try backend.compile(graph, batchSize: batch, precision: precision) }
    if dispatch, let first = models.first {
        print("  dispatch (\(precision.rawValue), batch \(batch)):")
        for record in first.dispatchReport { print("    \(record)") }
    }
    let sample = try seededInput(seed: 7, shape: graph.inputShape).floats()
    let outputCount = models.first.map { $0.outputShape.reduce(1, *) } ?? 1000
    var values = [Float](repeating: 0, count: batch * sample.count)
    for n in 0..<batch { values.replaceSubrange((n * sample.count)..<((n + 1) * sample.count), with: sample) }
    let input = values
    final class Times: @unchecked Sendable {
        let lock = NSLock()
        var perStream: [[Double]] = []
        var failure: (any Error)?
    }
    let times = Times()
    let group = DispatchGroup()
    // Warm every model (first-run costs) before the clock starts.
    for model in models {
        var output = [Float](repeating: 0, count: batch * outputCount)
        try input.withUnsafeBufferPointer { i in
            try output.withUnsafeMutableBufferPointer { o in try model.run(input: i, count: batch, output: o) }
        }
    }
    let cpuStart = cpuTime()
    for model in models {
        group.enter()
        Thread.detachNewThread {
            var output = [Float](repeating: 0, count: batch * outputCount)
            var mine: [Double] = []
            do {
                func once() throws -> Double {
                    let t = now()
                    try input.withUnsafeBufferPointer { i in
                        try output.withUnsafeMutableBufferPointer { o in try model.run(input: i, count: batch, output: o) }
                    }
                    return now() - t
                }
                let start = now()
                while mine.count < 3 || now() - start < seconds { mine.append(try once()) }
            } catch {
                times.lock.withLock { times.failure = error }
            }
            times.lock.withLock { times.perStream.append(mine) }
            group.leave()
        }
    }
    group.wait()
    let cpu = cpuTime() - cpuStart
    if let failure = times.failure { throw failure }
    // Throughput: every stream's images over the median batch time of that stream.
    var median = 0.0, best = 0.0, runs = 0
    for var t in times.perStream {
        t.sort()
        median += Double(batch) / t[t.count / 2]
        best += Double(batch) / t[0]
        runs += t.count
    }
    let microBatch = (models.first as? OneDNNModel)?.microBatch ?? batch
    return Measurement(median: median, best: best, runs: runs, cpuNormalized: Double(batch * runs) / cpu * Double(threads),
                       microBatch: microBatch)
}

/// The seeded, image-like input for a per-sample [C, H, W] shape.
func seededInput(seed: UInt64, shape: [Int]) throws -> Tensor {
    guard shape.count == 3 else { throw BenchError("the model's input is \(shape) per sample; the benchmark feeds [C, H, W]") }
    return try SeededWeights.input(seed: seed, channels: shape[0], height: shape[1], width: shape[2])
}

func calibrationBatch(shape: [Int]) throws -> Tensor {
    var values: [Float] = []
    for seed in 100..<108 { values += try seededInput(seed: UInt64(seed), shape: shape).floats() }
    return try Tensor(shape: [8] + shape, values: values)
}

/// One measurement as a JSON line for scripts: `json: {...}`.
func printJSON(_ object: [String: Any]) {
    guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]),
          let text = String(data: data, encoding: .utf8) else { return }
    print("json: \(text)")
    fflush(nil)
}

func runSluice(_ options: Options, graph: Graph) throws -> [Result] {
    var results: [Result] = []
    let streamChoices = options.streams ?? (options.threads > 1 ? [1, options.threads] : [1])
    precisions: for precision in options.precisions {
        for batch in options.batches {
            for streams in streamChoices {
                let m: Measurement
                do {
                    m = try measure(graph: graph, precision: precision, batch: batch, threads: options.threads,
                                    streams: streams, seconds: options.seconds, microBatch: options.microBatch,
                                    convolution: options.convolution, dispatch: options.dispatch && streams == streamChoices[0])
                } catch {
                    print("  sluice \(precision.rawValue) unsupported: \(error)")
                    if options.json { printJSON(["peer": "sluice", "config": precision.rawValue, "batch": batch, "unsupported": "\(error)"]) }
                    continue precisions
                }
                if options.json {
                    printJSON(["peer": "sluice", "config": precision.rawValue, "batch": batch, "streams": streams,
                               "threads": options.threads, "images_per_s": m.median, "best_images_per_s": m.best,
                               "images_per_cpu_s": m.cpuNormalized / Double(options.threads), "runs": m.runs,
                               "micro_batch": m.microBatch])
                }
                let config = streams == 1 ? precision.rawValue : "\(precision.rawValue)-streams"
                results.append(Result(name: "sluice", config: config, batch: batch, imagesPerSecond: m.median,
                                      cpuNormalized: m.cpuNormalized))
                print(String(format: "  sluice %@ batch %3d, %d stream(s) × %d thread(s), micro-batch %d: %7.2f img/s (median of %d runs, best %.2f); CPU-normalized %.2f",
                             precision.rawValue, batch, streams, max(1, options.threads / streams), m.microBatch, m.median, m.runs, m.best,
                             m.cpuNormalized))
                fflush(nil)
            }
        }
    }
    return results
}

func runPeer(_ interpreter: String, script: String, _ arguments: [String]) -> [Result] {
    let objects: [[String: Any]]
    switch PeerProcess.run(python: interpreter, script: script, arguments: arguments) {
    case .success(let printed): objects = printed
    case .failure(let failure):
        print("  peer \(script) failed: \(failure)")
        return []
    }
    var results: [Result] = []
    for object in objects {
        guard let peer = object["peer"] as? String, let config = object["config"] as? String,
              let batch = object["batch"] as? Int, let rate = object["images_per_s"] as? Double
        else { continue }
        let version = object["version"] as? String ?? "?"
        let threads = Double(object["threads"] as? Int ?? 1)
        let cpuNormalized = (object["images_per_cpu_s"] as? Double).map { $0 * threads } ?? .nan
        print(String(format: "  %@ %@ %@ batch %3d: %7.2f img/s; CPU-normalized %.2f", peer, version, config, batch, rate, cpuNormalized))
        results.append(Result(name: peer, config: config, batch: batch, imagesPerSecond: rate, cpuNormalized: cpuNormalized))
    }
    return results
}

do {
    let options = try Options(Array(CommandLine.arguments.dropFirst()))
    guard let variant = ResNet.Variant(rawValue: options.model) else { throw BenchError("unknown model \(options.model)") }
    let gflopPerImage = 2 * variant.multiplyAddsPerImage / 1e9
    print("oneDNN \(OneDNNInfo.version), ISA \(OneDNNInfo.effectiveISA); \(options.model) (\(String(format: "%.2f", gflopPerImage)) GFLOP/image), \(options.convolution.rawValue) convolutions, \(options.threads) threads, load average \(String(format: "%.2f", ProcessInfo.processInfo.loadAverage))")
    let peakFP32 = options.peak && sluice_peak_has_avx512() != 0 ? peak(threads: options.threads, loop: .fp32) : (.nan, .nan)
    let peakBF16 = options.peak && sluice_peak_has_bf16() != 0 ? peak(threads: options.threads, loop: .bf16) : (.nan, .nan)
    let peakINT8 = options.peak && sluice_peak_has_vnni() != 0 ? peak(threads: options.threads, loop: .int8) : (.nan, .nan)
    print(String(format: "peak on %d threads: fp32 %.0f GFLOP/s (vfmadd231ps zmm loop; CPU-normalized %.0f), bf16 %.0f GFLOP/s (vdpbf16ps zmm loop; CPU-normalized %.0f), int8 %.0f GOP/s (vpdpbusd zmm loop; CPU-normalized %.0f)",
                 options.threads, peakFP32.wall, peakFP32.cpu, peakBF16.wall, peakBF16.cpu, peakINT8.wall, peakINT8.cpu))

    let graph = try options.onnx.map { try ONNXModel.load(path: $0).graph }
        ?? ResNet.build(variant, weights: SeededWeights(seed: ModelZoo.defaultSeed))
    print("Sluice:")
    var results = try runSluice(options, graph: graph)

    if options.peers {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let peers = root.appendingPathComponent("peers").path
        let onnx = options.onnx ?? root.appendingPathComponent("data/\(options.model).onnx").path
        let environment = ProcessInfo.processInfo.environment
        let torchPython = environment["SLUICE_TORCH_PYTHON"] ?? "/usr/bin/python3"
        let ortPython = environment["SLUICE_ORT_PYTHON"] ?? "python3"
        let batches = options.batches.map(String.init).joined(separator: ",")
        if options.onnx == nil {
            print("PyTorch (\(torchPython)):")
            results += runPeer(torchPython, script: "\(peers)/torch_resnet.py", ["--model", options.model, "--batches", batches,
                                         "--threads", "\(options.threads)", "--seconds", "\(options.seconds)",
                                         "--export-onnx", onnx])
        }
        print("ONNX Runtime (\(ortPython)):")
        results += runPeer(ortPython, script: "\(peers)/onnxruntime_resnet.py", ["--onnx", onnx, "--batches", batches,
                                       "--threads", "\(options.threads)", "--seconds", "\(options.seconds)"])
    }

    func f(_ v: Double?) -> String { v.map { String(format: "%.2f", $0) } ?? "-" }
    func r(_ a: Double?, _ b: Double?) -> String {
        guard let a, let b, b > 0 else { return "-" }
        return String(format: "%.2f×", a / b)
    }
    func table(_ title: String, cpu: Bool, peak32: Double, peak16: Double, peak8: Double) {
        func rate(_ name: String, _ config: String, _ batch: Int) -> Double? {
            results.first { $0.name == name && $0.config == config && $0.batch == batch }.map { cpu ? $0.cpuNormalized : $0.imagesPerSecond }
        }
        func sluice(_ precision: String, _ batch: Int) -> Double? {
            [rate("sluice", precision, batch), rate("sluice", precision + "-streams", batch)].compactMap { $0 }.max()
        }
        print("\n\(title)")
        print("batch | Sluice fp32 | %peak | PyTorch fp32 | PyTorch fp32 CL | ORT fp32 | ×PT-best | ×ORT || Sluice bf16 | %peak | PyTorch bf16 CL | ×PT || Sluice int8 | %peak | ×Sluice fp32")
        for batch in options.batches {
            let s32 = sluice("fp32", batch), s16 = sluice("bf16", batch), s8 = sluice("int8", batch)
            let pt = rate("pytorch", "fp32", batch), ptcl = rate("pytorch", "fp32_channels_last", batch)
            let ptBest = [pt, ptcl].compactMap { $0 }.max()
            let ort = rate("onnxruntime", "fp32", batch), pt16 = rate("pytorch", "bf16_channels_last", batch)
            let p32 = s32.map { String(format: "%.0f%%", 100 * $0 * gflopPerImage / peak32) } ?? "-"
            let p16 = s16.map { String(format: "%.0f%%", 100 * $0 * gflopPerImage / peak16) } ?? "-"
            let p8 = s8.map { String(format: "%.0f%%", 100 * $0 * gflopPerImage / peak8) } ?? "-"
            print("\(batch) | \(f(s32)) | \(p32) | \(f(pt)) | \(f(ptcl)) | \(f(ort)) | \(r(s32, ptBest)) | \(r(s32, ort)) || \(f(s16)) | \(p16) | \(f(pt16)) | \(r(s16, pt16)) || \(f(s8)) | \(p8) | \(r(s8, s32))")
        }
    }
    print("\nSluice: the better of 1 stream × \(options.threads) threads and \(options.threads) streams × 1 thread; ratio = Sluice / peer; %peak = img/s × \(String(format: "%.2f", gflopPerImage)) GFLOP / peak")
    func g(_ v: Double) -> String { v.isFinite ? String(Int(v)) : "-" }
    table("images/s as measured (median batch time; peak as measured: fp32 \(g(peakFP32.wall)), bf16 \(g(peakBF16.wall)) GFLOP/s, int8 \(g(peakINT8.wall)) GOP/s)",
          cpu: false, peak32: peakFP32.wall, peak16: peakBF16.wall, peak8: peakINT8.wall)
    table("CPU-normalized images/s: images per CPU-second × \(options.threads) threads (independent of other load; peak likewise: fp32 \(g(peakFP32.cpu)), bf16 \(g(peakBF16.cpu)) GFLOP/s, int8 \(g(peakINT8.cpu)) GOP/s)",
          cpu: true, peak32: peakFP32.cpu, peak16: peakBF16.cpu, peak8: peakINT8.cpu)
    print(String(format: "load average at the end: %.2f (other work on the machine lowers every figure)", ProcessInfo.processInfo.loadAverage))
} catch {
    FileHandle.standardError.write(Data("sluice-infer-bench: \(error)\n".utf8))
    exit(1)
}

extension ProcessInfo {
    var loadAverage: Double {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8),
              let first = text.split(separator: " ").first, let value = Double(first) else { return .nan }
        return value
    }
}
