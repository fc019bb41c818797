import Foundation

/// The preprocess operator: records → filled batch slots. Global state: the job, to which failed records
/// are reported; local state: one `PreprocessWorker` per thread (decoders and scratch memory).
struct PreprocessOperator {
    let job: Job
    let stats: StageStats
    /// Threads preprocessing at once: they share the decoding part of the memory plan.
    let workers: Int

    func makeWorker() -> any PreprocessWorker {
        job.preprocessor.makeWorker(memoryShare: MemoryPlan(configuration: job.configuration).decodeBytes / max(1, workers))
    }

    /// Row `i` of `chunk` as a slot record, or nil when it has no usable payload (reported as an error row).
    func record(_ chunk: RecordChunk, _ i: Int) -> Batch.Slot? {
        let row = chunk.firstRow + i
        guard chunk.valid[i] else {
            job.recordFailed(unit: chunk.unit, row: row, id: chunk.ids[i], reason: chunk.problems[i] ?? "unusable record",
                             displayName: chunk.displayName)
            return nil
        }
        return Batch.Slot(unit: chunk.unit, row: row, id: chunk.ids[i], ok: true)
    }

    /// Writes the model input of row `i` into `input`; a failure is reported as the row's error and clears
    /// `record.ok` (the slot then holds garbage that nobody reads).
    func fill(_ input: UnsafeMutableBufferPointer<Float>, from chunk: RecordChunk, _ i: Int, record: inout Batch.Slot,
              worker: any PreprocessWorker) {
        fill(.float(input), from: chunk, i, record: &record, worker: worker)
    }

    /// The same, for a slot of either encoding (float32 CHW, or uint8 HWC pixels for a GPU model).
    func fill(_ input: SlotInput, from chunk: RecordChunk, _ i: Int, record: inout Batch.Slot, worker: any PreprocessWorker) {
        stats.measure(items: 1) {
            do {
                try chunk.withPayload(i) { payload in
                    switch (payload, input) {
                    case let (.preprocessed(values, shape), .float(slot)):
                        try RecordPayload.copy(values, shape: shape, into: slot)  // no worker: nothing to decode
                    case (.preprocessed, .pixels):
                        throw RecordPayload.preprocessedIntoPixels
                    default:
                        try worker.preprocess(payload, into: input)
                    }
                }
            } catch {
                record.ok = false
                job.recordFailed(unit: chunk.unit, row: record.row, id: record.id, reason: "\(error)", displayName: chunk.displayName)
            }
        }
    }
}
