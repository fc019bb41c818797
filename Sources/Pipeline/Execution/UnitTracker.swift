import Foundation

/// Follows every input unit from open to commit: rows predicted, rows failed, and the moment a unit is
/// complete and can be written. Shared by all stages.
final class UnitTracker: @unchecked Sendable {
    private let lock = NSLock()
    private var open: [Int: UnitPredictions] = [:]
    private let k: Int
    private let keepLogits: Bool
    private var classCount = 0
    private(set) var rowsDone = 0
    private(set) var rowsFailed = 0
    private(set) var rowsTotal = 0

    init(k: Int, keepLogits: Bool) {
        self.k = k
        self.keepLogits = keepLogits
    }

    func setClassCount(_ count: Int) {
        lock.lock()
        classCount = count
        lock.unlock()
    }

    func addExpected(_ rows: Int) {
        lock.lock()
        rowsTotal += rows
        lock.unlock()
    }

    /// Starts a unit; returns it at once if it has no rows (it is complete already).
    func start(_ unit: InputUnit, index: Int, rows: Int) -> UnitPredictions? {
        let predictions = UnitPredictions(unit: unit, rowCount: rows, k: k, classCount: classCount, keepLogits: keepLogits)
        lock.lock()
        defer { lock.unlock() }
        if rows == 0 { return predictions }
        open[index] = predictions
        return nil
    }

    /// Records a prediction; returns the unit if this completed it.
    func record(unit: Int, row: Int, id: String, logits: UnsafeBufferPointer<Float>) -> UnitPredictions? {
        lock.lock()
        defer { lock.unlock() }
        guard let predictions = open[unit] else { return nil }
        predictions.record(row: row, id: id, logits: logits)
        rowsDone += 1
        return take(unit, predictions)
    }

    /// Records a failed row; returns the unit if this completed it.
    func fail(unit: Int, row: Int, id: String, reason: String) -> UnitPredictions? {
        lock.lock()
        defer { lock.unlock() }
        guard let predictions = open[unit] else { return nil }
        predictions.fail(row: row, id: id, reason: reason)
        rowsDone += 1
        rowsFailed += 1
        return take(unit, predictions)
    }

    private func take(_ unit: Int, _ predictions: UnitPredictions) -> UnitPredictions? {
        guard predictions.isComplete else { return nil }
        open[unit] = nil
        return predictions
    }

    var progress: (done: Int, failed: Int, total: Int) {
        lock.lock()
        defer { lock.unlock() }
        return (rowsDone, rowsFailed, rowsTotal)
    }
}
