import Foundation

/// What a job did: per-stage stats in the spirit of Ray Data's `ds.stats()`, then the totals.
public struct JobReport: Sendable, Codable {
    public var strategy: String
    public var units: Int
    public var unitsSkipped: Int
    public var unitsFailed: [String: String]
    public var images: Int
    public var imagesFailed: Int
    public var seconds: Double
    public var imagesPerSecond: Double
    public var cpuSeconds: Double
    public var cpuUtilisation: Double
    public var peakRSSBytes: Int64
    public var bytesRead: Int64
    public var bytesWritten: Int64
    public var stages: [StageStats.Snapshot]
    public var queues: [QueueSnapshot]
    public var phases: [String: Double] = [:]
    /// How the model ran ("2 copies × 1 thread"), and what tuning measured for each layout (images/s).
    public var modelLayout = ""
    public var modelLayoutMeasured: [String: Double] = [:]
    /// Parts of the whole job (every shard), and how many are not committed yet.
    public var jobParts = 0
    public var jobPartsMissing = 0
    /// Every part of the job is committed and this run lost nothing: `_SUCCESS` was written.
    public var jobComplete = false
    /// Error rows of the parts this run skipped, written by earlier runs.
    public var imagesFailedEarlier = 0
    /// Where the model ran: "cpu", or the GPUs ("cuda:0", "cuda:0,cuda:1").
    public var device = "cpu"
    /// Per GPU: busy time and bytes copied, from the model copies' device statistics (empty on the CPU).
    public var devices: [DeviceReport] = []
    /// The stage (or "gpu") that bounds the job's rate: the busiest, as a fraction of the threads (or devices) it had.
    public var limitingStage = ""

    /// Nothing failed, in this run or in the earlier runs whose parts it kept.
    public var succeeded: Bool { unitsFailed.isEmpty && imagesFailed == 0 && imagesFailedEarlier == 0 }

    public func render() -> String {
        var lines: [String] = []
        lines.append("strategy \(strategy): \(images) images in \(format(seconds)) s = \(format(imagesPerSecond)) images/s"
                     + (imagesFailed > 0 ? ", \(imagesFailed) failed" : ""))
        lines.append("units: \(units) processed, \(unitsSkipped) already committed (skipped), \(unitsFailed.count) failed")
        if imagesFailedEarlier > 0 { lines.append("earlier runs: \(imagesFailedEarlier) images failed in the parts skipped (see _errors/)") }
        lines.append(jobComplete ? "job: complete, all \(jobParts) parts committed (_SUCCESS written)"
                     : "job: incomplete, \(jobParts - jobPartsMissing) of \(jobParts) parts committed (no _SUCCESS)")
        for (unit, reason) in unitsFailed.sorted(by: { $0.key < $1.key }) { lines.append("  failed: \(unit): \(reason)") }
        if !modelLayout.isEmpty {
            let measured = modelLayoutMeasured.sorted { $0.key < $1.key }.map { "\($0.key): \(format($0.value)) images/s" }
            lines.append("model: \(modelLayout)" + (measured.isEmpty ? "" : " (measured at start-up: \(measured.joined(separator: ", ")))"))
        }
        for gpu in devices {
            lines.append("gpu \(gpu.device): busy \(format(gpu.busySeconds)) s (\(format(gpu.busyFraction * 100))% of the run, its copies summed); "
                         + "host→device \(formatMiB(Int64(gpu.hostToDeviceBytes))), device→host \(formatMiB(Int64(gpu.deviceToHostBytes)))")
        }
        if !limitingStage.isEmpty { lines.append("limited by: \(limitingStage)") }
        for (phase, seconds) in phases.sorted(by: { $0.key < $1.key }) { lines.append("phase \(phase): \(format(seconds)) s") }
        lines.append("stage          threads    items   wall s   busy s    cpu s   items/s  blocked in s  blocked out s")
        for stage in stages {
            lines.append([stage.stage.padding(toLength: 14, withPad: " ", startingAt: 0), pad(stage.threads, 7), pad(stage.items, 8),
                          pad(stage.wallSeconds, 8), pad(stage.busySeconds, 8), pad(stage.cpuSeconds, 8), pad(stage.itemsPerSecond, 9),
                          pad(stage.secondsBlockedOnInput, 13), pad(stage.secondsBlockedOnOutput, 14)].joined(separator: " "))
        }
        if !queues.isEmpty {
            lines.append("queue                    capacity  high-water  producers blocked s  consumers waited s")
            for queue in queues {
                lines.append([queue.name.padding(toLength: 24, withPad: " ", startingAt: 0), pad(queue.capacity, 8), pad(queue.highWater, 11),
                              pad(queue.secondsProducersBlocked, 20), pad(queue.secondsConsumersWaited, 19)].joined(separator: " "))
            }
        }
        lines.append("cpu: \(format(cpuSeconds)) s (\(format(cpuUtilisation * 100))% of the cores); peak RSS \(formatMiB(peakRSSBytes)); read \(formatMiB(bytesRead)), wrote \(formatMiB(bytesWritten))")
        return lines.joined(separator: "\n")
    }

    /// The stage whose threads (or GPUs) were busiest for the run's duration: the one to give more to.
    static func limitingStage(stages: [StageStats.Snapshot], devices: [DeviceReport], seconds: Double) -> String {
        guard seconds > 0 else { return "" }
        var candidates = stages.filter { $0.threads > 0 }.map { ($0.stage, $0.busySeconds / (Double($0.threads) * seconds)) }
        if !devices.isEmpty {
            // Each GPU runs several copies at once: its busy time is per copy, so divide by the copies' streams.
            let busy = devices.map { $0.busySeconds / Double(DevicePlacement.copiesPerDevice) }.reduce(0, +)
            candidates.append(("gpu", busy / (Double(devices.count) * seconds)))
        }
        guard let top = candidates.max(by: { $0.1 < $1.1 }) else { return "" }
        return String(format: "%@ (busy %.0f%% of the time)", top.0, min(1, top.1) * 100)
    }

    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    private func format(_ value: Double) -> String { String(format: "%.1f", value) }
    private func formatMiB(_ bytes: Int64) -> String { String(format: "%.0f MiB", Double(bytes) / 1_048_576) }
    private func pad(_ value: Int, _ width: Int) -> String { String(value).leftPadded(to: width, with: " ") }
    private func pad(_ value: Double, _ width: Int) -> String { String(format: "%.2f", value).leftPadded(to: width, with: " ") }
}

/// One GPU's share of a run.
public struct DeviceReport: Sendable, Codable, Equatable {
    public var device: String
    /// Device time of every model copy on it, summed (copies on separate streams overlap, so this can exceed the run).
    public var busySeconds = 0.0
    /// `busySeconds` over the run's duration, at most 1.
    public var busyFraction = 0.0
    public var hostToDeviceBytes = 0
    public var deviceToHostBytes = 0

    public init(device: String) { self.device = device }
}
