import Foundation

typealias PlannedUnit = (index: Int, unit: InputUnit, rows: Int)

/// All stages at once (Ray Data's model): a reader thread, preprocessing workers filling pooled batch
/// buffers in place, one inference thread per model copy, one postprocess/write thread, bounded queues
/// between them. Rows reach their unit by row number, so copies may finish batches in any order.
struct StreamingStrategy {
    let job: Job

    func run(_ plan: [PlannedUnit]) throws -> ([StageStats], [QueueSnapshot]) {
        let c = job.configuration
        let workers = job.threadBudget.workers
        let layout = job.modelLayout
        // The first copy, built here so that a bad model fails before any thread starts; used by the first
        // inference thread only. The others are built on their own threads, at the same time.
        nonisolated(unsafe) let model = try job.model(copy: 0)
        job.tracker.setClassCount(model.classCount)
        guard model.inputElements == job.preprocessor.outputShape.reduce(1, *) else {
            throw PipelineError.configuration("the model takes \(model.inputShape), preprocessing makes \(job.preprocessor.outputShape)")
        }
        let memory = MemoryPlan(configuration: c, inputElements: model.inputElements, classCount: model.classCount,
                                inferring: layout.copies, element: model.inputElement)

        let read = StageStats(name: "read"), preprocess = StageStats(name: "preprocess")
        let infer = StageStats(name: "infer"), write = StageStats(name: "postprocess")
        let chunks = BoundedQueue<RecordChunk>(name: "read → preprocess", capacity: memory.chunkQueueCapacity)
        let inFlight = ByteBudget(limit: memory.inputBytes)
        let ready = BoundedQueue<Batch>(name: "preprocess → infer", capacity: memory.batches)
        let done = BoundedQueue<Batch>(name: "infer → postprocess", capacity: memory.batches)
        // In the memory the model asks for (pinned for a GPU, so its copy engines read the batches directly).
        let pool = try (0..<memory.batches).map { _ in try Batch.make(capacity: c.batchSize, for: model) }
        // With several copies on a CPU, the last batches are micro-batches (the size the layout was measured at),
        // so that the copies finish together. A GPU keeps whole batches (small ones waste it).
        let tailBatch = layout.copies > 1 && !job.modelFactory.placement.isGPU ? layout.microBatch(atMost: c.batchSize) : c.batchSize
        let assembler = BatchAssembler(pool: pool, ready: ready, stats: preprocess, expectedRows: plan.reduce(0) { $0 + $1.rows },
                                       copies: layout.copies, tailBatch: tailBatch)
        let abortAll: @Sendable () -> Void = {
            chunks.abort()
            inFlight.abort()
            ready.abort()
            done.abort()
            assembler.abort()
        }
        let threads = StageThreads()

        threads.spawn("read") {
            read.threadStarted()
            for planned in plan where !job.failed {
                job.readUnit(planned, targetRows: memory.chunkRows, stats: read) { chunk in
                    // The chunk's bytes count against the input budget until a worker has preprocessed it.
                    read.waitedForOutput({ inFlight.acquire(chunk.payloadBytes) && chunks.push(chunk) })
                }
            }
            chunks.close()
        }

        let workersDone = DispatchGroup()
        let preprocessor = PreprocessOperator(job: job, stats: preprocess, workers: workers)
        for w in 0..<workers {
            threads.spawn("preprocess-\(w)", group: workersDone) {
                preprocess.threadStarted()
                let worker = preprocessor.makeWorker()
                while let chunk = preprocess.waitedForInput({ chunks.pop() }) {
                    for i in 0..<chunk.rowCount {
                        guard var record = preprocessor.record(chunk, i) else { continue }
                        guard let (batch, slot) = assembler.acquire() else { break }
                        preprocessor.fill(batch.slotInput(slot), from: chunk, i, record: &record, worker: worker)
                        assembler.finish(batch, slot: slot, record)
                    }
                    inFlight.release(chunk.payloadBytes)
                    if job.failed { abortAll() }
                }
            }
        }
        threads.spawn("close-batches") {
            workersDone.wait()
            assembler.flush()
            ready.close()
        }

        let inferenceDone = DispatchGroup()
        for r in 0..<layout.copies {
            threads.spawn("infer-\(r)", group: inferenceDone) {
                infer.threadStarted()
                do {
                    let copy = r == 0 ? model : try job.model(copy: r)
                    let inferrer = InferOperator(model: copy, stats: infer)
                    while let batch = infer.waitedForInput({ ready.pop() }) {
                        try inferrer.infer(batch)
                        guard infer.waitedForOutput({ done.push(batch) }) else { return }
                    }
                } catch {
                    job.abort(error as? PipelineError ?? PipelineError.inference("\(error)"))
                    abortAll()
                }
            }
        }
        threads.spawn("close-inferred") {
            inferenceDone.wait()
            done.close()
        }

        let postprocessor = PostprocessOperator(job: job, stats: write)
        threads.spawn("postprocess") {
            write.threadStarted()
            while let batch = write.waitedForInput({ done.pop() }) {
                postprocessor.record(batch)
                assembler.recycle(batch)
                if job.failed { abortAll() }
            }
        }

        threads.run()
        return ([read, preprocess, infer, write], [chunks.snapshot, ready.snapshot, done.snapshot])
    }
}
