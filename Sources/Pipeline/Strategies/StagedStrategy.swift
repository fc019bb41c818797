import Foundation
import Parquet

/// Spark's staged configuration: phase 1 preprocesses every unit (all cores, one unit per worker) and
/// writes the model inputs as tensors in the model's encoding (float32, or uint8 crops for a GPU model) to intermediate Parquet files (beside the output, through the
/// object store, as Spark would write them to its file system); phase 2 reads them back and infers. Both
/// phases are timed.
struct StagedStrategy {
    let job: Job

    func run(_ plan: [PlannedUnit]) throws -> ([StageStats], [String: Double]) {
        let c = job.configuration
        let staging = c.stagingDirectory ?? job.writer.url("_staging")
        defer { try? job.storage.removeTree(staging) }
        let shape = job.preprocessor.outputShape
        let element = job.modelInputElement
        let read = StageStats(name: "read"), preprocess = StageStats(name: "preprocess")
        let stage = StageStats(name: "write stage"), reload = StageStats(name: "read stage"), infer = StageStats(name: "infer")

        // Phase 1: every core preprocesses whole units.
        let phase1Start = Date()
        let units = BoundedQueue<PlannedUnit>(name: "units", capacity: max(plan.count, 1))
        plan.forEach { units.push($0) }
        units.close()
        let staged = StagedUnits()
        let workers = c.workers ?? ProcessInfo.processInfo.activeProcessorCount
        let preprocessor = PreprocessOperator(job: job, stats: preprocess, workers: workers)
        let threads = StageThreads()
        for w in 0..<workers {
            threads.spawn("stage-\(w)") {
                preprocess.threadStarted()
                let worker = preprocessor.makeWorker()
                while let planned = units.pop(), !job.failed {
                    let url = staging.hasSuffix("/") ? staging + planned.unit.partName + ".parquet" : staging + "/" + planned.unit.partName + ".parquet"
                    if let records = stageUnit(planned, to: url, preprocessor: preprocessor, worker: worker, shape: shape, element: element,
                                              read: read, write: stage) {
                        staged.add(planned, url: url, records: records)
                    }
                }
            }
        }
        threads.run()
        let phase1 = Date().timeIntervalSince(phase1Start)
        if job.failed { return ([read, preprocess, stage], ["1 preprocess": phase1]) }

        // Phase 2: read the staged tensors back and infer, one staged unit at a time per model copy.
        let phase2Start = Date()
        let first = try job.model(copy: 0)
        guard first.inputElements == shape.reduce(1, *) else {
            throw PipelineError.configuration("the model takes \(first.inputShape), preprocessing made \(shape)")
        }
        job.tracker.setClassCount(first.classCount)
        let pending = BoundedQueue<StagedUnits.Entry>(name: "staged", capacity: max(plan.count, 1))
        staged.all.filter { $0.records.contains(where: \.ok) }.forEach { pending.push($0) }
        pending.close()
        let inferThreads = StageThreads()
        for copy in 0..<job.modelLayout.copies {
            nonisolated(unsafe) let prebuilt = copy == 0 ? first : nil
            inferThreads.spawn("infer-\(copy)") {
                [reload, infer].forEach { $0.threadStarted() }
                do {
                    let inferrer = InferOperator(model: try prebuilt ?? job.model(copy: copy), stats: infer)
                    let batch = try Batch.make(capacity: c.batchSize, for: inferrer.model)
                    guard batch.element == element else {
                        throw PipelineError.inference("model copy \(copy) reads \(batch.element), the staged tensors are \(element)")
                    }
                    while let entry = pending.pop(), !job.failed {
                        try inferStaged(entry, shape: shape, inferrer: inferrer, batch: batch, reload: reload)
                    }
                } catch {
                    job.abort(error as? PipelineError ?? PipelineError.inference("\(error)"))
                }
            }
        }
        inferThreads.run()
        let phase2 = Date().timeIntervalSince(phase2Start)
        return ([read, preprocess, stage, reload, infer], ["1 preprocess": phase1, "2 infer": phase2])
    }

