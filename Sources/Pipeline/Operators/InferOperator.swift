import Foundation

/// The infer operator: a filled batch → its logits. Its local state is one model copy (compiled for one
/// thread budget), used by one thread at a time.
struct InferOperator {
    let model: any ClassifierModel
    let stats: StageStats

    /// Classifies the batch's images; a model failure is fatal for the job.
    func infer(_ batch: Batch) throws {
        do {
            try stats.measure(items: batch.count) {
                switch batch.element {
                case .float32:
                    try model.classify(UnsafeBufferPointer(rebasing: batch.inputs[0..<(batch.count * batch.inputElements)]),
                                       count: batch.count, logits: batch.logits)
                case .uint8:
                    try model.classify(pixels: batch.inputBytes(count: batch.count), count: batch.count, logits: batch.logits)
                }
            }
        } catch {
            throw PipelineError.inference("\(error)")
        }
    }
}

/// The postprocess/write operator: logits → predictions of their units (softmax, top-k), each unit written
/// as a part once complete (through `Job.commit` and `PartWriter`).
struct PostprocessOperator {
    let job: Job
    let stats: StageStats

    func record(_ batch: Batch) {
        stats.measure(items: batch.count) {
            for slot in 0..<batch.count where batch.slots[slot].ok {
                let record = batch.slots[slot]
                job.recordPrediction(unit: record.unit, row: record.row, id: record.id, logits: batch.logits(slot))
            }
        }
    }
}
