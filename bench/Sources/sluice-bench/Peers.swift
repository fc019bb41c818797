import Foundation

/// Runs `bench/peers/<script>` with `python` and returns the JSON object it prints on its last line of
/// output, or nil when it is not installed or fails (the benchmark then says so and goes on).
func runPeerScript(_ script: String, _ arguments: [String], python: String = "python3") -> [String: Any]? {
    let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("peers/\(script)").path
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [python, path] + arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    do { try process.run() } catch { return nil }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { return nil }
    let lastLine = String(decoding: data, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? ""
    return (try? JSONSerialization.jsonObject(with: Data(lastLine.utf8))) as? [String: Any]
}
