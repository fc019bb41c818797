import Foundation
import ObjectStore
import Parquet

/// One `sluice run`: plans the units (skipping committed ones), runs the chosen strategy, writes the
/// `_SUCCESS` marker and summary, and reports.
public final class Job: @unchecked Sendable {
    public let configuration: RunConfiguration
    let preprocessor: any RecordPreprocessor
    let modelFactory: any ModelFactory
    let writer: PartWriter
    let tracker: UnitTracker
    private let failureLock = NSLock()
    private var fatal: Error?
    private var unitFailures: [String: String] = [:]
    private var bytesRead: Int64 = 0
    private var bytesWritten: Int64 = 0

    let storage: ObjectStorage
    /// The model server of the per-request strategy.
    let invocationClient: (any InvocationClient)?

    public init(configuration: RunConfiguration, preprocessor: any RecordPreprocessor, model: any ModelFactory,
                storage: ObjectStorage = ObjectStorage(), invocationClient: (any InvocationClient)? = nil) {
        self.configuration = configuration
        self.invocationClient = invocationClient
        self.preprocessor = preprocessor
        self.modelFactory = model
        self.storage = storage
        writer = PartWriter(storage: storage, outputDirectory: configuration.output, labels: configuration.labels, codec: configuration.outputCodec)
        tracker = UnitTracker(k: configuration.topK, keepLogits: configuration.keepLogits)
    }

    /// Runs the job to the end. Throws only for a fatal error (bad configuration, --on-error fail, a model
    /// failure); bad files and records are counted in the report.
    public func run() throws -> JobReport {
        let c = configuration
        try c.validate()
        try OutputLocation.checkOutsideInputs(output: c.output, inputs: c.inputs)
        // Parts a killed run left half-written (never visible under their final names) are deleted, unless
        // their writer is alive: other shards may be writing to the same output.
        _ = try? storage.removeAbandonedTemporaries(under: c.output)
        let jobUnits = try InputDiscovery.units(c.inputs, storage: storage, imagesPerUnit: c.imagesPerPart)
        let shardUnits = try c.workerUnits(of: jobUnits)
        let committedBefore = try storage.names(under: c.output)
        // A marker that says "complete" while a part of the job is missing is a lie from an earlier run (other
        // inputs, deleted parts): it goes before any work, and comes back only when the job is complete.
        let jobIncomplete = jobUnits.contains { !committedBefore.contains(PartWriter.partFileName($0)) }
        if jobIncomplete {
            for marker in [Self.successMarker, Self.summaryFile] { try storage.delete(writer.url(marker)) }
        }
        // A summary without its marker from before this run: its writer died between the two.
        let orphanSummary = !jobIncomplete && committedBefore.contains(Self.summaryFile) && !committedBefore.contains(Self.successMarker)
        let pending = shardUnits.filter { !committedBefore.contains(PartWriter.partFileName($0)) }
        let start = Date()
        let cpuStart = processCPUSeconds()

        var plan: [(index: Int, unit: InputUnit, rows: Int)] = []
        for (index, unit) in pending.enumerated() {
            do {
                let rows = try rowCount(unit)
                plan.append((index, unit, rows))
                tracker.addExpected(rows)
                bytesRead += unit.bytes
            } catch {
                try unitFailed(unit, error)
            }
        }

        if !plan.isEmpty && c.strategy != .perRequest {
            try chooseModelLayout()
            try checkInputContract()
        }

        let progress = c.progress ? ProgressPrinter { [tracker] in tracker.progress } : nil
        progress?.start(label: c.strategy.rawValue)
        var stages: [StageStats] = []
        var queues: [QueueSnapshot] = []
        var phases: [String: Double] = [:]
        defer { progress?.stop(label: c.strategy.rawValue) }
        switch c.strategy {
        case .streaming:
            (stages, queues) = try StreamingStrategy(job: self).run(plan)
        case .fused:
            stages = try FusedStrategy(job: self).run(plan)
        case .staged:
            (stages, phases) = try StagedStrategy(job: self).run(plan)
        case .perRequest:
            guard let invocationClient else { throw PipelineError.configuration("the per-request strategy needs a model server (--endpoint)") }
            stages = try PerRequestStrategy(job: self, client: invocationClient).run(plan)
        }
        if let fatal = failureLock.withLock({ fatal }) { throw fatal }
        // Whatever a strategy left open lost rows somewhere: each such unit is a failure, never a silent gap.
        for (_, unit, reason) in tracker.unfinished() {
            try unitFailed(unit, PipelineError.input("\(unit.displayName): \(reason); no part was written"))
        }

        let seconds = Date().timeIntervalSince(start)
        let cpu = processCPUSeconds() - cpuStart
        let (done, failed, _) = tracker.progress
        let committed = try storage.names(under: c.output)
        let missing = jobUnits.filter { !committed.contains(PartWriter.partFileName($0)) }.count
        var report = JobReport(
            strategy: c.strategy.rawValue, units: plan.count, unitsSkipped: shardUnits.count - pending.count,
            unitsFailed: failureLock.withLock { unitFailures }, images: done, imagesFailed: failed, seconds: seconds,
            imagesPerSecond: seconds > 0 ? Double(done - failed) / seconds : 0, cpuSeconds: cpu,
            cpuUtilisation: seconds > 0 ? cpu / seconds / Double(ProcessInfo.processInfo.activeProcessorCount) : 0,
            peakRSSBytes: peakRSSBytes(), bytesRead: bytesRead, bytesWritten: failureLock.withLock { bytesWritten },
            stages: stages.map(\.snapshot), queues: queues, phases: phases)
        report.modelLayout = plan.isEmpty ? "" : c.strategy == .perRequest ? "in the model server" : modelLayout.description
        report.device = modelFactory.placement.description
        report.devices = deviceReports(seconds: seconds)
        report.limitingStage = JobReport.limitingStage(stages: report.stages, devices: report.devices, seconds: seconds)
        report.modelLayoutMeasured = layoutMeasurements
        report.jobParts = jobUnits.count
        report.jobPartsMissing = missing
        report.imagesFailedEarlier = try earlierErrorRows(skipped: shardUnits.filter { committedBefore.contains(PartWriter.partFileName($0)) })
        // _SUCCESS means every part of the whole job (every shard) is committed, and this run lost nothing.
        if report.unitsFailed.isEmpty && missing == 0 {
            report.jobComplete = true
            try publishMarkers(report, orphanSummary: orphanSummary)
        }
        return report
    }

