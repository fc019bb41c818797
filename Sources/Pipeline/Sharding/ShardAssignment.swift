import Foundation

/// Which shard this worker is: given (`--shard K/N`), or read from the environment of the engine that
/// launched it (`--shard auto`): a Kubernetes Indexed Job, a Slurm job array, an AWS Batch array job, or a
/// torchrun-style launcher.
public enum ShardAssignment {
    public struct Shard: Sendable, Equatable, CustomStringConvertible {
        public var index: Int
        public var count: Int
        /// Where the index came from, for the log ("--shard", "Slurm array", ...).
        public var source: String

        public init(index: Int, count: Int, source: String) {
            self.index = index
            self.count = count
            self.source = source
        }

        public var description: String { "shard \(index) of \(count) (\(source))" }
    }

    /// Parses `--shard`: "K/N", or "auto" (with `shards` from `--shards` where the engine does not say).
    public static func resolve(_ text: String, shards: Int?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Shard {
        if text == "auto" { return try fromEnvironment(environment, shards: shards) }
        let (index, count) = try RunConfiguration.parseShard(text)
        if let shards, shards != count {
            throw PipelineError.configuration("--shard \(text) and --shards \(shards) disagree")
        }
        return Shard(index: index, count: count, source: "--shard")
    }

    /// The variables each engine sets, in the order they are tried.
    public static let engines = """
        Kubernetes Indexed Job: JOB_COMPLETION_INDEX (with --shards N); Slurm job array: SLURM_ARRAY_TASK_ID, \
        SLURM_ARRAY_TASK_COUNT, SLURM_ARRAY_TASK_MIN; AWS Batch array job: AWS_BATCH_JOB_ARRAY_INDEX (with --shards N); \
        torchrun and similar: RANK, WORLD_SIZE
        """

    static func fromEnvironment(_ environment: [String: String], shards: Int?) throws -> Shard {
        func integer(_ name: String) throws -> Int? {
            guard let text = environment[name] else { return nil }
            guard let value = Int(text.trimmingCharacters(in: .whitespaces)) else {
                throw PipelineError.configuration("--shard auto: \(name)='\(text.prefix(40))' is not an integer")
            }
            return value
        }
        func shard(_ index: Int, _ count: Int?, _ source: String, countVariable: String) throws -> Shard {
            guard let count = count ?? shards else {
                throw PipelineError.configuration("--shard auto: \(source) gives the index but not the number of shards; add --shards N\(countVariable.isEmpty ? "" : " (or set \(countVariable))")")
            }
            if let shards, shards != count {
                throw PipelineError.configuration("--shard auto: \(source) says \(count) shards but --shards says \(shards)")
            }
            guard count > 0, (0..<count).contains(index) else {
                throw PipelineError.configuration("--shard auto: \(source) gives shard \(index) of \(count); it must be 0 ≤ index < count")
            }
            return Shard(index: index, count: count, source: source)
        }
        if let index = try integer("JOB_COMPLETION_INDEX") {
            return try shard(index, nil, "Kubernetes Indexed Job", countVariable: "")
        }
        if let task = try integer("SLURM_ARRAY_TASK_ID") {
            let first = try integer("SLURM_ARRAY_TASK_MIN") ?? 0
            return try shard(task - first, try integer("SLURM_ARRAY_TASK_COUNT"), "Slurm job array", countVariable: "SLURM_ARRAY_TASK_COUNT")
        }
        if let index = try integer("AWS_BATCH_JOB_ARRAY_INDEX") {
            return try shard(index, nil, "AWS Batch array job", countVariable: "")
        }
        if let rank = try integer("RANK") {
            return try shard(rank, try integer("WORLD_SIZE"), "RANK/WORLD_SIZE", countVariable: "WORLD_SIZE")
        }
        throw PipelineError.configuration("--shard auto: no shard index in the environment. Set by: \(engines)")
    }
}
