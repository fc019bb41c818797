import ArgumentParser
import Foundation
import Inference
import ObjectStore
import Pipeline

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure accuracy: top-1/top-5 against a labels file, and agreement with a reference run.",
        discussion: """
        With --input, runs the model over the dataset exactly as `sluice run` does (logits kept, into --output or a \
        temporary directory) and scores its predictions; with --predictions, scores the output of an earlier \
        `sluice run --logits` instead. --labels: CSV (id,label, with or without that header) or JSON lines \
        ({"id": …, "label": …}); a label is a class index, a WordNet id (n01440764) or a class name. \
        --reference: another run's output (e.g. fp32, when this one is int8): top-1 and top-5 agreement and, when \
        both kept logits, max and mean |Δlogit|.

        With --calibration auto[:N] (int8's default here) the first N images of the input calibrate the model, \
        and are left out of every score (MLPerf's calibration-disjoint rule).

        Exit status: 1 when a labelled image has no prediction, or an image was predicted in one run and not \
        the other (listed in the report), unless --allow-missing; 2 for a usage or labels-file error.
        """
    )

    @Option(help: "Input Parquet file or directory, or directory of JPEG/PNG files, to run the model over (repeatable).")
    var input: [String] = []

    @Option(help: "Score this `sluice run` output (a directory of prediction parts) instead of running a model.")
    var predictions: String?

    @Option(help: "The true classes: CSV (id,label) or JSON lines ({\"id\": …, \"label\": …}).")
    var labels: String?

    @Option(help: "Another run's output to compare with (top-1/top-5 agreement; |Δlogit| when both have logits).")
    var reference: String?

    @Option(help: "Keep the predictions of the model run here (default: a temporary directory, removed afterwards).")
    var output: String?

    @Option(help: "Class names, one per line, for labels given by name (default: ImageNet-1k, which also takes WordNet ids).")
    var classNames: String?

    @Flag(help: "Print the report as JSON.")
    var json = false

    @Flag(help: "Exit 0 even when labelled images have no prediction (they are still reported).")
    var allowMissing = false

    @OptionGroup var model: ModelOptions

    @OptionGroup(title: "Preprocessing") var preprocessing: PreprocessOptions

    @OptionGroup(title: "Image columns that are plain numeric lists") var tensorInput: TensorInputArguments

    @Option(help: "Images per batch. (default: 64 on the CPU, 256 on a GPU)")
    var batchSize: Int?

    @Option(help: "The image column (default: the first tensor or image-bytes column).")
    var imageColumn: String?

    @Option(help: "A column whose value identifies each row (default: file name and row number); the labels' ids must match it.")
    var idColumn: String?

    @Option(help: "Memory for queues and buffer pools (and the --calibration auto images), e.g. 2GiB.")
    var maxMemory = "2GiB"

    @Option(help: "Threads for the model (default: all cores).")
    var modelThreads: Int?

    @Option(help: "Copies of the model inferring side by side (default: measured, as in `sluice run`).")
    var modelReplicas: Int?

    @Flag(help: "No progress output.")
    var noProgress = false

    func validate() throws {
        if predictions != nil, output != nil { throw ValidationError("--output keeps a model run; --predictions scores an existing one") }
        if predictions == nil, input.isEmpty { throw ValidationError("give --input (run the model) or --predictions (score an existing run)") }
        if labels == nil, reference == nil { throw ValidationError("give --labels, --reference or both") }
    }

    func run() throws {
        // The device first: --device cuda without a GPU fails before any input is read (scoring --predictions needs no model).
        let (placement, precision) = predictions == nil ? try model.placement(command: "eval") : (placement: DevicePlacement.cpu, precision: model.precision ?? Precision.fp32)
        let batchSize = self.batchSize ?? placement.defaultBatchSize
        let classes = try classNames.map { ClassVocabulary(names: try ClassLabels.load($0)) } ?? .imageNet
        let labelsFile: LabelsFile?
        do { labelsFile = try labels.map { try LabelsFile.load(path: $0, classes: classes) } } catch let error as EvaluationError {
            throw PipelineError.configuration("--labels: \(error)")  // a usage error: exit status 2
        }
        let referenceSet = try reference.map { try PredictionSet.load($0) }
        var configuration = RunConfiguration(inputs: input, output: output ?? "")
        configuration.batchSize = batchSize
        configuration.topK = 5
        configuration.keepLogits = true
        configuration.labels = classes.names
        configuration.imageColumn = imageColumn
        configuration.tensorInput = try tensorInput.options()
        configuration.idColumn = idColumn
        configuration.maxMemory = try parseBytes(maxMemory)
        configuration.modelThreads = modelThreads
        configuration.modelReplicas = modelReplicas
        configuration.progress = !noProgress
        let (spec, source) = try preprocessing.resolved(model: model.model)
        if !noProgress { printError("sluice eval: preprocessing from \(source): \(spec.summary)") }
        let preprocessor = try StandardPreprocessor(spec: spec)
        let storage = ObjectStorage()
        defer { storage.shutdown() }

        let predictionSet: PredictionSet
        var excluded: [String] = []
        if let predictions {
            // Scoring an earlier run: its calibration images are found again from the same input and options.
            if case let .auto(count)? = model.calibrationSource, model.calibration != nil {
                guard !input.isEmpty else {
                    throw ValidationError("--calibration auto with --predictions needs the run's --input, to find the calibration images again")
                }
                excluded = try AutoCalibration(count: count, configuration: configuration, preprocessor: preprocessor, storage: storage).collect().ids
            }
            predictionSet = try PredictionSet.load(predictions)
        } else {
            let temporary = output == nil
            if let output, let names = try? FileManager.default.contentsOfDirectory(atPath: output), names.contains(where: { $0.hasSuffix(".parquet") }) {
                // `sluice run` would keep those parts (resuming): parts of another model or precision would be scored as this one's.
                throw ValidationError("--output \(output) already holds predictions: eval runs the model afresh into an empty directory; score an existing run with --predictions \(output)")
            }
            if temporary {
                configuration.output = FileManager.default.temporaryDirectory
                    .appendingPathComponent("sluice-eval-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(8))").path
            }
            defer { if temporary { try? FileManager.default.removeItem(atPath: configuration.output) } }
            let (factory, calibration) = try model.factory(calibratingOn: configuration, preprocessor: preprocessor, storage: storage, command: "eval",
                                                           placement: placement, precision: precision, normalization: spec.inputNormalization)
            excluded = calibration?.ids ?? []
            let job = Job(configuration: configuration, preprocessor: preprocessor, model: factory, storage: storage)
            let report = try job.run()
            if configuration.progress { printError(report.render()) }
            if let fallback = factory.int8Fallback { printError("sluice eval: \(fallback.summary)") }
            predictionSet = try PredictionSet.load(configuration.output)
        }
        let report = try EvaluationReport.evaluate(predictions: predictionSet, labels: labelsFile, reference: referenceSet,
                                                   excluded: Set(excluded), classes: classes)
        print(json ? try report.json() : report.render())
        if !report.complete && !allowMissing { throw ExitCode(1) }
    }
}
