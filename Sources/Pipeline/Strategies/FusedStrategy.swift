import Foundation

/// Spark's fused configuration: one task per inference slot (model copy) reads a partition, preprocesses it
/// and infers it, in sequence, with no overlap between the steps; the tasks take partitions from a shared
/// list. On a CPU the model copies share every core (see `ModelLayout`).
struct FusedStrategy {
    let job: Job

    func run(_ plan: [PlannedUnit]) throws -> [StageStats] {
        let layout = job.modelLayout
        let first = try job.model(copy: 0)  // a bad model fails before any task starts
        job.tracker.setClassCount(first.classCount)
        let read = StageStats(name: "read"), preprocess = StageStats(name: "preprocess"), infer = StageStats(name: "infer")
        let partitions = BoundedQueue<PlannedUnit>(name: "partitions", capacity: max(plan.count, 1))
        plan.forEach { partitions.push($0) }
        partitions.close()
        let threads = StageThreads()
        for copy in 0..<layout.copies {
            nonisolated(unsafe) let prebuilt = copy == 0 ? first : nil
            threads.spawn("task-\(copy)") {
                [read, preprocess, infer].forEach { $0.threadStarted() }
                do {
                    let model = try prebuilt ?? job.model(copy: copy)
                    try runTask(model: model, partitions: partitions, read: read, preprocess: preprocess, infer: infer)
                } catch {
                    job.abort(PipelineError.inference("\(error)"))
                }
            }
        }
        threads.run()
        return [read, preprocess, infer]
    }

    /// One task: partitions one after another, each read, preprocessed and inferred in batches of its own.
    private func runTask(model: any ClassifierModel, partitions: BoundedQueue<PlannedUnit>,
                         read: StageStats, preprocess: StageStats, infer: StageStats) throws {
        let preprocessor = PreprocessOperator(job: job, stats: preprocess, workers: job.modelLayout.copies)
        let worker = preprocessor.makeWorker()
        let inferrer = InferOperator(model: model, stats: infer)
        // Postprocessing runs in the task too, as in one fused UDF.
        let postprocessor = PostprocessOperator(job: job, stats: StageStats(name: "postprocess"))
        let batch = try Batch.make(capacity: job.configuration.batchSize, for: model)

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

        while let planned = partitions.pop(), !job.failed {
            let complete = job.readUnit(planned, targetRows: batch.capacity, stats: read) { chunk in
                for i in 0..<chunk.rowCount where !job.failed {
                    guard var record = preprocessor.record(chunk, i) else { continue }
                    let slot = batch.assigned
                    batch.assigned += 1
                    preprocessor.fill(batch.slotInput(slot), from: chunk, i, record: &record, worker: worker)
                    batch.slots[slot] = record
                    if batch.assigned == batch.capacity && !flush() { return false }
                }
                return !job.failed
            }
            // A partition's batches never span partitions; the rows of a unit that failed midway are dropped.
            if complete { _ = flush() } else { batch.reset() }
        }
    }
}
