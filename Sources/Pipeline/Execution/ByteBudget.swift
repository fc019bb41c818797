import Foundation

/// A counting semaphore over bytes: the input chunks in flight between the reader and the preprocessing
/// workers hold at most `limit` bytes. A chunk larger than what is free waits until enough is released; a
/// chunk alone may use the whole limit (callers refuse larger ones before reading them).
final class ByteBudget: @unchecked Sendable {
    private let condition = NSCondition()
    let limit: Int
    private var inUse = 0
    private var aborted = false
    private(set) var highWater = 0

    init(limit: Int) {
        self.limit = max(1, limit)
    }

    /// Takes `bytes` of the budget, waiting while they do not fit; false after `abort()`.
    func acquire(_ bytes: Int) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while inUse > 0 && inUse + bytes > limit && !aborted { condition.wait() }
        guard !aborted else { return false }
        inUse += bytes
        highWater = max(highWater, inUse)
        return true
    }

    func release(_ bytes: Int) {
        condition.lock()
        inUse -= bytes
        condition.broadcast()
        condition.unlock()
    }

    func abort() {
        condition.lock()
        aborted = true
        condition.broadcast()
        condition.unlock()
    }
}
