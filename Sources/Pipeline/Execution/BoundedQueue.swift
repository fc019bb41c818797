import Foundation

/// A blocking FIFO with a fixed capacity: producers wait when it is full (backpressure), consumers when
/// it is empty. `close()` lets consumers drain what is left and then see the end; `fail` wakes everyone.
/// Time spent waiting is recorded, so stats can say which stage was starved or blocked.
public final class BoundedQueue<Element>: @unchecked Sendable {
    private let condition = NSCondition()
    private var items: [Element] = []
    private var head = 0
    private var closed = false
    public let capacity: Int
    public let name: String
    private(set) var highWater = 0
    private var pushWaitNanos: UInt64 = 0
    private var popWaitNanos: UInt64 = 0

    public init(name: String, capacity: Int) {
        precondition(capacity > 0, "a queue needs room for at least one item")
        self.name = name
        self.capacity = capacity
    }

    /// Adds an item, waiting while the queue is full. Returns false if the queue was closed.
    @discardableResult
    public func push(_ item: Element) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        if items.count - head >= capacity && !closed {
            let start = DispatchTime.now().uptimeNanoseconds
            while items.count - head >= capacity && !closed { condition.wait() }
            pushWaitNanos += DispatchTime.now().uptimeNanoseconds - start
        }
        guard !closed else { return false }
        items.append(item)
        highWater = max(highWater, items.count - head)
        condition.broadcast()
        return true
    }

    /// The next item, waiting while the queue is empty; nil once it is closed and drained.
    public func pop() -> Element? {
        condition.lock()
        defer { condition.unlock() }
        if head == items.count && !closed {
            let start = DispatchTime.now().uptimeNanoseconds
            while head == items.count && !closed { condition.wait() }
            popWaitNanos += DispatchTime.now().uptimeNanoseconds - start
        }
        guard head < items.count else { return nil }
        let item = items[head]
        head += 1
        if head > 64 && head * 2 > items.count {
            items.removeFirst(head)
            head = 0
        }
        condition.broadcast()
        return item
    }

    /// No more pushes; consumers drain the rest.
    public func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    /// Drops everything and closes (after a failure).
    public func abort() {
        condition.lock()
        items.removeAll()
        head = 0
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    public var snapshot: QueueSnapshot {
        condition.lock()
        defer { condition.unlock() }
        return QueueSnapshot(name: name, capacity: capacity, highWater: highWater,
                        secondsProducersBlocked: Double(pushWaitNanos) / 1e9, secondsConsumersWaited: Double(popWaitNanos) / 1e9)
    }
}

public struct QueueSnapshot: Sendable, Codable {
    public var name: String
    public var capacity: Int
    public var highWater: Int
    public var secondsProducersBlocked: Double
    public var secondsConsumersWaited: Double
}
