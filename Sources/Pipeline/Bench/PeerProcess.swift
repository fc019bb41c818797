import Foundation

/// Runs a benchmark peer (a Python script in bench/peers/) and collects the JSON objects it prints, one per
/// line of standard output; its standard error is kept for the reason when it fails. The one way every
/// benchmark (`sluice bench`, sluice-bench, sluice-infer-bench) starts a peer.
public enum PeerProcess {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Runs `python script arguments…`, killing it after `timeout` seconds when one is given.
    public static func run(python: String = "python3", script: String, arguments: [String],
                           timeout: TimeInterval? = nil) -> Result<[[String: Any]], Failure> {
        guard FileManager.default.fileExists(atPath: script) else { return .failure(Failure(description: "no script \(script)")) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python, script] + arguments
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        do { try process.run() } catch { return .failure(Failure(description: "cannot start \(python): \(error)")) }
        nonisolated(unsafe) var stdout = Data(), stderr = Data()
        let readers = DispatchGroup()
        DispatchQueue.global().async(group: readers) { stdout = output.fileHandleForReading.readDataToEndOfFile() }
        DispatchQueue.global().async(group: readers) { stderr = errors.fileHandleForReading.readDataToEndOfFile() }
        let finished = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            process.waitUntilExit()
            finished.signal()
        }
        let deadline: DispatchTime = timeout.map { .now() + $0 } ?? .distantFuture
        if finished.wait(timeout: deadline) == .timedOut {
            process.terminate()
            return .failure(Failure(description: "timed out after \(Int(timeout ?? 0)) s"))
        }
        readers.wait()
        guard process.terminationStatus == 0 else {
            let last = String(decoding: stderr, as: UTF8.self).split(separator: "\n").last.map(String.init)
            return .failure(Failure(description: last ?? "exit status \(process.terminationStatus)"))
        }
        let objects = String(decoding: stdout, as: UTF8.self).split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
        }
        return .success(objects)
    }
}
