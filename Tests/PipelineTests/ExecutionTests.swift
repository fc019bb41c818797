import Foundation
import Parquet
@testable import Pipeline
import SluiceTestSupport
import Testing

/// The executor's parts on their own: the queues and budgets that bound memory, the batch assembler, the
/// memory plan and the operators. (PipelineTests runs them together through every strategy.)
@Suite("Executor building blocks")
struct ExecutionTests {
    /// Runs `body` on another thread; `done` is signalled when it returns.
    static func background(_ body: @escaping @Sendable () -> Void) -> DispatchSemaphore {
        let done = DispatchSemaphore(value: 0)
        Thread {
            body()
            done.signal()
        }.start()
        return done
    }

    @Test("BoundedQueue: FIFO, a full queue blocks its producer until a pop, close drains, abort drops")
    func boundedQueue() {
        let queue = BoundedQueue<Int>(name: "q", capacity: 2)
        #expect(queue.push(1) && queue.push(2))
        let pushed = Self.background { queue.push(3) }
        // The producer is blocked on the full queue: it cannot finish until an item is popped.
        #expect(pushed.wait(timeout: .now() + 0.2) == .timedOut)
        #expect(queue.pop() == 1)
        #expect(pushed.wait(timeout: .now() + 10) == .success)
        queue.close()
        #expect(!queue.push(4), "a closed queue refuses pushes")
        #expect(queue.pop() == 2 && queue.pop() == 3 && queue.pop() == nil)
        let snapshot = queue.snapshot
        #expect(snapshot.highWater == 2 && snapshot.secondsProducersBlocked > 0)

        let aborted = BoundedQueue<Int>(name: "a", capacity: 1)
        aborted.push(1)
        let blocked = Self.background { aborted.push(2) }
        aborted.abort()
        #expect(blocked.wait(timeout: .now() + 10) == .success, "abort wakes a blocked producer")
        #expect(aborted.pop() == nil, "abort drops what was queued")
    }

    @Test("BoundedQueue: many producers and consumers pass every item exactly once")
    func boundedQueueConcurrency() {
        let queue = BoundedQueue<Int>(name: "q", capacity: 3)
        let received = NSLock()
        nonisolated(unsafe) var items: [Int] = []
        let consumers = (0..<3).map { _ in
            Self.background {
                while let item = queue.pop() { received.withLock { items.append(item) } }
            }
        }
        let producers = (0..<4).map { p in Self.background { for i in 0..<250 { queue.push(p * 1000 + i) } } }
        for producer in producers { producer.wait() }
        queue.close()
        for consumer in consumers { consumer.wait() }
        #expect(items.sorted() == (0..<4).flatMap { p in (0..<250).map { p * 1000 + $0 } })
    }

    @Test("ByteBudget: what fits is granted, a chunk alone may use it all, the rest waits for a release")
    func byteBudget() {
        let budget = ByteBudget(limit: 100)
        #expect(budget.acquire(60))
        let waiting = Self.background { _ = budget.acquire(50) }
        #expect(waiting.wait(timeout: .now() + 0.2) == .timedOut, "60 + 50 > 100: waits")
        budget.release(60)
        #expect(waiting.wait(timeout: .now() + 10) == .success)
        budget.release(50)
        #expect(budget.acquire(500), "a chunk larger than the budget passes when it is alone")
        budget.release(500)
        #expect(budget.highWater == 500)

        #expect(budget.acquire(90))
        let refused = NSLock()
        nonisolated(unsafe) var granted = true
        let aborted = Self.background { let ok = budget.acquire(20); refused.withLock { granted = ok } }
        budget.abort()
        aborted.wait()
        #expect(refused.withLock { !granted }, "abort wakes the waiter with a refusal")
    }

    static func assembler(pool: Int, capacity: Int) -> (BatchAssembler, BoundedQueue<Batch>) {
        let ready = BoundedQueue<Batch>(name: "ready", capacity: pool)
        let batches = (0..<pool).map { _ in Batch(capacity: capacity, inputElements: 2, classCount: 1) }
        return (BatchAssembler(pool: batches, ready: ready, stats: StageStats(name: "test")), ready)
    }

