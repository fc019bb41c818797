/// A preallocated batch: model input for `capacity` images in the encoding the model reads (normalised float32
/// CHW, or uint8 HWC crops), their logits, and which record each slot holds.
final class Batch: @unchecked Sendable {
    struct Slot {
        var unit = 0
        var row = 0
        var id = ""
        /// False if preprocessing failed (the slot's input is garbage and its logits are ignored).
        var ok = false
    }

    let capacity: Int
    let inputElements: Int
    let classCount: Int
    let element: InputElement
    /// `capacity × inputElements` elements of `element`, from `allocator` when the model gave one (pinned memory).
    let inputBytes: UnsafeMutableRawBufferPointer
    private let allocator: (any HostMemoryAllocator)?
    let logits: UnsafeMutableBufferPointer<Float>
    var slots: [Slot]
    /// Slots this fill may hand out (the capacity, or fewer for the last batches of the input).
    var limit: Int
    /// Slots handed out / finished for the current fill.
    var assigned = 0
    var finished = 0
    var sealed = false

    /// A float32 batch in ordinary memory.
    convenience init(capacity: Int, inputElements: Int, classCount: Int) {
        let bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, capacity * inputElements * 4), alignment: 64)
        self.init(capacity: capacity, inputElements: inputElements, classCount: classCount, element: .float32, bytes: bytes, allocator: nil)
    }

    private init(capacity: Int, inputElements: Int, classCount: Int, element: InputElement, bytes: UnsafeMutableRawBufferPointer,
                 allocator: (any HostMemoryAllocator)?) {
        self.capacity = capacity
        self.inputElements = inputElements
        self.classCount = classCount
        self.element = element
        self.allocator = allocator
        inputBytes = bytes
        switch element {
        case .float32: inputBytes.initializeMemory(as: Float.self, repeating: 0)
        case .uint8: inputBytes.initializeMemory(as: UInt8.self, repeating: 0)
        }
        logits = .allocate(capacity: capacity * classCount)
        logits.initialize(repeating: 0)
        slots = Array(repeating: Slot(), count: capacity)
        limit = capacity
    }

    /// A batch for `model`: its input encoding, in the memory its allocator gives (pinned, for a GPU).
    static func make(capacity: Int, for model: any ClassifierModel) throws -> Batch {
        let element = model.inputElement
        let (perImage, overflow1) = model.inputElements.multipliedReportingOverflow(by: element.byteWidth)
        let (byteCount, overflow2) = perImage.multipliedReportingOverflow(by: capacity)
        guard !overflow1, !overflow2, byteCount > 0 else {
            throw PipelineError.configuration("a batch of \(capacity) inputs of \(model.inputShape) does not fit in memory")
        }
        let bytes: UnsafeMutableRawBufferPointer
        if let allocator = model.hostAllocator {
            bytes = UnsafeMutableRawBufferPointer(start: try allocator.allocate(byteCount: byteCount), count: byteCount)
        } else {
            bytes = .allocate(byteCount: byteCount, alignment: 64)
        }
        return Batch(capacity: capacity, inputElements: model.inputElements, classCount: model.classCount, element: element,
                     bytes: bytes, allocator: model.hostAllocator)
    }

    deinit {
        if let allocator, let base = inputBytes.baseAddress { allocator.deallocate(base) } else { inputBytes.deallocate() }
        logits.deallocate()
    }

    /// The whole input as float32 (float32 batches only; empty otherwise).
    var inputs: UnsafeMutableBufferPointer<Float> {
        guard element == .float32, let base = inputBytes.baseAddress else { return UnsafeMutableBufferPointer(start: nil, count: 0) }
        // Invariant: float32 batches hold capacity × inputElements floats, 64-byte aligned.
        return UnsafeMutableBufferPointer(start: base.assumingMemoryBound(to: Float.self), count: capacity * inputElements)
    }

    func input(_ slot: Int) -> UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(rebasing: inputs[(slot * inputElements)..<((slot + 1) * inputElements)])
    }

    /// Slot `slot` in the batch's encoding.
    func slotInput(_ slot: Int) -> SlotInput {
        switch element {
        case .float32:
            return .float(input(slot))
        case .uint8:
            let bytes = UnsafeMutableRawBufferPointer(rebasing: inputBytes[(slot * inputElements)..<((slot + 1) * inputElements)])
            return .pixels(bytes.assumingMemoryBound(to: UInt8.self))
        }
    }

    /// The first `count` images' input as bytes.
    func inputBytes(count: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: inputBytes[0..<(count * inputElements * element.byteWidth)])
    }

    func logits(_ slot: Int) -> UnsafeBufferPointer<Float> {
        UnsafeBufferPointer(rebasing: logits[(slot * classCount)..<((slot + 1) * classCount)])
    }

    var count: Int { assigned }

    func reset(limit: Int? = nil) {
        self.limit = min(capacity, max(1, limit ?? capacity))
        assigned = 0
        finished = 0
        sealed = false
    }

    static func bytes(capacity: Int, inputElements: Int, classCount: Int, element: InputElement = .float32) -> Int64 {
        Int64(capacity) * (Int64(inputElements) * Int64(element.byteWidth) + Int64(classCount) * 4)
    }
}

