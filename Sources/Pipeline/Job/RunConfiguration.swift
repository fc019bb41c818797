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
    /// Shard `index` of `count`: this process handles every count-th input unit.
    public var shard: (index: Int, count: Int) = (0, 1)
    /// Where `staged` keeps its intermediate tensors (default: `<output>/_staging`).
    public var stagingDirectory: String?
    public var progress = true

    public init(inputs: [String], output: String) {
        self.inputs = inputs
        self.output = output
    }
}
