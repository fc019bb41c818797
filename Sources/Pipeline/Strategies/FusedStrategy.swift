import Foundation

/// Spark's fused configuration: one task per inference slot reads its partition, preprocesses it and
/// infers it, in sequence, with no overlap between the steps. On a CPU there is one slot and the model
/// gets every core.
struct FusedStrategy {
    let job: Job

    func run(_ plan: [PlannedUnit]) throws -> [StageStats] {
        let c = job.configuration
        let (_, modelThreads) = job.threadBudget
        let model = try job.modelFactory.makeModel(batchSize: c.batchSize, threads: modelThreads)
        job.tracker.setClassCount(model.classCount)
        let read = StageStats(name: "read"), preprocess = StageStats(name: "preprocess"), infer = StageStats(name: "infer")
        [read, preprocess, infer].forEach { $0.threadStarted() }
        let worker = job.preprocessor.makeWorker()
        let batch = Batch(capacity: c.batchSize, inputElements: model.inputElements, classCount: model.classCount)

        /// Infers the batch and records its rows; false (the job aborted) if the model failed.
        func runBatch() -> Bool {
            guard batch.count > 0 else { return true }
            do {
                try infer.measure(items: batch.count) {
                    try model.classify(UnsafeBufferPointer(batch.inputs), count: batch.count, logits: batch.logits)
                }
            } catch {
                job.abort(PipelineError.inference("\(error)"))
                return false
            }
            for slot in 0..<batch.count where batch.slots[slot].ok {
                let record = batch.slots[slot]
                job.recordPrediction(unit: record.unit, row: record.row, id: record.id, logits: batch.logits(slot))
            }
            batch.reset()
            return true
        }

        for planned in plan where !job.failed {
            let complete = job.readUnit(planned, targetRows: c.batchSize, stats: read) { chunk in
                for i in 0..<chunk.rowCount where !job.failed {
                    let row = chunk.firstRow + i
                    guard chunk.valid[i] else {
                        job.recordFailed(unit: chunk.unit, row: row, id: chunk.ids[i], reason: chunk.problems[i] ?? "unusable record",
                                         displayName: planned.unit.displayName)
                        continue
                    }
                    let slot = batch.assigned
                    batch.assigned += 1
                    batch.slots[slot] = Batch.Slot(unit: chunk.unit, row: row, id: chunk.ids[i], ok: true)
                    preprocess.measure(items: 1) {
                        do {
                            try chunk.withPayload(i) { try worker.preprocess($0, into: batch.input(slot)) }
                        } catch {
                            batch.slots[slot].ok = false
                            job.recordFailed(unit: chunk.unit, row: row, id: chunk.ids[i], reason: "\(error)",
                                             displayName: planned.unit.displayName)
                        }
                    }
                    if batch.assigned == batch.capacity && !runBatch() { return false }
                }
                return !job.failed
            }
            // A partition's batches never span partitions; the rows of a unit that failed midway are dropped.
            if complete { _ = runBatch() } else { batch.reset() }
        }
        return [read, preprocess, infer]
    }
}
