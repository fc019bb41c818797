import Foundation
@testable import Pipeline
import Testing

@Suite("UnitTracker: a unit completes only when sealed and every row read is resolved once")
struct UnitTrackerTests {
    static let unit = InputUnit(kind: .images(paths: []), partName: "u", displayName: "u")
    static let logits: [Float] = [0, 3, 1]

    func predict(_ tracker: UnitTracker, row: Int) -> UnitPredictions? {
        Self.logits.withUnsafeBufferPointer { tracker.record(unit: 0, row: row, id: "r\(row)", logits: $0) }
    }

    @Test("rows resolved before the seal complete the unit at the seal; after it, at the last row")
    func sealOrdering() throws {
        let tracker = UnitTracker(k: 2, keepLogits: false)
        tracker.setClassCount(3)
        tracker.start(Self.unit, index: 0, declaredRows: 2)
        #expect(predict(tracker, row: 0) == nil)
        #expect(predict(tracker, row: 1) == nil)  // not sealed yet: more rows may come
        let complete = try #require(try tracker.seal(0, rows: 2))
        #expect(complete.rowCount == 2)
        #expect(Array(complete.topK) == [1, 2, 1, 2])

        tracker.start(Self.unit, index: 1, declaredRows: 1)
        #expect(try tracker.seal(1, rows: 1) == nil)
        #expect(tracker.fail(unit: 1, row: 0, id: "x", reason: "bad")?.errors.count == 1)
        #expect(tracker.unfinished().isEmpty)
    }

    @Test("a row resolved twice counts once; a unit missing rows is reported as unfinished")
    func duplicatesAndGaps() throws {
        let tracker = UnitTracker(k: 1, keepLogits: false)
        tracker.setClassCount(3)
        tracker.start(Self.unit, index: 0, declaredRows: 3)
        _ = predict(tracker, row: 0)
        _ = predict(tracker, row: 0)
        _ = predict(tracker, row: 2)
        #expect(try tracker.seal(0, rows: 3) == nil)
        let left = tracker.unfinished()
        #expect(left.count == 1)
        #expect(left.first?.reason == "only 2 of its 3 rows were resolved")
        #expect(tracker.progress.done == 2)
    }

    @Test("a unit that reads another number of rows than it declares is refused at the seal")
    func mismatch() {
        let tracker = UnitTracker(k: 1, keepLogits: false)
        tracker.start(Self.unit, index: 0, declaredRows: 1 << 40)  // nothing is allocated for declared rows
        #expect(throws: PipelineError.self) { try tracker.seal(0, rows: 5) }
        #expect(tracker.unfinished().isEmpty)  // abandoned: reported by the caller, not twice
    }
}
