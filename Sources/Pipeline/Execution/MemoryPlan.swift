import Foundation

/// How the memory budget (`--max-memory`) is spent: a quarter on input chunks in flight between the reader
/// and the workers, a quarter on the workers' decoding scratch (split between them), at most half on pooled
/// batches (model input + logits). Beyond it: the model (weights and activation arena) and the runtime.
struct MemoryPlan {
    let batches: Int
    let chunkRows: Int
    let chunkQueueCapacity: Int
    /// Bytes of input chunks in flight at once.
    let inputBytes: Int
    /// The largest single chunk the reader may produce: a third of `inputBytes`, because reading a row group
    /// of encoded images briefly holds its compressed and decompressed pages beside the chunk.
    let maxChunkBytes: Int

    /// Decoding scratch of all preprocessing workers together.
    var decodeBytes: Int { inputBytes }

    /// The smallest budget a run accepts.
    static let minimumBytes: Int64 = 64 << 20

    init(configuration c: RunConfiguration) {
        let budget = max(c.maxMemory, Self.minimumBytes)
        inputBytes = Int(clamping: budget / 4)
        maxChunkBytes = inputBytes / 3
        chunkRows = 32
        chunkQueueCapacity = 4
        batches = 2
    }

    init(configuration c: RunConfiguration, inputElements: Int, classCount: Int, inferring: Int, element: InputElement = .float32) {
        let input = MemoryPlan(configuration: c)
        let batchBytes = Batch.bytes(capacity: c.batchSize, inputElements: inputElements, classCount: classCount, element: element)
        let budget = max(c.maxMemory, Self.minimumBytes)
        // A batch filling, one per model copy inferring, one postprocessing, when they fit in half the budget.
        batches = Int(max(2, min(Int64(2 + inferring), (budget / 2) / max(batchBytes, 1))))
        chunkRows = input.chunkRows
        chunkQueueCapacity = input.chunkQueueCapacity
        inputBytes = input.inputBytes
        maxChunkBytes = input.maxChunkBytes
    }
}
