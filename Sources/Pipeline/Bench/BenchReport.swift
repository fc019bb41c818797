import Foundation

/// One row of the comparison: a Sluice strategy or a peer, measured on the same data in the same run.
public struct BenchEntry: Sendable, Codable {
    public static let modelOnly = "model-only"

    public var name: String
    public var kind: String  // "sluice", "peer" or "model-only"
    public var images: Int
    public var seconds: Double
    public var imagesPerSecond: Double
    public var peakRSSBytes: Int64?
    public var cpuUtilisation: Double?
    public var note: String?

    public init(name: String, kind: String, images: Int, seconds: Double, imagesPerSecond: Double,
                peakRSSBytes: Int64?, cpuUtilisation: Double?, note: String? = nil) {
        self.name = name
        self.kind = kind
        self.images = images
        self.seconds = seconds
        self.imagesPerSecond = imagesPerSecond
        self.peakRSSBytes = peakRSSBytes
        self.cpuUtilisation = cpuUtilisation
        self.note = note
    }
}

public struct BenchReport: Sendable, Codable {
    public var dataset: String
    public var images: Int
    public var model: String
    public var precision: String
    public var batchSize: Int
    public var cores: Int
    public var entries: [BenchEntry]
    public var peersMissing: [String: String]

    var bestPeer: BenchEntry? { best("peer") }

    private func best(_ kind: String) -> BenchEntry? {
        entries.filter { $0.kind == kind }.max { $0.imagesPerSecond < $1.imagesPerSecond }
    }

    /// The best Sluice strategy as a fraction of the best model-only configuration: how much of the model's
    /// own speed the pipeline keeps.
    var modelOnlySummary: String? {
        guard let strategy = best("sluice"), let model = best(BenchEntry.modelOnly) else { return nil }
        return String(format: "%@ keeps %.1f%% of the model alone (%@, %.1f images/s)", strategy.name,
                      100 * strategy.imagesPerSecond / max(model.imagesPerSecond, 1e-9), model.name, model.imagesPerSecond)
    }

    /// The table printed at the end of `sluice bench`.
    public func table() -> String {
        var lines = ["\(model) \(precision), batch \(batchSize), \(images) images of \(dataset), \(cores) cores",
                     "name".padding(toLength: 44, withPad: " ", startingAt: 0) + "  images/s   × best peer   peak RSS   CPU use"]
        for entry in entries.sorted(by: { $0.imagesPerSecond > $1.imagesPerSecond }) {
            let ratio = bestPeer.map { String(format: "%.2f", entry.imagesPerSecond / max($0.imagesPerSecond, 1e-9)) } ?? "-"
            let rss = entry.peakRSSBytes.map { String(format: "%.2f GiB", Double($0) / 1_073_741_824) } ?? "-"
            let cpu = entry.cpuUtilisation.map { String(format: "%.0f%%", $0 * 100) } ?? "-"
            lines.append(entry.name.padding(toLength: 44, withPad: " ", startingAt: 0) + String(format: "%10.1f", entry.imagesPerSecond)
                         + ratio.leftPadded(to: 14, with: " ") + rss.leftPadded(to: 11, with: " ") + cpu.leftPadded(to: 10, with: " "))
        }
        if let modelOnlySummary { lines.append(modelOnlySummary) }
        for (peer, reason) in peersMissing.sorted(by: { $0.key < $1.key }) { lines.append("peer \(peer) not run: \(reason)") }
        return lines.joined(separator: "\n")
    }

    public func markdown(chartFile: String) -> String {
        var lines = ["# Sluice bench", "",
                     "\(images) images (\(dataset)), \(model) \(precision), batch \(batchSize), \(cores) cores; every row measured in the same run.", "",
                     "| name | images/s | × best peer | peak RSS | CPU use |", "|---|---:|---:|---:|---:|"]
        for entry in entries.sorted(by: { $0.imagesPerSecond > $1.imagesPerSecond }) {
            let ratio = bestPeer.map { String(format: "%.2f", entry.imagesPerSecond / max($0.imagesPerSecond, 1e-9)) } ?? "-"
            let rss = entry.peakRSSBytes.map { String(format: "%.2f GiB", Double($0) / 1_073_741_824) } ?? "-"
            let cpu = entry.cpuUtilisation.map { String(format: "%.0f%%", $0 * 100) } ?? "-"
            lines.append("| \(entry.name) | \(String(format: "%.1f", entry.imagesPerSecond)) | \(ratio) | \(rss) | \(cpu) |")
        }
        if let modelOnlySummary { lines += ["", modelOnlySummary] }
        if !peersMissing.isEmpty {
            lines.append("")
            for (peer, reason) in peersMissing.sorted(by: { $0.key < $1.key }) { lines.append("- peer `\(peer)` not run: \(reason)") }
        }
        lines += ["", "![throughput](\(chartFile))", ""]
        return lines.joined(separator: "\n")
    }

    /// A horizontal bar chart of throughput: Sluice in blue, the model alone in light blue, peers in grey.
    public func svg() -> String {
        let sorted = entries.sorted { $0.imagesPerSecond > $1.imagesPerSecond }
        let top = max(sorted.first?.imagesPerSecond ?? 1, 1e-9)
        let rowHeight = 28, labelWidth = 320, barWidth = 420, height = 40 + rowHeight * sorted.count
        var svg = ["<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(labelWidth + barWidth + 90)\" height=\(quote(height)) font-family=\"sans-serif\" font-size=\"13\">",
                   "<text x=\"10\" y=\"22\" font-weight=\"bold\">images/s — \(escape(model)) \(escape(precision)), \(images) images, \(cores) cores</text>"]
        for (i, entry) in sorted.enumerated() {
            let y = 34 + i * rowHeight
            let width = Int(Double(barWidth) * entry.imagesPerSecond / top)
            let colour = entry.kind == "sluice" ? "#2f6fbf" : entry.kind == BenchEntry.modelOnly ? "#9fc0e8" : "#9a9a9a"
            svg.append("<text x=\"10\" y=\"\(y + 17)\">\(escape(entry.name))</text>")
            svg.append("<rect x=\"\(labelWidth)\" y=\"\(y + 4)\" width=\"\(max(width, 1))\" height=\"18\" fill=\"\(colour)\"/>")
            svg.append("<text x=\"\(labelWidth + width + 6)\" y=\"\(y + 17)\">\(String(format: "%.1f", entry.imagesPerSecond))</text>")
        }
        svg.append("</svg>")
        return svg.joined(separator: "\n")
    }

    private func quote(_ value: Int) -> String { "\"\(value)\"" }

    private func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