    /// Writes `_summary.json` and `_SUCCESS` once per job: of the workers that see the job complete, the one
    /// whose summary claims the name (a conditional create) writes the marker; the others leave both alone.
    /// A summary orphaned by a writer killed between the two writes is completed by the next run.
    private func publishMarkers(_ report: JobReport, orphanSummary: Bool) throws {
        let claimed = try storage.putIfAbsent(writer.url(Self.summaryFile), bytes: Array(try report.json().utf8))
        if claimed || orphanSummary { try writer.publish(Self.successMarker, bytes: []) }
    }

    static let successMarker = "_SUCCESS"
    static let summaryFile = "_summary.json"

    // MARK: shared by the strategies

    var failed: Bool { failureLock.withLock { fatal != nil } }

    /// Records a fatal error (the first one wins); strategies stop their stages when they see it.
    func abort(_ error: Error) {
        failureLock.withLock { if fatal == nil { fatal = error } }
    }

    /// A unit that cannot be read at all: reported by name, the job goes on (unless --on-error fail).
    func unitFailed(_ unit: InputUnit, _ error: Error) throws {
        failureLock.withLock { unitFailures[unit.displayName] = "\(error)" }
        if configuration.onError == .fail { throw error }
    }

    /// A record that cannot be used: an error row; fatal with --on-error fail.
    func recordFailed(unit: Int, row: Int, id: String, reason: String, displayName: String) {
        if configuration.onError == .fail {
            abort(PipelineError.record(file: displayName, row: row, reason: reason))
        }
        if let complete = tracker.fail(unit: unit, row: row, id: id, reason: reason) { commit(complete) }
    }

    func recordPrediction(unit: Int, row: Int, id: String, logits: UnsafeBufferPointer<Float>) {
        if let complete = tracker.record(unit: unit, row: row, id: id, logits: logits) { commit(complete) }
    }

    func commit(_ predictions: UnitPredictions) {
        do {
            let bytes = try writer.commit(predictions)
            failureLock.withLock { bytesWritten += bytes }
        } catch {
            abort(PipelineError.output("\(predictions.unit.partName): \(error)"))
        }
    }

    func openSource(_ unit: InputUnit, index: Int) throws -> any RecordSource {
        try Pipeline.openSource(unit, index: index, configuration: configuration, storage: storage,
                                maxChunkBytes: MemoryPlan(configuration: configuration).maxChunkBytes, modelInput: preprocessor.outputShape)
    }

    /// Preprocessing threads and model threads for this machine (overridable).
    var threadBudget: (workers: Int, model: Int) {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        if let copies = modelFactory.placement.modelCopies {
            // On a GPU the CPU only reads and preprocesses: those get the cores, less the reader and one feeder
            // thread per model copy (which mostly wait for their GPU).
            return (configuration.workers ?? max(1, cores - 1 - copies), copies)
        }
        // The model is ~95% of the work on a CPU: it gets every core; one preprocessing thread keeps up.
        return (configuration.workers ?? max(1, cores / 4), configuration.modelThreads ?? cores)
    }

