import Foundation

/// Spark's fused configuration: one task per inference slot reads its partition, preprocesses it and
/// infers it, in sequence, with no overlap between the steps. On a CPU there is one slot and the model
/// gets every core.
struct FusedStrategy {
    let job: Job

    func run(_ plan: [PlannedUnit]) throws -> [StageStats] {
        let c = job.configuration
        let model = try job.modelFactory.makeModel(batchSize: c.batchSize, threads: job.threadBudget.model)
        job.tracker.setClassCount(model.classCount)
        let read = StageStats(name: "read"), preprocess = StageStats(name: "preprocess"), infer = StageStats(name: "infer")
        [read, preprocess, infer].forEach { $0.threadStarted() }
        let preprocessor = PreprocessOperator(job: job, stats: preprocess)
        let worker = preprocessor.makeWorker()
        let inferrer = InferOperator(model: model, stats: infer)
        // Postprocessing runs on this thread too; its time is part of `infer`'s wall time, as in one fused UDF.
        let postprocessor = PostprocessOperator(job: job, stats: StageStats(name: "postprocess"))
        let batch = Batch(capacity: c.batchSize, inputElements: model.inputElements, classCount: model.classCount)

        /// Infers and records the batch; false (the job aborted) if the model failed.
        func flush() -> Bool {
            defer { batch.reset() }
            guard batch.count > 0 else { return true }
            do {
                try inferrer.infer(batch)
            } catch {
                job.abort(error)
                return false
            }
            postprocessor.record(batch)
            return true
        }

        for planned in plan where !job.failed {
            let complete = job.readUnit(planned, targetRows: c.batchSize, stats: read) { chunk in
                for i in 0..<chunk.rowCount where !job.failed {
                    guard var record = preprocessor.record(chunk, i) else { continue }
                    let slot = batch.assigned
                    batch.assigned += 1
                    preprocessor.fill(batch.input(slot), from: chunk, i, record: &record, worker: worker)
                    batch.slots[slot] = record
                    if batch.assigned == batch.capacity && !flush() { return false }
                }
                return !job.failed
            }
            // A partition's batches never span partitions; the rows of a unit that failed midway are dropped.
            if complete { _ = flush() } else { batch.reset() }
        }
        return [read, preprocess, infer]
    }
}
