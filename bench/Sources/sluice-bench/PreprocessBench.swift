// sluice-bench preprocess: images → model input (float32 [3, 224, 224], torchvision's ImageNet evaluation
// transform) with Sluice's Imaging module and, in the same run on the same inputs, with torchvision
// (bench/peers/torchvision_preprocess.py).
import Dispatch
import Foundation
import Imaging
import Pipeline

private let preprocessUsage = """
usage: sluice-bench preprocess [--images DIR] [--raw N] [--repeat R] [--threads T] [--fast-decode] [--no-peer]
                               [--only raw,jpeg-256,photos] [--decode-only]

  raw        N synthetic 256×256×3 uint8 images (the seed's tensors; `sluice gen` makes the same) → 3×224×224
  jpeg-256   the same N images as quality-90 JPEGs (what `sluice gen --format jpeg` stores)
  photos     the real photographs DIR/photo-*.jpg (default ../shared/data/images, or $SLUICE_SHARED/data/images)
Each is timed on one thread (best of R passes; wall time and the thread's CPU time, the steadier measure on
a shared machine) and on T threads at once (each running the whole set). --decode-only adds decoding alone.
The peer runs with $SLUICE_TORCH_PYTHON, else /usr/bin/python3 (Debian's python3-torchvision).
"""

private enum Workload {
    case raw(bytes: [UInt8], count: Int)
    case encoded([[UInt8]])

    var count: Int {
        switch self {
        case let .raw(_, count): count
        case let .encoded(items): items.count
        }
    }
}

/// Decodes every image of an encoded workload once (no resize or normalisation); returns a checksum.
private func decodePass(_ items: [[UInt8]], _ decoder: ImageDecoder) throws -> Int {
    var checksum = 0
    for item in items {
        checksum &+= try item.withUnsafeBytes { try decoder.decode($0).pixels.width }
    }
    return checksum
}

/// Slots of the output batch: images go round them, as they would fill a batch buffer (so outputs are
/// written to memory, not to one cache-resident slot).
private let batchSlots = 32
private let slotSize = 3 * 224 * 224

/// Preprocesses every image of `workload` once with `preprocessor` into `output` (a batch buffer);
/// returns a checksum.
private func pass(_ workload: Workload, _ preprocessor: ImagePreprocessor, _ output: inout [Float]) throws -> Float {
    var checksum: Float = 0
    try output.withUnsafeMutableBufferPointer { batch in
        func slot(_ i: Int) -> UnsafeMutableBufferPointer<Float> {
            UnsafeMutableBufferPointer(rebasing: batch[(i % batchSlots) * slotSize..<(i % batchSlots + 1) * slotSize])
        }
        switch workload {
        case let .raw(bytes, count):
            let size = 256 * 256 * 3
            try bytes.withUnsafeBytes { all in
                for i in 0..<count {
                    try preprocessor.preprocess(tensor: UnsafeRawBufferPointer(rebasing: all[i * size..<(i + 1) * size]),
                                                shape: [256, 256, 3], into: .nchwFloat32(slot(i)))
                    checksum += slot(i)[112 * 224 + 112]
                }
            }
        case let .encoded(items):
            for (i, item) in items.enumerated() {
                try item.withUnsafeBytes { _ = try preprocessor.preprocess(encoded: $0, into: .nchwFloat32(slot(i))) }
                checksum += slot(i)[112 * 224 + 112]
            }
        }
    }
    return checksum
}

private func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

/// CPU time of the calling thread: unlike wall time, it does not count time other processes on a shared
/// machine took from us.
private func threadCPUSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}

private struct Timing {
    /// Best wall time of a one-thread pass.
    var serial: Double
    /// Best CPU time of a one-thread pass.
    var serialCPU: Double
    var parallel: Double?
}

private func measure(_ workload: Workload, spec: PreprocessSpec, repeats: Int, threads: Int) throws -> Timing {
    let preprocessor = try ImagePreprocessor(spec: spec)
    var output = [Float](repeating: 0, count: batchSlots * slotSize)
    _ = try pass(workload, preprocessor, &output)  // warm up: scratch buffers reach their size
    var serial = Double.infinity, serialCPU = Double.infinity
    for _ in 0..<repeats {
        let cpu = threadCPUSeconds()
        serial = min(serial, try seconds { _ = try pass(workload, preprocessor, &output) })
        serialCPU = min(serialCPU, threadCPUSeconds() - cpu)
    }
    guard threads > 1 else { return Timing(serial: serial, serialCPU: serialCPU) }
    let workers = try (0..<threads).map { _ in try ImagePreprocessor(spec: spec) }
    var outputs = [[Float]](repeating: [Float](repeating: 0, count: batchSlots * slotSize), count: threads)
    for i in 0..<threads { _ = try pass(workload, workers[i], &outputs[i]) }
    var parallel = Double.infinity
    for _ in 0..<repeats {
        parallel = min(parallel, seconds {
            outputs.withUnsafeMutableBufferPointer { slots in
                nonisolated(unsafe) let slots = slots
                nonisolated(unsafe) let workers = workers
                DispatchQueue.concurrentPerform(iterations: threads) { t in _ = try? pass(workload, workers[t], &slots[t]) }
            }
        })
    }
    return Timing(serial: serial, serialCPU: serialCPU, parallel: parallel)
}