    /// The model layout of this run: from `--model-replicas`/`--model-threads` when given, else measured
    /// (`ModelLayoutTuner`, cached per machine and model), else one copy on every model thread.
    private(set) var modelLayout = ModelLayout(copies: 1, threadsEach: 1)
    private var prebuiltModels: [Int: any ClassifierModel] = [:]
    private(set) var layoutMeasurements: [String: Double] = [:]

    private func chooseModelLayout() throws {
        let threads = threadBudget.model
        if let copies = modelFactory.placement.modelCopies {
            modelLayout = ModelLayout(copies: copies, threadsEach: 1)
        } else if let replicas = configuration.modelReplicas {
            let copies = min(replicas, threads)
            modelLayout = ModelLayout(copies: copies, threadsEach: max(1, threads / copies))
        } else if configuration.modelThreads != nil || !configuration.tuneModelLayout {
            modelLayout = ModelLayout(copies: 1, threadsEach: threads)
        } else {
            let tuner = ModelLayoutTuner(factory: modelFactory, batchSize: configuration.batchSize, threads: threads,
                                         cache: configuration.layoutCache.map { ModelLayoutCache(path: $0) } ?? ModelLayoutCache.standard())
            let result = try tuner.choose()
            modelLayout = result.layout
            layoutMeasurements = Dictionary(result.measured.map { ($0.layout.description, $0.imagesPerSecond) }, uniquingKeysWith: max)
            failureLock.withLock { prebuiltModels = Dictionary(uniqueKeysWithValues: result.models.enumerated().map { ($0.offset, $0.element) }) }
        }
    }

    /// The first model copy (kept for the strategy) against the preprocessing, before any record is read.
    private func checkInputContract() throws {
        let first = try model(copy: 0)
        failureLock.withLock { prebuiltModels[0] = first }
        try InputContract.check(model: first.inputShape, preprocessing: preprocessor.outputShape)
        modelInputElement = first.inputElement
        if first.inputElement == .uint8 && configuration.tensorInput.preprocessed {
            throw PipelineError.configuration("--preprocessed: the model reads uint8 pixels and normalises them on its device, so float32 tensors cannot feed it; store uint8 images, or give --device cpu")
        }
    }

    /// What the model copies read (known once the first copy is built, before any record is read).
    private(set) var modelInputElement = InputElement.float32

    /// Model copy `index` of the layout: the one tuning built, else a new one (on its GPU, for a GPU run).
    func model(copy index: Int) throws -> any ClassifierModel {
        let model: any ClassifierModel
        if let prebuilt = failureLock.withLock({ prebuiltModels.removeValue(forKey: index) }) {
            model = prebuilt
        } else {
            model = try modelFactory.makeModel(batchSize: configuration.batchSize, threads: modelLayout.threadsEach, copy: index)
        }
        failureLock.withLock { modelsBuilt[index] = model }
        return model
    }

    /// Every copy the run built, to read their device statistics at the end.
    private var modelsBuilt: [Int: any ClassifierModel] = [:]

    /// The GPUs' busy time and transfers, summed per device over the copies on it.
    private func deviceReports(seconds: Double) -> [DeviceReport] {
        let statistics = failureLock.withLock { modelsBuilt.sorted { $0.key < $1.key }.compactMap { $0.value.deviceStatistics } }
        var byDevice: [String: DeviceReport] = [:]
        var order: [String] = []
        for s in statistics {
            if byDevice[s.device] == nil { order.append(s.device) }
            var report = byDevice[s.device] ?? DeviceReport(device: s.device)
            report.busySeconds += s.busySeconds
            report.hostToDeviceBytes += s.hostToDeviceBytes
            report.deviceToHostBytes += s.deviceToHostBytes
            report.busyFraction = seconds > 0 ? min(1, report.busySeconds / seconds) : 0
            byDevice[s.device] = report
        }
        return order.compactMap { byDevice[$0] }
    }

    /// Error rows that earlier runs wrote for the parts this run skipped: a rerun reports them too.
    private func earlierErrorRows(skipped: [InputUnit]) throws -> Int {
        guard !skipped.isEmpty else { return 0 }
        let errorParts = try storage.names(under: writer.url(PartWriter.errorsDirectory))
        return try skipped.filter { errorParts.contains(PartWriter.partFileName($0)) }.reduce(0) { total, unit in
            let url = writer.url(PartWriter.errorsDirectory + "/" + PartWriter.partFileName(unit))
            return total + Int(clamping: try ParquetFileReader(source: try storage.openSource(url)).numRows)
        }
    }

    private func rowCount(_ unit: InputUnit) throws -> Int {
        switch unit.kind {
        case let .parquet(path): Int(clamping: try ParquetFileReader(source: try storage.openSource(path)).numRows)
        case let .images(paths): paths.count
        }
    }
}