    @Test("BatchAssembler: a batch is sent once full and every slot is finished, in any order")
    func assemblerSealsAndSends() throws {
        let (assembler, ready) = Self.assembler(pool: 2, capacity: 3)
        let slots = try (0..<3).map { _ in try #require(assembler.acquire()) }
        #expect(slots.map(\.1) == [0, 1, 2])
        #expect(slots.allSatisfy { $0.0 === slots[0].0 }, "one batch fills before the next is taken")
        let batch = slots[0].0
        for slot in [2, 0] { assembler.finish(batch, slot: slot, Batch.Slot(unit: 0, row: slot, id: "r\(slot)", ok: true)) }
        ready.close()
        // Slot 1 is not finished yet: nothing is sent, so the closed queue is empty.
        #expect(ready.pop() == nil)

        let (second, secondReady) = Self.assembler(pool: 1, capacity: 3)
        let taken = try (0..<3).map { _ in try #require(second.acquire()) }
        for (batch, slot) in taken.reversed() { second.finish(batch, slot: slot, Batch.Slot(unit: 1, row: slot, id: "", ok: slot != 1)) }
        let sent = try #require(secondReady.pop())
        #expect(sent.count == 3 && sent.slots.map(\.row) == [0, 1, 2] && sent.slots.map(\.ok) == [true, false, true])
    }

    @Test("BatchAssembler: flush sends a partial batch, returns an empty one, and the pool bounds batches in flight")
    func assemblerFlushAndBackpressure() throws {
        let (assembler, ready) = Self.assembler(pool: 1, capacity: 4)
        let (batch, slot) = try #require(assembler.acquire())
        assembler.finish(batch, slot: slot, Batch.Slot(unit: 0, row: 0, id: "a", ok: true))
        assembler.flush()
        let partial = try #require(ready.pop())
        #expect(partial.count == 1)

        // The only batch is in flight: a worker waits for it to be recycled.
        let waiting = Self.background { _ = assembler.acquire() }
        #expect(waiting.wait(timeout: .now() + 0.2) == .timedOut)
        assembler.recycle(partial)
        #expect(waiting.wait(timeout: .now() + 10) == .success)

        // An empty flush sends nothing and keeps the batch for the next acquire.
        let (empty, emptyReady) = Self.assembler(pool: 1, capacity: 2)
        empty.flush()
        emptyReady.close()
        #expect(emptyReady.pop() == nil)
        let (_, first) = try #require(empty.acquire())
        #expect(first == 0)

        let (aborted, _) = Self.assembler(pool: 1, capacity: 1)
        _ = aborted.acquire()  // seals the only batch
        aborted.abort()
        #expect(aborted.acquire() == nil, "after abort no slot is handed out")
    }

    @Test("MemoryPlan: a quarter of --max-memory for input, chunks a third of that, batches within half",
          arguments: [Int64(64 << 20), 1 << 30, 8 << 30])
    func memoryPlan(_ maxMemory: Int64) {
        var configuration = RunConfiguration(inputs: ["in"], output: "out")
        configuration.maxMemory = maxMemory
        configuration.batchSize = 64
        let elements = 3 * 224 * 224, classes = 1000
        let plan = MemoryPlan(configuration: configuration, inputElements: elements, classCount: classes, inferring: 2)
        #expect(plan.inputBytes == Int(maxMemory / 4))
        #expect(plan.maxChunkBytes == plan.inputBytes / 3)
        #expect(plan.decodeBytes == plan.inputBytes)
        let batchBytes = Batch.bytes(capacity: 64, inputElements: elements, classCount: classes)
        #expect(plan.batches >= 2 && plan.batches <= 4, "one filling, one per copy inferring, one writing")
        if maxMemory >= 1 << 30 { #expect(Int64(plan.batches) * batchBytes <= maxMemory / 2) }

        configuration.maxMemory = 1 << 20
        #expect(MemoryPlan(configuration: configuration).inputBytes == Int(MemoryPlan.minimumBytes / 4), "below the minimum, the minimum")
    }

    static func job(_ directory: String) -> Job {
        var configuration = RunConfiguration(inputs: [(directory as NSString).appendingPathComponent("in")],
                                             output: (directory as NSString).appendingPathComponent("out"))
        configuration.topK = 1
        configuration.progress = false
        return Job(configuration: configuration, preprocessor: CropPreprocessor(), model: HashModelFactory())
    }

    static func chunk(rows: [[UInt8]?]) -> RecordChunk {
        var values = BinaryValues()
        for row in rows { (row ?? []).withUnsafeBytes { values.append($0) } }
        return RecordChunk(unit: 0, displayName: "unit-0", firstRow: 10, rowCount: rows.count, ids: rows.indices.map { "id\($0)" },
                           valid: rows.map { $0 != nil }, problems: [1: "null image"], payloads: .encoded(values))
    }

    @Test("PreprocessOperator: invalid and undecodable rows become error rows; good rows fill their slot")
    func preprocessOperator() throws {
        let job = Self.job(try TestData.temporaryDirectory("preprocess-operator"))
        job.tracker.setClassCount(10)
        job.tracker.start(InputUnit(kind: .images(paths: []), partName: "p", displayName: "unit-0"), index: 0, declaredRows: 3)
        let stage = StageStats(name: "preprocess")
        let op = PreprocessOperator(job: job, stats: stage, workers: 1)
        let worker = op.makeWorker()
        let good = (0..<48).map { UInt8($0 * 5) }
        let chunk = Self.chunk(rows: [good, nil, [0xFF] + good.dropFirst()])

        var input = [Float](repeating: -1, count: 48)
        var first = try #require(op.record(chunk, 0))
        #expect(first.row == 10 && first.id == "id0" && first.ok)
        input.withUnsafeMutableBufferPointer { op.fill($0, from: chunk, 0, record: &first, worker: worker) }
        #expect(first.ok && input == good.map { Float($0) / 255 })

        #expect(op.record(chunk, 1) == nil, "an invalid row has no slot")
        var third = try #require(op.record(chunk, 2))
        input.withUnsafeMutableBufferPointer { op.fill($0, from: chunk, 2, record: &third, worker: worker) }
        #expect(!third.ok, "a failed decode clears the slot's flag")
        let progress = job.tracker.progress
        #expect(progress.failed == 2 && progress.done == 2)
        #expect(stage.snapshot.items == 2, "the stage counts the rows it preprocessed")
    }

    @Test("InferOperator: the model's logits land in the batch; a model failure is an inference error")
    func inferOperator() throws {
        let batch = Batch(capacity: 2, inputElements: 48, classCount: 10)
        batch.assigned = 2
        for i in 0..<96 { batch.inputs[i] = Float(i % 13) / 13 }
        let stats = StageStats(name: "infer")
        try InferOperator(model: HashModel(), stats: stats).infer(batch)
        var expected = [Float](repeating: 0, count: 20)
        try expected.withUnsafeMutableBufferPointer {
            try HashModel().classify(UnsafeBufferPointer(rebasing: batch.inputs[0..<96]), count: 2, logits: $0)
        }
        #expect(Array(batch.logits[0..<20]) == expected)
        #expect(stats.snapshot.items == 2)

        let error = #expect(throws: PipelineError.self) { try InferOperator(model: HashModel(batchesBeforeFailure: 0), stats: stats).infer(batch) }
        guard case .inference = error else { Issue.record("expected an inference error, got \(String(describing: error))"); return }
    }
}

extension ExecutionTests {
    @Test("BatchAssembler: once what is left fits in a batch per copy, batches shrink to the tail size")
    func assemblerTailBatches() throws {
        let ready = BoundedQueue<Batch>(name: "ready", capacity: 8)
        let pool = (0..<8).map { _ in Batch(capacity: 8, inputElements: 1, classCount: 1) }
        let assembler = BatchAssembler(pool: pool, ready: ready, stats: StageStats(name: "test"), expectedRows: 30, copies: 2, tailBatch: 2)
        var sizes: [Int] = []
        for _ in 0..<30 {
            let (batch, slot) = try #require(assembler.acquire())
            assembler.finish(batch, slot: slot, Batch.Slot(unit: 0, row: 0, id: "", ok: true))
            if batch.assigned == batch.limit, let sent = ready.pop() {
                sizes.append(sent.count)
                assembler.recycle(sent)
            }
        }
        // 30 rows, batches of 8, 2 copies: full batches while more than 16 rows are left, then batches of 2.
        #expect(sizes == [8, 8, 2, 2, 2, 2, 2, 2, 2], "\(sizes)")
    }
}
