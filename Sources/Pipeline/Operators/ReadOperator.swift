import Foundation

/// The read operator: a planned unit → record chunks. Its global state is the job (tracker, storage,
/// configuration); its local state, the open `RecordSource`, lives for one unit on the reading thread.
extension Job {
    /// Opens a planned unit, hands each chunk to `consume` (false: the job is stopping), then seals the
    /// unit with the rows actually read and commits it if that completed it. A unit that cannot be read —
    /// it does not open, a page is bad, it holds another number of rows than it declares, or `consume`
    /// throws — is abandoned and reported, never written short. Returns true when it was read to the end.
    @discardableResult
    func readUnit(_ planned: PlannedUnit, targetRows: Int, stats: StageStats, _ consume: (RecordChunk) throws -> Bool) -> Bool {
        do {
            let source = try openSource(planned.unit, index: planned.index)
            tracker.start(planned.unit, index: planned.index, declaredRows: source.declaredRows)
            while let chunk = try stats.measure(items: 0, { try source.next(targetRows: targetRows) }) {
                stats.measure(items: chunk.rowCount) {}
                guard try consume(chunk) else { return false }
            }
            if let complete = try tracker.seal(planned.index, rows: source.rowsRead) { commit(complete) }
            return true
        } catch {
            unitFailed(planned, error)
            return false
        }
    }

    /// A unit that failed as a whole: forgotten by the tracker and reported (fatal with --on-error fail).
    func unitFailed(_ planned: PlannedUnit, _ error: Error) {
        tracker.abandon(planned.index)
        do { try unitFailed(planned.unit, error) } catch { abort(error) }
    }
}
