import Foundation
import Parquet

/// Spark's staged configuration: phase 1 preprocesses every unit (all cores, one unit per worker) and
/// writes the model inputs as float32 tensors to intermediate Parquet files; phase 2 reads them back and
/// infers. Both phases are timed.
struct StagedStrategy {
    let job: Job

    func run(_ plan: [PlannedUnit]) throws -> ([StageStats], [String: Double]) {
        let c = job.configuration
        let staging = c.stagingDirectory ?? (c.output as NSString).appendingPathComponent("_staging")
        try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: staging) }
        let shape = job.preprocessor.outputShape
        let elements = shape.reduce(1, *)
        let read = StageStats(name: "read"), preprocess = StageStats(name: "preprocess")
        let stage = StageStats(name: "write stage"), reload = StageStats(name: "read stage"), infer = StageStats(name: "infer")

        // Phase 1: every core preprocesses whole units.
        let phase1Start = Date()
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let units = BoundedQueue<PlannedUnit>(name: "units", capacity: max(plan.count, 1))
        plan.forEach { units.push($0) }
        units.close()
        let staged = StagedUnits()
        let group = DispatchGroup()
        for w in 0..<(c.workers ?? cores) {
            group.enter()
            let thread = Thread {
                defer { group.leave() }
                preprocess.threadStarted()
                let worker = job.preprocessor.makeWorker()
                while let planned = units.pop(), !job.failed {
                    do {
                        let path = (staging as NSString).appendingPathComponent(planned.unit.partName + ".parquet")
                        let valid = try stageUnit(planned, to: path, worker: worker, shape: shape, read: read, preprocess: preprocess, write: stage)
                        staged.add(planned, path: path, valid: valid)
                    } catch {
                        do { try job.unitFailed(planned.unit, error) } catch { job.abort(error) }
                    }
                }
            }
            thread.name = "stage-\(w)"
            thread.start()
        }
        group.wait()
        let phase1 = Date().timeIntervalSince(phase1Start)
        if job.failed { return ([read, preprocess, stage], ["1 preprocess": phase1]) }

        // Phase 2: read the staged tensors back and infer.
        let phase2Start = Date()
        let model = try job.modelFactory.makeModel(batchSize: c.batchSize, threads: job.threadBudget.model)
        guard model.inputElements == elements else {
            throw PipelineError.configuration("the model takes \(model.inputShape), preprocessing made \(shape)")
        }
        job.tracker.setClassCount(model.classCount)
        [reload, infer].forEach { $0.threadStarted() }
        let logits = UnsafeMutableBufferPointer<Float>.allocate(capacity: c.batchSize * model.classCount)
        defer { logits.deallocate() }
        for entry in staged.all where !job.failed {
            let (planned, path, valid, ids) = entry
            // Phase 1 read the unit to the end: its row count is known.
            job.tracker.start(planned.unit, index: planned.index, declaredRows: valid.count)
            if let empty = try job.tracker.seal(planned.index, rows: valid.count) {
                job.commit(empty)
                continue
            }
            for (row, ok) in valid.enumerated() where !ok.ok {
                job.recordFailed(unit: planned.index, row: row, id: ids[row], reason: ok.reason, displayName: planned.unit.displayName)
            }
            do {
                let tensors = try TensorColumnReader(file: try ParquetFileReader(path: path), column: "input", shape: shape, element: .float32)
                while let batch = try reload.measure(items: 0, { try tensors.next(targetRows: c.batchSize) }) {
                    reload.measure(items: batch.rowCount) {}
                    var first = 0
                    while first < batch.rowCount {
                        let count = min(c.batchSize, batch.rowCount - first)
                        let input = UnsafeBufferPointer(rebasing: batch.bytes.bindMemory(to: Float.self)[(first * elements)..<((first + count) * elements)])
                        do {
                            try infer.measure(items: count) { try model.classify(input, count: count, logits: logits) }
                        } catch {
                            throw PipelineError.inference("\(error)")
                        }
                        for i in 0..<count {
                            let row = batch.firstRow + first + i
                            guard valid[row].ok else { continue }
                            job.recordPrediction(unit: planned.index, row: row, id: ids[row],
                                                 logits: UnsafeBufferPointer(rebasing: logits[(i * model.classCount)..<((i + 1) * model.classCount)]))
                        }
                        first += count
                    }
                }
            } catch let error as PipelineError {
                throw error
            } catch {
                job.tracker.abandon(planned.index)
                try job.unitFailed(planned.unit, error)
            }
        }
        let phase2 = Date().timeIntervalSince(phase2Start)
        return ([read, preprocess, stage, reload, infer], ["1 preprocess": phase1, "2 infer": phase2])
    }

    /// Preprocesses one unit into a staged file of float32 tensors (a failed row is stored as zeros and
    /// remembered); returns each row's outcome and id.
    private func stageUnit(_ planned: PlannedUnit, to path: String, worker: any PreprocessWorker, shape: [Int],
                           read: StageStats, preprocess: StageStats, write: StageStats) throws -> [(ok: Bool, reason: String, id: String)] {
        let source = try job.openSource(planned.unit, index: planned.index)
        var options = WriterOptions()
        options.codec = .uncompressed  // float tensors barely compress; what Spark's staging would pay is the I/O
        let writer = try ParquetFileWriter(path: path, fields: [.tensor(name: "input", element: .float32, shape: shape)], options: options)
        let elements = shape.reduce(1, *)
        var outcomes: [(ok: Bool, reason: String, id: String)] = []
        var buffer = [Float]()
        while let chunk = try read.measure(items: 0, { try source.next(targetRows: MemoryPlan(configuration: job.configuration).chunkRows) }) {
            read.measure(items: chunk.rowCount) {}
            buffer = [Float](repeating: 0, count: chunk.rowCount * elements)
            buffer.withUnsafeMutableBufferPointer { all in
                for i in 0..<chunk.rowCount {
                    guard chunk.valid[i] else {
                        outcomes.append((false, chunk.problems[i] ?? "unusable record", chunk.ids[i]))
                        continue
                    }
                    let slot = UnsafeMutableBufferPointer(rebasing: all[(i * elements)..<((i + 1) * elements)])
                    preprocess.measure(items: 1) {
                        do {
                            try chunk.withPayload(i) { try worker.preprocess($0, into: slot) }
                            outcomes.append((true, "", chunk.ids[i]))
                        } catch {
                            slot.update(repeating: 0)
                            outcomes.append((false, "\(error)", chunk.ids[i]))
                        }
                    }
                }
            }
            try write.measure(items: chunk.rowCount) {
                try buffer.withUnsafeBytes { try writer.writeTensorRowGroup($0, rows: chunk.rowCount) }
            }
        }
        guard source.rowsRead == source.declaredRows else {
            throw PipelineError.rowCountMismatch(planned.unit.displayName, declared: source.declaredRows, read: source.rowsRead)
        }
        try writer.close()
        return outcomes
    }
}

/// Units staged by phase 1, in plan order.
final class StagedUnits: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [(PlannedUnit, String, [(ok: Bool, reason: String, id: String)])] = []

    func add(_ planned: PlannedUnit, path: String, valid: [(ok: Bool, reason: String, id: String)]) {
        lock.withLock { entries.append((planned, path, valid)) }
    }

    var all: [(PlannedUnit, String, [(ok: Bool, reason: String)], [String])] {
        lock.withLock {
            entries.sorted { $0.0.index < $1.0.index }.map { ($0.0, $0.1, $0.2.map { ($0.ok, $0.reason) }, $0.2.map(\.id)) }
        }
    }
}
