import Foundation

extension Job {
    /// The read operator, shared by every strategy: opens a planned unit, hands each chunk to `consume`
    /// (which returns false when the job is stopping), then seals the unit with the rows actually read and
    /// commits it if that completed it. A unit that cannot be read — it does not open, a page is bad, or it
    /// holds another number of rows than it declares — is abandoned and reported, never written short.
    /// Returns true when the unit was read to the end.
    @discardableResult
    func readUnit(_ planned: PlannedUnit, targetRows: Int, stats: StageStats, _ consume: (RecordChunk) -> Bool) -> Bool {
        do {
            let source = try openSource(planned.unit, index: planned.index)
            tracker.start(planned.unit, index: planned.index, declaredRows: source.declaredRows)
            while let chunk = try stats.measure(items: 0, { try source.next(targetRows: targetRows) }) {
                stats.measure(items: chunk.rowCount) {}
                guard consume(chunk) else { return false }
            }
            if let complete = try tracker.seal(planned.index, rows: source.rowsRead) { commit(complete) }
            return true
        } catch {
            tracker.abandon(planned.index)
            do { try unitFailed(planned.unit, error) } catch { abort(error) }
            return false
        }
    }
}
