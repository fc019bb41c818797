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
        let objects: [[String: Any]]
        switch PeerProcess.run(script: script, arguments: arguments, timeout: timeout) {
        case .success(let printed): objects = printed
        case .failure(let failure): return .missing(failure.description)
        }
        guard let object = objects.last, let rate = object["images_per_s"] as? Double else {
            return .missing("no JSON result line")
        }
        let version = object["version"].map { " \($0)" } ?? ""
        return .measured(BenchEntry(name: "\(name)\(version)", kind: "peer", images: object["images"] as? Int ?? 0,
                                    seconds: object["seconds"] as? Double ?? 0, imagesPerSecond: rate,
                                    peakRSSBytes: (object["peak_rss_bytes"] as? NSNumber)?.int64Value,
                                    cpuUtilisation: object["cpu_utilisation"] as? Double))
    }
}
