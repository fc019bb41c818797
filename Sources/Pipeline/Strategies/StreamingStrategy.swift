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
        let replicas = job.modelReplicas
        // The first copy, compiled here so that a bad model fails before any thread starts; used by the first
        // inference thread only. The others are compiled on their own threads, at the same time.
        nonisolated(unsafe) let model = try job.modelFactory.makeModel(batchSize: c.batchSize, threads: replicas.threadsEach)
        job.tracker.setClassCount(model.classCount)
        guard model.inputElements == job.preprocessor.outputShape.reduce(1, *) else {
            throw PipelineError.configuration("the model takes \(model.inputShape), preprocessing makes \(job.preprocessor.outputShape)")
        }
        let memory = MemoryPlan(configuration: c, inputElements: model.inputElements, classCount: model.classCount,
                                inferring: replicas.count)

        let read = StageStats(name: "read"), preprocess = StageStats(name: "preprocess")
        let infer = StageStats(name: "infer"), write = StageStats(name: "postprocess")
        let chunks = BoundedQueue<RecordChunk>(name: "read → preprocess", capacity: memory.chunkQueueCapacity)
        let ready = BoundedQueue<Batch>(name: "preprocess → infer", capacity: memory.batches)
        let done = BoundedQueue<Batch>(name: "infer → postprocess", capacity: memory.batches)
        let pool = (0..<memory.batches).map { _ in Batch(capacity: c.batchSize, inputElements: model.inputElements, classCount: model.classCount) }
        let assembler = BatchAssembler(pool: pool, ready: ready, stats: preprocess)
        let abortAll: @Sendable () -> Void = {
            chunks.abort()
            ready.abort()
            done.abort()
            assembler.abort()
        }

        var threads: [Thread] = []
        let finished = DispatchGroup()
        func spawn(_ name: String, _ body: @escaping @Sendable () -> Void) {
            finished.enter()
            let thread = Thread {
                body()
                finished.leave()
            }
            thread.name = name
            thread.stackSize = 8 << 20
            threads.append(thread)
        }

        spawn("read") {
            read.threadStarted()
            for planned in plan where !job.failed {
                do {
                    let source = try job.openSource(planned.unit, index: planned.index)
                    if source.rowCount == 0, let empty = job.tracker.start(planned.unit, index: planned.index, rows: 0) {
                        job.commit(empty)
                        continue
                    }
                    _ = job.tracker.start(planned.unit, index: planned.index, rows: source.rowCount)
                    while let chunk = try read.measure(items: 0, { try source.next(targetRows: memory.chunkRows) }) {
                        read.measure(items: chunk.rowCount) {}
                        guard read.waitedForOutput({ chunks.push(chunk) }) else { return }
                    }
                } catch {
                    // Rows of a unit that failed midway never complete: the unit is reported, not written.
                    do { try job.unitFailed(planned.unit, error) } catch { job.abort(error) }
                }
            }
            chunks.close()
        }

        let workersDone = DispatchGroup()
        for w in 0..<workers {
            workersDone.enter()
            spawn("preprocess-\(w)") {
                defer { workersDone.leave() }
                preprocess.threadStarted()
                let worker = job.preprocessor.makeWorker()
                while let chunk = preprocess.waitedForInput({ chunks.pop() }) {
                    preprocessChunk(chunk, worker: worker, assembler: assembler, stats: preprocess, plan: plan)
                    if job.failed { abortAll() }
                }
            }
        }
        spawn("close-batches") {
            workersDone.wait()
            assembler.flush()
            ready.close()
        }

        let inferenceDone = DispatchGroup()
        for r in 0..<replicas.count {
            inferenceDone.enter()
            spawn("infer-\(r)") {
                defer { inferenceDone.leave() }
                infer.threadStarted()
                do {
                    let copy = r == 0 ? model : try job.modelFactory.makeModel(batchSize: c.batchSize, threads: replicas.threadsEach)
                    while let batch = infer.waitedForInput({ ready.pop() }) {
                        try infer.measure(items: batch.count) {
                            try copy.classify(UnsafeBufferPointer(batch.inputs), count: batch.count, logits: batch.logits)
                        }
                        guard infer.waitedForOutput({ done.push(batch) }) else { return }
                    }
                } catch {
                    job.abort(PipelineError.inference("\(error)"))
                    abortAll()
                }
            }
        }
        spawn("close-inferred") {
            inferenceDone.wait()
            done.close()
        }

        spawn("postprocess") {
            write.threadStarted()
            while let batch = write.waitedForInput({ done.pop() }) {
                write.measure(items: batch.count) {
                    for slot in 0..<batch.count where batch.slots[slot].ok {
                        let record = batch.slots[slot]
                        job.recordPrediction(unit: record.unit, row: record.row, id: record.id, logits: batch.logits(slot))
                    }
                }
                assembler.recycle(batch)
                if job.failed { abortAll() }
            }
        }

        threads.forEach { $0.start() }
        finished.wait()
        return ([read, preprocess, infer, write], [chunks.snapshot, ready.snapshot, done.snapshot])
    }

    private func preprocessChunk(_ chunk: RecordChunk, worker: any PreprocessWorker, assembler: BatchAssembler,
                                 stats: StageStats, plan: [PlannedUnit]) {
        let name = plan.first { $0.index == chunk.unit }?.unit.displayName ?? "?"
        for i in 0..<chunk.rowCount {
            let row = chunk.firstRow + i
            guard chunk.valid[i] else {
                job.recordFailed(unit: chunk.unit, row: row, id: chunk.ids[i], reason: chunk.problems[i] ?? "unusable record", displayName: name)
                continue
            }
            guard let (batch, slot) = assembler.acquire() else { return }
            var record = Batch.Slot(unit: chunk.unit, row: row, id: chunk.ids[i], ok: true)
            stats.measure(items: 1) {
                do {
                    try chunk.withPayload(i) { try worker.preprocess($0, into: batch.input(slot)) }
                } catch {
                    record.ok = false
                    job.recordFailed(unit: chunk.unit, row: row, id: chunk.ids[i], reason: "\(error)", displayName: name)
                }
            }
            assembler.finish(batch, slot: slot, record)
        }
    }
}

/// How the memory budget is spent: pooled batches (input + logits) and the queue of raw chunks.
struct MemoryPlan {
    let batches: Int
    let chunkRows: Int
    let chunkQueueCapacity: Int

    init(configuration c: RunConfiguration, inputElements: Int, classCount: Int, inferring: Int) {
        let batchBytes = Batch.bytes(capacity: c.batchSize, inputElements: inputElements, classCount: classCount)
        let budget = max(c.maxMemory, 64 << 20)
        // A batch filling, one per model copy inferring, one postprocessing, when they fit in half the budget.
        batches = Int(max(2, min(Int64(2 + inferring), (budget / 2) / max(batchBytes, 1))))
        chunkRows = 32
        // Raw chunks are at most 32 rows of the largest images we expect (256×256×3 bytes; JPEGs are smaller).
        let chunkBytes = Int64(chunkRows) * 256 * 256 * 3
        chunkQueueCapacity = Int(max(2, min(16, (budget / 4) / chunkBytes)))
    }
}
