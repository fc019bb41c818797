import ArgumentParser
import Foundation
import Pipeline

/// How one worker of a job on many machines finds its share of the input (`run` and `plan`).
struct ShardOptions: ParsableArguments {
    @Option(help: ArgumentHelp("This worker's shard: K/N (0 ≤ K < N), or auto: read from the launching engine's environment.",
                               discussion: "auto reads \(ShardAssignment.engines). Shards are balanced by bytes; `sluice plan` prints them."))
    var shard: String?

    @Option(help: "The number of shards, for --shard auto where the engine gives only the index (Kubernetes, AWS Batch).")
    var shards: Int?

    @Option(name: .customLong("files-from"),
            help: "Process exactly the inputs listed in this file (one path, s3:// URL or part name per line; - for standard input), out of the job's --input (default: the listed files are the job).")
    var filesFrom: String?

    func validate() throws {
        if filesFrom != nil, shard != nil || shards != nil {
            throw ValidationError("--files-from names this worker's inputs itself: it cannot be combined with --shard/--shards")
        }
        if let shards, shards <= 0 { throw ValidationError("--shards must be positive") }
    }

    /// This worker's shard, when one was asked for.
    func resolvedShard() throws -> ShardAssignment.Shard? {
        if let shard { return try ShardAssignment.resolve(shard, shards: shards) }
        if let shards { return ShardAssignment.Shard(index: 0, count: shards, source: "--shards") }
        return nil
    }

    /// The lines of --files-from (blank lines and # comments skipped).
    func listedFiles() throws -> [String]? {
        guard let filesFrom else { return nil }
        let data: Data
        if filesFrom == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            guard let contents = FileManager.default.contents(atPath: filesFrom) else {
                throw ValidationError("--files-from: cannot read \(filesFrom)")
            }
            data = contents
        }
        let lines = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty && !$0.hasPrefix("#") }
        guard !lines.isEmpty else { throw ValidationError("--files-from \(filesFrom): no inputs listed") }
        return lines
    }
}
