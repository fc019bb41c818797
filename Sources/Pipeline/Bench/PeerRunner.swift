import Foundation

/// Runs a Python peer (bench/peers/*.py) on the same data and reads the one JSON line it prints last.
public struct PeerRunner: Sendable {
    public var name: String
    public var script: String
    public var arguments: [String]

    public init(name: String, script: String, arguments: [String]) {
        self.name = name
        self.script = script
        self.arguments = arguments
    }

    public enum Outcome: Sendable {
        case measured(BenchEntry)
        case missing(String)
    }

    public func run(timeout: TimeInterval) -> Outcome {
        guard FileManager.default.fileExists(atPath: script) else { return .missing("no script \(script)") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script] + arguments
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        do { try process.run() } catch { return .missing("cannot start python3: \(error)") }
        let deadline = DispatchTime.now() + timeout
        let finished = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var stdout = Data(), stderr = Data()
        let readers = DispatchGroup()
        DispatchQueue.global().async(group: readers) { stdout = output.fileHandleForReading.readDataToEndOfFile() }
        DispatchQueue.global().async(group: readers) { stderr = errors.fileHandleForReading.readDataToEndOfFile() }
        DispatchQueue.global().async {
            process.waitUntilExit()
            finished.signal()
        }
        if finished.wait(timeout: deadline) == .timedOut {
            process.terminate()
            return .missing("timed out after \(Int(timeout)) s")
        }
        readers.wait()
        guard process.terminationStatus == 0 else {
            let message = String(decoding: stderr, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? "exit \(process.terminationStatus)"
            return .missing(message)
        }
        let last = String(decoding: stdout, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? ""
        guard let object = (try? JSONSerialization.jsonObject(with: Data(last.utf8))) as? [String: Any],
              let rate = object["images_per_s"] as? Double else {
            return .missing("no JSON result line")
        }
        let version = object["version"].map { " \($0)" } ?? ""
        return .measured(BenchEntry(name: "\(name)\(version)", kind: "peer", images: object["images"] as? Int ?? 0,
                                    seconds: object["seconds"] as? Double ?? 0, imagesPerSecond: rate,
                                    peakRSSBytes: (object["peak_rss_bytes"] as? NSNumber)?.int64Value,
                                    cpuUtilisation: object["cpu_utilisation"] as? Double))
    }
}