/// Hands out slots of pooled batches to preprocessing workers and sends each batch on once every slot
/// is filled (or the input ended). Workers block when every batch is in flight: that is the backpressure
/// that keeps memory bounded.
///
/// Once what is left of the input fits in one batch per model copy, batches shrink to `tailBatch` images:
/// the copies then finish together, instead of one idling while another works through a last full batch.
final class BatchAssembler: @unchecked Sendable {
    private let condition = NSCondition()
    private let free: BoundedQueue<Batch>
    private let ready: BoundedQueue<Batch>
    private var current: Batch?
    private let stats: StageStats
    /// Rows the input declares (only for sizing the last batches: a wrong count costs speed, not rows).
    private let expectedRows: Int
    private let copies: Int
    private let tailBatch: Int
    private var handedOut = 0

    init(pool: [Batch], ready: BoundedQueue<Batch>, stats: StageStats, expectedRows: Int = .max, copies: Int = 1, tailBatch: Int = .max) {
        free = BoundedQueue(name: "free batches", capacity: pool.count)
        for batch in pool { free.push(batch) }
        self.ready = ready
        self.stats = stats
        self.expectedRows = expectedRows
        self.copies = max(1, copies)
        self.tailBatch = max(1, tailBatch)
    }

    /// The size of the batch that starts now.
    private func nextLimit(capacity: Int) -> Int {
        let remaining = expectedRows - handedOut
        return remaining <= copies * capacity ? min(capacity, tailBatch) : capacity
    }

    /// A slot to fill, waiting for a free batch if needed; nil if the job was aborted.
    func acquire() -> (Batch, Int)? {
        condition.lock()
        defer { condition.unlock() }
        if current == nil {
            condition.unlock()
            let batch = stats.waitedForOutput { free.pop() }
            condition.lock()
            guard let batch else { return nil }
            if current == nil {
                batch.reset(limit: nextLimit(capacity: batch.capacity))
                current = batch
            } else {
                free.push(batch)  // another worker got one first
            }
        }
        guard let batch = current else { return nil }
        let slot = batch.assigned
        batch.assigned += 1
        handedOut += 1
        if batch.assigned == batch.limit {
            batch.sealed = true
            current = nil
        }
        return (batch, slot)
    }

    /// Marks a slot filled; sends the batch on when it is sealed and every slot is filled.
    func finish(_ batch: Batch, slot: Int, _ record: Batch.Slot) {
        condition.lock()
        batch.slots[slot] = record
        batch.finished += 1
        let send = batch.sealed && batch.finished == batch.assigned
        condition.unlock()
        if send { ready.push(batch) }
    }

    /// Seals the partly filled batch at the end of the input.
    func flush() {
        condition.lock()
        guard let batch = current else {
            condition.unlock()
            return
        }
        current = nil
        batch.sealed = true
        let send = batch.finished == batch.assigned && batch.assigned > 0
        let empty = batch.assigned == 0
        condition.unlock()
        if send { ready.push(batch) } else if empty { free.push(batch) }
    }

    /// Gives a consumed batch back to the pool.
    func recycle(_ batch: Batch) {
        free.push(batch)
    }

    func abort() {
        free.abort()
    }
}

import Foundation
import Inference
