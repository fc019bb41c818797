import ArgumentParser
import Foundation
import Imaging
import Inference
import Pipeline
import Serving

/// `sluice serve`: the SageMaker inference container's server.
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the model over HTTP as a SageMaker inference container (Batch Transform or an endpoint).",
        discussion: """
        GET /ping (200 once the model is loaded), POST /invocations, GET /execution-parameters, GET /stats. \
        Request bodies: image/jpeg, image/png, application/x-image (one image); application/x-npy (float32 \
        [N,]3,224,224 preprocessed, or uint8 [N,]H,W,3 pixels); application/jsonlines (one base64 image per \
        line); application/x-parquet (every row of the file's image column). Answers: application/json \
        (default) or application/jsonlines, one entry per record in order; a bad record in a multi-record body \
        is an error entry, not a failed request. Errors are JSON: 400 malformed, 413 over MaxPayloadInMB \
        (before the body is read in full), 415 unsupported type, 503 overloaded (with Retry-After) or loading.

        The images of concurrent requests are batched into the model (up to --batch-size, waiting at most \
        --max-batch-delay for more). SIGTERM finishes the requests in flight, then exits.

        The model: --model-dir (default /opt/ml/model) when it holds sluice-model.json (see docs/serving.md), \
        else --model/--weights and the preprocessing flags. SageMaker's environment overrides the flags: \
        SAGEMAKER_BIND_TO_PORT, SAGEMAKER_MAX_PAYLOAD_IN_MB, SAGEMAKER_BATCH_STRATEGY, \
        SAGEMAKER_MAX_CONCURRENT_TRANSFORMS.
        """
    )

    @Option(help: "Port to listen on (SAGEMAKER_BIND_TO_PORT overrides it).")
    var port = 8080

    @Option(help: "Address to listen on.")
    var host = "0.0.0.0"

    @Option(help: "A SageMaker model directory holding sluice-model.json and the weights.")
    var modelDir = "/opt/ml/model"

    @OptionGroup var model: ModelOptions

    @OptionGroup(title: "Preprocessing") var preprocessing: PreprocessOptions

    @Option(help: "Images per model call at most; concurrent requests are batched up to it.")
    var batchSize = 32

    @Option(help: "Milliseconds the first image of a batch waits for others.")
    var maxBatchDelay = 5

    @Option(help: "Largest request body in MB (SAGEMAKER_MAX_PAYLOAD_IN_MB overrides it).")
    var maxPayloadMb = 6

    @Option(help: "Requests advertised as concurrent in /execution-parameters.")
    var maxConcurrentTransforms = 4

    @Option(help: "Images waiting for the model at most; more are answered 503 with Retry-After.")
    var maxQueuedImages = 1024

    @Option(help: "Classes reported per image.")
    var topK = 5

    @Option(help: "Class names, one per line (default: the ImageNet-1k list).")
    var labels: String?

    @Option(help: "Threads for the model (default: all cores).")
    var modelThreads: Int?

    func validate() throws {
        guard batchSize > 0, topK > 0, maxPayloadMb > 0, maxBatchDelay >= 0, maxQueuedImages > 0 else {
            throw ValidationError("--batch-size, --top-k, --max-payload-mb and --max-queued-images must be positive, --max-batch-delay not negative")
        }
    }

    func run() throws {
        var settings = ServeConfiguration()
        settings.host = host
        settings.port = port
        settings.batchSize = batchSize
        settings.maxBatchDelay = .milliseconds(maxBatchDelay)
        settings.maxPayloadBytes = maxPayloadMb << 20
        settings.maxConcurrentTransforms = maxConcurrentTransforms
        settings.maxQueuedImages = maxQueuedImages
        settings.topK = topK
        try settings.apply(environment: ProcessInfo.processInfo.environment)

        // On a GPU the server's model reads float32 NCHW (its requests are batched on the CPU side).
        let (placement, precision) = try model.placement(command: "serve")
        var factory = model.factory(on: placement, precision: precision)
        var spec = try preprocessing.resolved(model: model.model).spec
        var names = try labels.map(ClassLabels.load) ?? ClassLabels.imageNet
        if let directory = try ModelDirectory.load(modelDir) {
            guard let precision = Precision(rawValue: directory.precision ?? placement.defaultPrecision.rawValue) else {
                throw ValidationError("\(modelDir)/\(ModelDirectory.fileName): precision must be fp32, bf16 or int8")
            }
            factory = ResNetFactory(model: directory.model, weights: directory.weights, precision: try placement.precision(precision),
                                    calibration: directory.calibration.map(CalibrationSource.file), convolutionAlgorithm: model.convolution, placement: placement,
                                    int8AgreementTarget: model.int8Agreement)
            var options = preprocessing
            options.resize = directory.resize ?? options.resize
            options.crop = directory.crop ?? options.crop
            options.mean = directory.mean ?? options.mean
            options.std = directory.std ?? options.std
            options.divisor = directory.divisor ?? options.divisor
            spec = try options.spec()
            if let file = directory.labels { names = try ClassLabels.load(file) }
            settings.topK = directory.topK ?? settings.topK
            printError("sluice serve: model from \(modelDir)/\(ModelDirectory.fileName): \(factory.name)")
        }
        let server = InferenceServer(configuration: settings, preprocessor: try StandardPreprocessor(spec: spec), model: factory,
                                     labels: names, modelThreads: modelThreads ?? ProcessInfo.processInfo.activeProcessorCount)
        let banner = "\(settings.host):%d (\(factory.name), batch \(settings.batchSize))"
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var failure: Error?
        Task {
            do {
                try await server.run { port in printError("sluice serve: listening on " + String(format: banner, port)) }
            } catch {
                failure = error
            }
            done.signal()
        }
        done.wait()
        if let failure { throw failure }
    }
}
