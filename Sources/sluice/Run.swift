import ArgumentParser
import Foundation
import Parquet
import Pipeline

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Classify every image of a dataset and write the predictions as Parquet.",
        discussion: """
        Input: Parquet files (a tensor column in Ray's or Arrow's layout, or a binary / struct<bytes> column of \
        JPEG/PNG bytes), a directory of them, or a directory of JPEG/PNG files. Output: one Parquet part per \
        input file (id, top-k class indices, softmax scores, labels, and with --logits the logits), each \
        committed atomically; bad records go to _errors/, and _SUCCESS plus _summary.json mark a complete job. \
        Rerunning the same command skips committed parts, so a killed job resumes where it stopped.

        Strategies: streaming (default; every stage at once with bounded queues, like Ray Data), fused (read, \
        preprocess and infer each file in sequence, like Spark with one fused UDF), staged (preprocess \
        everything to intermediate Parquet, then infer, like Spark in two jobs).

        Threads: the model gets every core and one preprocessing thread keeps up with it on a CPU (the \
        convolutions are ~95% of the work); how the model's threads are split into copies is measured at \
        start-up and remembered per machine and model. Override with --workers, --model-threads and \
        --model-replicas.

        GPUs: --device cuda runs the model with cuDNN on a GPU (fp16 by default, batches of 256): the CPU cores \
        read and preprocess (raw tensors are only cropped, as uint8, into pinned batches; JPEG/PNG are decoded \
        and resized into them), and each GPU runs 2 model copies, each fed by its own thread on its own stream, \
        which normalise the uint8 crops on the device. --device cuda:all uses every GPU; auto, a GPU when there \
        is one. The statistics add the GPUs' busy time, the bytes copied each way, and the stage that limits the run.

        Memory: --max-memory bounds the input chunks in flight (a quarter), the preprocessing workers' \
        decoding scratch (a quarter, shared) and the pooled batches (at most half); the model's weights and \
        activations come on top. An image or row group too large for its share is reported, not read.
        """
    )

    @Option(help: "Input Parquet file, directory or s3:// prefix of Parquet files, or directory of JPEG/PNG files (repeatable).")
    var input: [String] = []

    @Option(help: "Output directory or s3:// prefix.")
    var output: String

    @OptionGroup var model: ModelOptions

    @OptionGroup(title: "Preprocessing") var preprocessing: PreprocessOptions

    @OptionGroup(title: "Image columns that are plain numeric lists") var tensorInput: TensorInputArguments

    @OptionGroup var storage: StorageOptions

    @Option(help: "Images per batch. (default: 64 on the CPU, 256 on a GPU)")
    var batchSize: Int?

    @Option(help: "streaming, fused, staged or per-request.")
    var strategy = RunConfiguration.Strategy.streaming

    @Option(help: "Number of classes to report per image.")
    var topK = 5

    @Flag(help: "Also write the raw logits (a float32 tensor column).")
    var logits = false

    @Option(help: "Class names, one per line (default: the ImageNet-1k list in torchvision's order).")
    var labels: String?

    @Option(help: "The image column (default: the first tensor or image-bytes column).")
    var imageColumn: String?

    @Option(help: "A column whose value identifies each row in the output (default: file name and row number).")
    var idColumn: String?

    @Option(help: "skip: bad records become error rows and the job goes on; fail: stop at the first.")
    var onError = RunConfiguration.OnError.skip

    @Option(help: "Memory for queues and buffer pools, e.g. 2GiB or 512MiB.")
    var maxMemory = "2GiB"

    @Option(help: "Preprocessing threads (default: a quarter of the cores, at least one; on a GPU, every core but the reader's and the feeders').")
    var workers: Int?

    @Option(help: "Threads for the model (default: all cores).")
    var modelThreads: Int?

    @Option(help: "Copies of the model inferring side by side, sharing --model-threads. Default: measured at start-up (a second per layout, remembered in ~/.cache/sluice) among the ways to split the threads evenly. Logits can differ in the last bits between layouts: pin it for bit-identical runs on other machines.")
    var modelReplicas: Int?

    @OptionGroup(title: "Many machines") var sharding: ShardOptions

    @OptionGroup(title: "The per-request strategy (SageMaker Batch Transform)") var perRequest: PerRequestOptions

    @Option(help: "Codec of the prediction parts: snappy, zstd, gzip, lz4_raw or none.")
    var outputCodec = CompressionCodec.snappy

    @Option(help: "A directory of JPEG/PNG files is read in groups of this many images, one output part each.")
    var imagesPerPart = 1000

    @Option(help: "Write the run's statistics as JSON to this file.")
    var statsJson: String?

    @Flag(help: "No progress output.")
    var noProgress = false

    func run() throws {
        // The device first: --device cuda on a machine without a GPU fails here, before any input is opened.
        let (placement, precision) = try model.placement(command: "run")
        let batchSize = self.batchSize ?? placement.defaultBatchSize
        var configuration = RunConfiguration(inputs: input, output: output)
        configuration.strategy = strategy
        configuration.batchSize = batchSize
        configuration.topK = topK
        configuration.keepLogits = logits
        configuration.labels = try labels.map(ClassLabels.load) ?? ClassLabels.imageNet
        configuration.imageColumn = imageColumn
        configuration.tensorInput = try tensorInput.options()
        configuration.idColumn = idColumn
        configuration.onError = onError
        configuration.maxMemory = try parseBytes(maxMemory)
        configuration.workers = workers
        configuration.modelThreads = modelThreads
        configuration.modelReplicas = modelReplicas
        configuration.progress = !noProgress
        configuration.outputCodec = outputCodec
        configuration.imagesPerPart = imagesPerPart
        if let listed = try sharding.listedFiles() {
            configuration.filesFrom = listed
            if configuration.inputs.isEmpty { configuration.inputs = listed }
        }
        if let shard = try sharding.resolvedShard() {
            configuration.shard = (shard.index, shard.count)
            if configuration.progress { printError("sluice run: \(shard)") }
        }
        guard !configuration.inputs.isEmpty else { throw ValidationError("give --input (or --files-from)") }
        let objectStorage = try storage.makeStorage()
        defer { objectStorage.shutdown() }
        perRequest.apply(to: &configuration)
        let (spec, source) = try preprocessing.resolved(model: model.model)
        printError("sluice run: preprocessing from \(source): \(spec.summary)")
        let preprocessor = try StandardPreprocessor(spec: spec)
        let factory = try model.factory(calibratingOn: configuration, preprocessor: preprocessor, storage: objectStorage, command: "run",
                                        placement: placement, precision: precision, normalization: spec.inputNormalization).factory
        let server = strategy == .perRequest
            ? try perRequest.server(preprocessor: preprocessor, model: factory, labels: configuration.labels ?? ClassLabels.imageNet,
                                    batchSize: batchSize, topK: topK, modelThreads: modelThreads)
            : nil
        defer { server?.loopback?.stop() }
        let job = Job(configuration: configuration, preprocessor: preprocessor, model: factory, storage: objectStorage,
                      invocationClient: server?.client)
        let report = try job.run()
        printError(report.render())
        if let fallback = factory.int8Fallback { printError("sluice run: \(fallback.summary)") }
        if let statsJson { try Data(try report.json().utf8).write(to: URL(fileURLWithPath: statsJson)) }
        if !report.succeeded { throw ExitCode(1) }
    }
}

extension RunConfiguration.Strategy: ExpressibleByArgument {}
extension CompressionCodec: ExpressibleByArgument {
    public init?(argument: String) { self.init(writerName: argument) }
    public static var allValueStrings: [String] { ["snappy", "zstd", "gzip", "lz4_raw", "none"] }
}
extension RunConfiguration.OnError: ExpressibleByArgument {}

/// A byte size option ("2GiB", "512MiB", "1.5G", "1000000").
func parseBytes(_ text: String, option: String = "--max-memory") throws -> Int64 {
    guard let bytes = ByteSize.parse(text) else { throw ValidationError("\(option): cannot read '\(text)' as a size (e.g. 2GiB or 512MiB)") }
    return bytes
}
