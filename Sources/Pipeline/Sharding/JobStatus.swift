import Foundation
import ObjectStore
import Parquet

/// Where a job stands, from its output alone (and its input, for what is expected): what `sluice status`
/// prints. Parts are committed atomically, so a part that exists is complete; rows are read from the parts'
/// footers.
public struct JobStatus: Sendable, Codable {
    public struct Shard: Sendable, Codable {
        public var index: Int
        public var expectedParts: Int
        public var committedParts: Int
        public var missingParts: [String]
    }

    /// Parts the job's input calls for; nil without `--input`.
    public var expectedParts: Int?
    public var committedParts: Int
    /// The inputs whose part is missing (not yet run, running, or failed as a whole), by part name.
    public var missingParts: [String]
    public var shards: [Shard]
    public var rowsWritten: Int64
    public var errorRows: Int64
    public var successMarker: Bool

    /// Every expected part is committed (without `--input`: the job wrote its success marker).
    public var complete: Bool {
        guard let expectedParts else { return successMarker }
        return committedParts == expectedParts && missingParts.isEmpty
    }

    /// Reads the output; `units` (the job's inputs, when known) say which parts are expected and, with
    /// `shards`, which shard owes each missing one.
    public static func read(output: String, units: [InputUnit]?, shards: Int, storage: ObjectStorage) throws -> JobStatus {
        let names = try storage.names(under: output)
        let parts = names.filter { $0.hasSuffix(".parquet") }
        let errorParts = try storage.names(under: url(output, PartWriter.errorsDirectory)).filter { $0.hasSuffix(".parquet") }
        func rows(_ url: String) throws -> Int64 { try ParquetFileReader(source: try storage.openSource(url)).numRows }
        let rowsWritten = try parts.reduce(Int64(0)) { $0 + (try rows(url(output, $1))) }
        let errorRows = try errorParts.reduce(Int64(0)) { $0 + (try rows(url(output, PartWriter.errorsDirectory + "/" + $1))) }
        var status = JobStatus(expectedParts: nil, committedParts: parts.count, missingParts: [], shards: [],
                               rowsWritten: rowsWritten, errorRows: errorRows, successMarker: names.contains(Job.successMarker))
        if let units {
            let plan = ShardPlan(units: units, count: shards)
            status.expectedParts = units.count
            status.committedParts = units.filter { parts.contains(PartWriter.partFileName($0)) }.count
            status.missingParts = units.filter { !parts.contains(PartWriter.partFileName($0)) }.map(\.partName)
            status.shards = (0..<shards).map { index in
                let owned = plan.units(of: index)
                let missing = owned.filter { !parts.contains(PartWriter.partFileName($0)) }.map(\.partName)
                return Shard(index: index, expectedParts: owned.count, committedParts: owned.count - missing.count, missingParts: missing)
            }
        }
        return status
    }

    /// Writes `_SUCCESS` (and the status as `_summary.json`) for a complete job whose marker is missing.
    public static func writeSuccessMarker(output: String, status: JobStatus, storage: ObjectStorage) throws {
        let writer = PartWriter(storage: storage, outputDirectory: output, labels: [], codec: .uncompressed)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try writer.publish(Job.summaryFile, bytes: Array(try encoder.encode(status)))
        try writer.publish(Job.successMarker, bytes: [])
    }

    private static func url(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }

    /// The human summary.
    public func render() -> String {
        var lines: [String] = []
        if let expectedParts {
            lines.append("parts: \(committedParts) of \(expectedParts) committed\(missingParts.isEmpty ? "" : ", \(missingParts.count) missing")")
        } else {
            lines.append("parts: \(committedParts) committed (give --input to compare with what the job expects)")
        }
        lines.append("rows: \(rowsWritten) written, \(errorRows) of them error rows (see _errors/)")
        if shards.count > 1 {
            for shard in shards where !shard.missingParts.isEmpty {
                lines.append("shard \(shard.index): \(shard.committedParts) of \(shard.expectedParts) parts; missing \(shard.missingParts.prefix(10).joined(separator: ", "))\(shard.missingParts.count > 10 ? ", …" : "")")
            }
        } else if !missingParts.isEmpty {
            lines.append("missing: \(missingParts.prefix(20).joined(separator: ", "))\(missingParts.count > 20 ? ", …" : "")")
        }
        lines.append(successMarker ? "_SUCCESS: present" : "_SUCCESS: absent")
        lines.append(complete ? "complete" : "not complete")
        return lines.joined(separator: "\n")
    }
}