private func torchPython() -> String {
    if let python = ProcessInfo.processInfo.environment["SLUICE_TORCH_PYTHON"] { return python }
    return FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") ? "/usr/bin/python3" : "python3"
}

func preprocessBench(_ arguments: [String]) throws {
    func option(_ name: String) -> String? {
        arguments.firstIndex(of: name).flatMap { arguments.indices.contains($0 + 1) ? arguments[$0 + 1] : nil }
    }
    if arguments.contains("--help") || arguments.contains("-h") {
        print(preprocessUsage)
        return
    }
    let repeats = option("--repeat").flatMap(Int.init) ?? 3
    let threads = option("--threads").flatMap(Int.init) ?? ProcessInfo.processInfo.activeProcessorCount
    let rawCount = option("--raw").flatMap(Int.init) ?? 256
    let fast = arguments.contains("--fast-decode")
    let decodeOnly = arguments.contains("--decode-only")
    let shared = ProcessInfo.processInfo.environment["SLUICE_SHARED"].map { URL(fileURLWithPath: $0) }
        ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared")
    let imagesDirectory = option("--images") ?? shared.appendingPathComponent("data/images").path

    // Inputs: synthetic raw tensors, the same as JPEGs, and the real photographs.
    let generator = SyntheticImages(seed: 0)
    var raw = [UInt8](repeating: 0, count: rawCount * generator.bytesPerImage)
    raw.withUnsafeMutableBufferPointer { all in
        nonisolated(unsafe) let all = all
        DispatchQueue.concurrentPerform(iterations: rawCount) { i in
            generator.render(index: i, into: UnsafeMutableBufferPointer(rebasing: all[i * generator.bytesPerImage..<(i + 1) * generator.bytesPerImage]))
        }
    }
    let encoder = try JPEGEncoder(quality: 90)
    let synthetic: [[UInt8]] = try raw.withUnsafeBytes { all in
        try (0..<rawCount).map { i in
            let view = try PixelView(UnsafeRawBufferPointer(rebasing: all[i * generator.bytesPerImage..<(i + 1) * generator.bytesPerImage]),
                                     width: 256, height: 256, layout: .rgb)
            return try encoder.encode(view)
        }
    }
    let photoNames = ((try? FileManager.default.contentsOfDirectory(atPath: imagesDirectory)) ?? [])
        .filter { $0.hasPrefix("photo-") && $0.hasSuffix(".jpg") }.sorted()
    let photoPaths = photoNames.map { (imagesDirectory as NSString).appendingPathComponent($0) }
    let photos = photoPaths.compactMap { FileManager.default.contents(atPath: $0).map { [UInt8]($0) } }
    guard !photos.isEmpty else {
        print("no photo-*.jpg in \(imagesDirectory); pass --images DIR")
        exit(2)
    }

    // The peer's copies of the inputs.
    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-bench-preprocess-\(getpid())")
    try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: scratch) }
    try raw.withUnsafeBytes { try NPY.write($0, dtype: .uint8, shape: [rawCount, 256, 256, 3], to: scratch.appendingPathComponent("raw.npy").path) }
    var syntheticPaths: [String] = []
    for (i, bytes) in synthetic.enumerated() {
        let path = scratch.appendingPathComponent("synthetic-\(i).jpg").path
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        syntheticPaths.append(path)
    }
    try syntheticPaths.joined(separator: "\n").write(to: scratch.appendingPathComponent("jpeg-256.txt"), atomically: true, encoding: .utf8)
    try photoPaths.joined(separator: "\n").write(to: scratch.appendingPathComponent("photos.txt"), atomically: true, encoding: .utf8)

    let photoPixels = photos.indices.reduce(0.0) { total, i in
        total + Double(((try? photos[i].withUnsafeBytes { try ImageDecoder().jpeg.header($0) }).map { $0.width * $0.height }) ?? 0)
    }
    print("inputs: \(rawCount) raw 256×256×3 images; the same as \(rawCount) quality-90 JPEGs (\(synthetic.reduce(0) { $0 + $1.count } / rawCount) bytes each); "
        + "\(photos.count) photographs from \(imagesDirectory) (\(String(format: "%.2f", photoPixels / Double(photos.count) / 1e6)) Mpixel each on average)")
    print("output: float32 [3, 224, 224], Resize(256) → CenterCrop(224) → ToTensor → Normalize(ImageNet); \(fast ? "fast decode (DCT-domain reduction, Pillow draft mode for the peer)" : "exact mode")")

    let exact = PreprocessSpec.imagenet
    var fastSpec = exact
    fastSpec.fastDecode = true
    let workloads: [(String, Workload, PreprocessSpec)] = [
        ("raw", .raw(bytes: raw, count: rawCount), exact),
        ("jpeg-256", .encoded(synthetic), fast ? fastSpec : exact),
        ("photos", .encoded(photos), fast ? fastSpec : exact),
    ]
    let only = option("--only").map { Set($0.split(separator: ",").map(String.init)) }
    var ours: [String: Timing] = [:]
    for (name, workload, spec) in workloads where only?.contains(name) ?? true {
        ours[name] = try measure(workload, spec: spec, repeats: repeats, threads: threads)
    }
    // Decoding alone (exact), to show how much of the time is libjpeg-turbo's in both stacks.
    var decodeCPU: [String: Double] = [:]
    if decodeOnly {
        for (name, items) in [("jpeg-256", synthetic), ("photos", photos)] where only?.contains(name) ?? true {
            let decoder = try ImageDecoder()
            _ = try decodePass(items, decoder)
            var best = Double.infinity
            for _ in 0..<repeats {
                let cpu = threadCPUSeconds()
                _ = try decodePass(items, decoder)
                best = min(best, threadCPUSeconds() - cpu)
            }
            decodeCPU[name] = best
        }
    }

    var peerArguments = ["--repeat", String(repeats), "--threads", String(threads)]
    if only?.contains("raw") ?? true { peerArguments += ["--raw", scratch.appendingPathComponent("raw.npy").path] }
    for name in ["jpeg-256", "photos"] where only?.contains(name) ?? true {
        peerArguments += ["--jpeg", name + "=" + scratch.appendingPathComponent(name + ".txt").path]
    }
    if fast { peerArguments.append("--draft") }
    if decodeOnly { peerArguments.append("--decode-only") }
    let peer = arguments.contains("--no-peer") ? nil : runPeerScript("torchvision_preprocess.py", peerArguments, python: torchPython())
    let peerWorkloads = peer?["workloads"] as? [String: [String: Any]]
    if let peer {
        print("peer: torchvision \(peer["torchvision"] ?? "?"), torch \(peer["torch"] ?? "?"), Pillow \(peer["pillow"] ?? "?") (\(torchPython()))")
    } else if !arguments.contains("--no-peer") {
        print("torchvision peer unavailable (apt-get install python3-torchvision python3-pil, or set SLUICE_TORCH_PYTHON)")
    }

    func pad(_ text: String, _ width: Int) -> String { text.padding(toLength: width, withPad: " ", startingAt: 0) }
    func rate(_ value: Double) -> String { String(format: "%.0f", value) }
    func ratio(_ ours: Double, _ theirs: Double?) -> String { theirs.map { String(format: "%.2fx", ours / $0) } ?? "-" }
    print("\nimages per second: one thread (best of \(repeats) passes, by wall time and by the thread's CPU time),")
    print("and \(threads) threads (\(threads) workers at once, each running the whole set; torchvision: \(threads) processes)")
    print(pad("workload", 10) + pad("| sluice", 9) + pad("torchvision", 12) + pad("ratio", 8)
        + pad("| sluice/cpu-s", 15) + pad("torchvision", 12) + pad("ratio", 8)
        + pad("| sluice \(threads)thr", 16) + pad("torchvision", 12) + "ratio")
    for (name, workload, _) in workloads {
        guard let timing = ours[name] else { continue }
        let count = Double(workload.count)
        let entry = peerWorkloads?[name]
        let theirWall = (entry?["seconds_best"] as? Double).map { count / $0 }
        let theirCPU = (entry?["cpu_seconds_best"] as? Double).map { count / $0 }
        let theirParallel = (entry?["parallel_seconds_best"] as? Double).map { count * Double(threads) / $0 }
        let wall = count / timing.serial, cpu = count / timing.serialCPU
        var line = pad(name, 10) + pad("| " + rate(wall), 9) + pad(theirWall.map(rate) ?? "-", 12) + pad(ratio(wall, theirWall), 8)
        line += pad("| " + rate(cpu), 15) + pad(theirCPU.map(rate) ?? "-", 12) + pad(ratio(cpu, theirCPU), 8)
        if let parallel = timing.parallel {
            let ours = count * Double(threads) / parallel
            line += pad("| " + rate(ours), 16) + pad(theirParallel.map(rate) ?? "-", 12) + ratio(ours, theirParallel)
        }
        print(line)
    }
    if !decodeCPU.isEmpty { print("\ndecoding alone (exact; Pillow's Image.open(...).convert(\"RGB\") for the peer), images per CPU-second:") }
    for (name, workload, _) in workloads {
        guard let ours = decodeCPU[name] else { continue }
        let count = Double(workload.count)
        let theirs = (peerWorkloads?[name]?["decode_cpu_seconds_best"] as? Double).map { count / $0 }
        print(pad(name, 10) + pad("| " + rate(count / ours), 15) + pad(theirs.map(rate) ?? "-", 12) + ratio(count / ours, theirs))
    }
}
