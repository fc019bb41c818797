import Foundation

/// Counters one stage keeps: items, wall time busy, CPU time of its threads, time blocked on input and
/// output. Updated by the stage's own threads; read at the end.
public final class StageStats: @unchecked Sendable {
    public let name: String
    private let lock = NSLock()
    private var items = 0
    private var busyNanos: UInt64 = 0
    private var cpuNanos: UInt64 = 0
    private var inputWaitNanos: UInt64 = 0
    private var outputWaitNanos: UInt64 = 0
    private var firstStart: UInt64?
    private var lastEnd: UInt64 = 0
    private var threads = 0

    public init(name: String) { self.name = name }

    /// Times `body` as busy work on `count` items.
    public func measure<T>(items count: Int, _ body: () throws -> T) rethrows -> T {
        let start = DispatchTime.now().uptimeNanoseconds
        let cpuStart = threadCPUNanos()
        defer {
            let end = DispatchTime.now().uptimeNanoseconds
            let cpu = threadCPUNanos() - cpuStart
            lock.lock()
            items += count
            busyNanos += end - start
            cpuNanos += cpu
            firstStart = min(firstStart ?? start, start)
            lastEnd = max(lastEnd, end)
            lock.unlock()
        }
        return try body()
    }

    public func waitedForInput<T>(_ body: () throws -> T) rethrows -> T {
        let start = DispatchTime.now().uptimeNanoseconds
        defer { add(\.inputWaitNanos, DispatchTime.now().uptimeNanoseconds - start) }
        return try body()
    }

    public func waitedForOutput<T>(_ body: () throws -> T) rethrows -> T {
        let start = DispatchTime.now().uptimeNanoseconds
        defer { add(\.outputWaitNanos, DispatchTime.now().uptimeNanoseconds - start) }
        return try body()
    }

    public func threadStarted() {
        lock.lock()
        threads += 1
        lock.unlock()
    }

    /// Adds to a counter under the lock. (A key path, not `inout`: an inout argument's access to the
    /// property would begin before the lock is taken, which ThreadSanitizer rightly reports as a race.)
    private func add(_ counter: ReferenceWritableKeyPath<StageStats, UInt64>, _ value: UInt64) {
        lock.withLock { self[keyPath: counter] += value }
    }

    public struct Snapshot: Sendable, Codable {
        public var stage: String
        public var threads: Int
        public var items: Int
        public var wallSeconds: Double
        public var busySeconds: Double
        public var cpuSeconds: Double
        public var itemsPerSecond: Double
        public var secondsBlockedOnInput: Double
        public var secondsBlockedOnOutput: Double
    }

    public var snapshot: Snapshot {
        lock.lock()
        defer { lock.unlock() }
        let wall = Double(lastEnd - (firstStart ?? lastEnd)) / 1e9
        return Snapshot(stage: name, threads: threads, items: items, wallSeconds: wall, busySeconds: Double(busyNanos) / 1e9,
                        cpuSeconds: Double(cpuNanos) / 1e9, itemsPerSecond: wall > 0 ? Double(items) / wall : 0,
                        secondsBlockedOnInput: Double(inputWaitNanos) / 1e9, secondsBlockedOnOutput: Double(outputWaitNanos) / 1e9)
    }
}

/// CPU time of the calling thread.
func threadCPUNanos() -> UInt64 {
    var time = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
    return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
}

/// CPU time of the whole process (all threads, including the model's).
func processCPUSeconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}

/// Peak resident set size of this process, from /proc/self/status (VmHWM).
func peakRSSBytes() -> Int64 {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        let kilobytes = line.split(separator: " ").compactMap { Int64($0) }.first ?? 0
        return kilobytes * 1024
    }
    return 0
}