    /// Reads one staged unit back in batches and infers it. A staged file that cannot be read fails its unit;
    /// a model failure is fatal (thrown).
    private func inferStaged(_ entry: StagedUnits.Entry, shape: [Int], inferrer: InferOperator, batch: Batch, reload: StageStats) throws {
        let batchSize = batch.capacity
        let width = batch.element.byteWidth
        let postprocessor = PostprocessOperator(job: job, stats: StageStats(name: "postprocess"))
        do {
            let tensors = try TensorColumnReader(file: try ParquetFileReader(source: try job.storage.openSource(entry.url)),
                                                 column: "input", shape: shape, element: Self.tensorElement(batch.element))
            while let chunk = try reload.measure(items: 0, { try tensors.next(targetRows: batchSize) }) {
                reload.measure(items: chunk.rowCount) {}
                let values = UnsafeRawBufferPointer(chunk.bytes)
                var first = 0
                while first < chunk.rowCount {
                    let count = min(batchSize, chunk.rowCount - first)
                    batch.reset()
                    batch.assigned = count
                    let bytes = batch.inputElements * width
                    UnsafeMutableRawBufferPointer(rebasing: batch.inputBytes[0..<(count * bytes)])
                        .copyMemory(from: UnsafeRawBufferPointer(rebasing: values[(first * bytes)..<((first + count) * bytes)]))
                    for i in 0..<count { batch.slots[i] = entry.records[chunk.firstRow + first + i] }
                    try inferrer.infer(batch)
                    postprocessor.record(batch)
                    first += count
                }
            }
        } catch let error as PipelineError {
            throw error
        } catch {
            job.unitFailed(entry.planned, error)
        }
    }

    static func tensorElement(_ element: InputElement) -> TensorElement {
        switch element {
        case .float32: .float32
        case .uint8: .uint8
        }
    }

    /// Preprocesses one unit into a staged file of tensors in the model's encoding (a failed row is stored as
    /// zeros and reported at once); returns every row's record, or nil when the unit failed (it is reported).
    private func stageUnit(_ planned: PlannedUnit, to url: String, preprocessor: PreprocessOperator, worker: any PreprocessWorker,
                           shape: [Int], element: InputElement, read: StageStats, write: StageStats) -> [Batch.Slot]? {
        let elements = shape.reduce(1, *)
        var records: [Batch.Slot] = []
        var floats = [Float]()
        var pixels = [UInt8]()
        do {
            var options = WriterOptions()
            options.codec = .uncompressed  // float tensors barely compress; what Spark's staging would pay is the I/O
            let sink = try job.storage.writer(url)
            let writer = try ParquetFileWriter(sink: sink, fields: [.tensor(name: "input", element: Self.tensorElement(element), shape: shape)],
                                               options: options)
            let complete = job.readUnit(planned, targetRows: MemoryPlan(configuration: job.configuration).chunkRows, stats: read) { chunk in
                func stage(_ i: Int, _ input: SlotInput, clear: () -> Void) {
                    var record = preprocessor.record(chunk, i)
                        ?? Batch.Slot(unit: chunk.unit, row: chunk.firstRow + i, id: chunk.ids[i], ok: false)
                    if record.ok { preprocessor.fill(input, from: chunk, i, record: &record, worker: worker) }
                    if !record.ok { clear() }
                    records.append(record)
                }
                /// Preprocesses the chunk's rows into `buffer` (zeros for a failed row) and writes them as one row group.
                func stageRows<Value: Numeric>(_ buffer: inout [Value], as slot: (UnsafeMutableBufferPointer<Value>) -> SlotInput) throws {
                    let values = chunk.rowCount * elements
                    if buffer.count < values { buffer = [Value](repeating: 0, count: values) }
                    buffer.withUnsafeMutableBufferPointer { all in
                        for i in 0..<chunk.rowCount {
                            let input = UnsafeMutableBufferPointer(rebasing: all[(i * elements)..<((i + 1) * elements)])
                            stage(i, slot(input)) { input.update(repeating: 0) }
                        }
                    }
                    try write.measure(items: chunk.rowCount) {
                        try buffer.withUnsafeBytes {
                            try writer.writeTensorRowGroup(UnsafeRawBufferPointer(rebasing: $0[0..<(values * MemoryLayout<Value>.stride)]),
                                                           rows: chunk.rowCount)
                        }
                    }
                }
                switch element {
                case .float32: try stageRows(&floats, as: SlotInput.float)
                case .uint8: try stageRows(&pixels, as: SlotInput.pixels)
                }
                return !job.failed
            }
            guard complete else {
                sink.abort()
                return nil
            }
            try writer.close()
            return records
        } catch {
            job.unitFailed(planned, error)
            return nil
        }
    }
}

/// Units staged by phase 1, in plan order, with every row's record (id, and whether it preprocessed).
final class StagedUnits: @unchecked Sendable {
    struct Entry {
        var planned: PlannedUnit
        var url: String
        var records: [Batch.Slot]
    }

    private let lock = NSLock()
    private var entries: [Entry] = []

    func add(_ planned: PlannedUnit, url: String, records: [Batch.Slot]) {
        lock.withLock { entries.append(Entry(planned: planned, url: url, records: records)) }
    }

    var all: [Entry] {
        lock.withLock { entries.sorted { $0.planned.index < $1.planned.index } }
    }
}
