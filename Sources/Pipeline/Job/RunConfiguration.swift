import Parquet

/// Everything `sluice run` needs to know.
public struct RunConfiguration: Sendable {
    public enum Strategy: String, Sendable, CaseIterable {
        /// All stages at once, bounded queues between them (Ray Data's model).
        case streaming
        /// One task per inference slot reads, preprocesses and infers its files in sequence (Spark, fused).
        case fused
        /// Preprocess everything to intermediate Parquet, then infer (Spark, staged).
        case staged
        /// Records sent in requests to a model server (SageMaker Batch Transform); its own issue.
        case perRequest = "per-request"
    }

    public enum OnError: String, Sendable, CaseIterable {
        case skip, fail
    }

    public var inputs: [String]
    public var output: String
    public var strategy = Strategy.streaming
    public var batchSize = 64
    public var topK = 5
    public var keepLogits = false
    public var labels: [String]?
    public var imageColumn: String?
    /// Untagged numeric list columns: `--image-shape`, `--image-layout`, `--preprocessed`.
    public var tensorInput = TensorInputOptions()
    public var idColumn: String?
    public var onError = OnError.skip
    /// Bound on the bytes held by queues and buffer pools.
    public var maxMemory: Int64 = 2 << 30
    /// Preprocessing threads; nil: chosen from the core count.
    public var workers: Int?
    /// Threads for the model; nil: all cores.
    public var modelThreads: Int?
    /// `streaming`: copies of the model inferring side by side, sharing `modelThreads`; nil: one.
    public var modelReplicas: Int?
    /// Without `modelReplicas`/`modelThreads`: measure the model layouts at start-up and keep the fastest.
    public var tuneModelLayout = true
    /// Where tuning answers are kept (nil: `ModelLayoutCache.standard()`).
    public var layoutCache: String?
    /// Shard `index` of `count`: this process handles every count-th input unit.
    public var shard: (index: Int, count: Int) = (0, 1)
    /// The per-request strategy: records per request, requests in flight, the largest request body.
    public var requestBatching = RequestBatching.multiRecord
    public var maxConcurrentRequests = 4
    public var maxPayloadBytes = 6 << 20
    /// The inputs this worker processes (`--files-from`), out of the job's `inputs`; nil: its shard's.
    public var filesFrom: [String]?
    /// Codec of the prediction parts.
    public var outputCodec = CompressionCodec.snappy
    /// A directory of image files is read in groups of this many, one output part each.
    public var imagesPerPart = 1000
    /// Where `staged` keeps its intermediate tensors (default: `<output>/_staging`).
    public var stagingDirectory: String?
    public var progress = true

    public init(inputs: [String], output: String) {
        self.inputs = inputs
        self.output = output
    }
}

extension RunConfiguration {
    /// Checks the values a user gave; the error names the option.
    public func validate() throws {
        guard batchSize > 0, topK > 0 else { throw PipelineError.configuration("--batch-size and --top-k must be positive") }
        guard shard.count > 0, (0..<shard.count).contains(shard.index) else {
            throw PipelineError.configuration("--shard K/N needs 0 <= K < N")
        }
        guard maxConcurrentRequests > 0, maxPayloadBytes > 0 else {
            throw PipelineError.configuration("--max-concurrent and --max-payload-mb must be positive")
        }
        guard imagesPerPart > 0 else { throw PipelineError.configuration("--images-per-part must be positive") }
        guard maxMemory >= MemoryPlan.minimumBytes else {
            throw PipelineError.configuration("--max-memory must be at least \(ByteSize.format(MemoryPlan.minimumBytes))")
        }
        for (option, value) in [("--workers", workers), ("--model-threads", modelThreads), ("--model-replicas", modelReplicas)] {
            if let value, value <= 0 { throw PipelineError.configuration("\(option) must be positive") }
        }
    }
}

extension RunConfiguration {
    /// "K/N": shard K of N (0 <= K < N).
    public static func parseShard(_ text: String) throws -> (index: Int, count: Int) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 2, let index = parts[0], let count = parts[1], count > 0, (0..<count).contains(index) else {
            throw PipelineError.configuration("--shard must be K/N with 0 <= K < N (e.g. 3/8), got '\(text)'")
        }
        return (index, count)
    }
}

/// Byte sizes as users write them: "2GiB", "512MiB", "1.5G", "1000000".
public enum ByteSize {
    private static let units: [(suffix: String, scale: Double)] = [
        ("GiB", 1_073_741_824), ("MiB", 1_048_576), ("KiB", 1024), ("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("KB", 1e3),
        ("T", 1_099_511_627_776), ("G", 1_073_741_824), ("M", 1_048_576), ("K", 1024), ("B", 1),
    ]

    /// The number of bytes `text` names; nil unless it is a finite, non-negative size that fits in 63 bits.
    public static func parse(_ text: String) -> Int64? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let plain = Int64(trimmed) { return plain >= 0 ? plain : nil }
        for (suffix, scale) in units where trimmed.hasSuffix(suffix) {
            let number = trimmed.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)
            // Digits and one point only: no "nan", "inf", exponents or signs.
            guard !number.isEmpty, number.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
                  number.filter({ $0 == "." }).count <= 1, let value = Double(number) else { return nil }
            let bytes = (value * scale).rounded()
            guard bytes.isFinite, bytes >= 0, bytes < 9.2e18 else { return nil }
            return Int64(bytes)
        }
        return nil
    }

    public static func format(_ bytes: Int64) -> String {
        bytes >= 1 << 30 && bytes % (1 << 30) == 0 ? "\(bytes >> 30) GiB"
            : bytes >= 1 << 20 && bytes % (1 << 20) == 0 ? "\(bytes >> 20) MiB" : "\(bytes) bytes"
    }
}
