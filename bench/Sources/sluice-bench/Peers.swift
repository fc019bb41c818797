import Foundation
import Pipeline

/// Runs `bench/peers/<script>` with `python` and returns the JSON object it prints on its last line of
/// output, or nil when it is not installed or fails (the benchmark then says so and goes on).
func runPeerScript(_ script: String, _ arguments: [String], python: String = "python3") -> [String: Any]? {
    let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("peers/\(script)").path
    guard case .success(let objects) = PeerProcess.run(python: python, script: path, arguments: arguments) else { return nil }
    return objects.last
}
