import Foundation

/// Follows every input unit from open to commit: rows predicted, rows failed, and the moment a unit is
/// complete and can be written. Shared by all stages.
///
/// A unit is complete only when its reader has *sealed* it with the number of rows it actually decoded and
/// every one of those rows is resolved (predicted or failed) exactly once. The row count a file declares is
/// never trusted for completion: a unit that ends short, or whose rows never all arrive, stays open and is
/// reported by `unfinished()` instead of being silently written or dropped.
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
        lock.withLock { classCount = count }
    }

    /// Adds `rows` to the progress total (a declared count: for progress only).
    func addExpected(_ rows: Int) {
        lock.withLock { rowsTotal += rows }
    }

    /// Opens a unit before its first row is read; `declaredRows` is what the file says it holds.
    func start(_ unit: InputUnit, index: Int, declaredRows: Int) {
        lock.withLock {
            open[index] = UnitPredictions(unit: unit, declaredRows: declaredRows, k: k, classCount: classCount, keepLogits: keepLogits)
        }
    }

    /// The reader has produced every row of the unit: `rows` in all. Returns the unit if that completed it.
    /// Throws when the rows read differ from the rows the file declares; the unit is then abandoned.
    func seal(_ index: Int, rows: Int) throws -> UnitPredictions? {
        try lock.withLock {
            guard let predictions = open[index] else { return nil }
            guard rows == predictions.declaredRows else {
                open[index] = nil
                throw PipelineError.rowCountMismatch(predictions.unit.displayName, declared: predictions.declaredRows, read: rows)
            }
            predictions.sealedRows = rows
            return take(index, predictions)
        }
    }

    /// Forgets a unit that failed as a whole (it is reported, not written); late rows of it are ignored.
    func abandon(_ index: Int) {
        lock.withLock { open[index] = nil }
    }

    /// Records a prediction; returns the unit if this completed it.
    func record(unit: Int, row: Int, id: String, logits: UnsafeBufferPointer<Float>) -> UnitPredictions? {
        lock.withLock {
            guard let predictions = open[unit], predictions.record(row: row, id: id, logits: logits) else { return nil }
            rowsDone += 1
            return take(unit, predictions)
        }
    }

    /// Records a failed row; returns the unit if this completed it.
    func fail(unit: Int, row: Int, id: String, reason: String) -> UnitPredictions? {
        lock.withLock {
            guard let predictions = open[unit], predictions.fail(row: row, id: id, reason: reason) else { return nil }
            rowsDone += 1
            rowsFailed += 1
            return take(unit, predictions)
        }
    }

    /// Units still open when the strategy finished: each is a failure to report (never a silent loss).
    func unfinished() -> [(index: Int, unit: InputUnit, reason: String)] {
        lock.withLock {
            let left = open.sorted { $0.key < $1.key }.map { index, p in
                (index, p.unit, p.sealedRows.map { "only \(p.resolved) of its \($0) rows were resolved" }
                    ?? "the unit was not read to the end (\(p.resolved) rows resolved)")
            }
            open.removeAll()
            return left
        }
    }

    private func take(_ unit: Int, _ predictions: UnitPredictions) -> UnitPredictions? {
        guard predictions.isComplete else { return nil }
        open[unit] = nil
        return predictions
    }

    var progress: (done: Int, failed: Int, total: Int) {
        lock.withLock { (rowsDone, rowsFailed, rowsTotal) }
    }
}
