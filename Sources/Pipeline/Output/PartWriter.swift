import Foundation
import Inference
import ObjectStore
import Parquet

/// The predictions of one input unit, filled row by row in any order, written once complete. Storage grows
/// with the rows that arrive, never with the count the file declares (which is hostile until read).
final class UnitPredictions {
    let unit: InputUnit
    let declaredRows: Int
    let k: Int
    /// Logits per row: the model's, or (per-request strategy, 0 until then) those of the first answer.
    private(set) var classCount: Int
    let keepLogits: Bool
    var ids: [String] = []
    var topK: [Int32] = []
    var scores: [Float] = []
    var logits: [Float] = []
    /// Per row: nil while pending, true when predicted, false when it failed.
    var outcome: [Bool?] = []
    var errors: [(row: Int, id: String, reason: String)] = []
    private(set) var resolved = 0
    /// The rows the reader produced, once it reached the end of the unit.
    var sealedRows: Int?

    init(unit: InputUnit, declaredRows: Int, k: Int, classCount: Int, keepLogits: Bool) {
        self.unit = unit
        self.declaredRows = declaredRows
        self.k = k
        self.classCount = classCount
        self.keepLogits = keepLogits
    }

    var rowCount: Int { sealedRows ?? outcome.count }

    var isComplete: Bool { sealedRows == resolved && outcome.count == resolved }

    /// Makes room for `row`; false for a row already resolved (each row counts once).
    private func claim(_ row: Int, id: String) -> Bool {
        guard row >= 0 else { return false }
        if row >= outcome.count {
            let count = row + 1
            ids += repeatElement("", count: count - ids.count)
            topK += repeatElement(0, count: count * k - topK.count)
            scores += repeatElement(0, count: count * k - scores.count)
            if keepLogits { logits += repeatElement(0, count: count * classCount - logits.count) }
            outcome += repeatElement(nil, count: count - outcome.count)
        }
        guard outcome[row] == nil else { return false }
        ids[row] = id
        resolved += 1
        return true
    }

    func record(row: Int, id: String, logits rowLogits: UnsafeBufferPointer<Float>) -> Bool {
        if classCount == 0 { classCount = rowLogits.count }
        guard rowLogits.count == classCount, claim(row, id: id) else { return false }
        let values = ArraySlice(rowLogits)
        let probabilities = Classification.softmax(values)
        for (slot, index) in Classification.topK(values, k: k).enumerated() {
            topK[row * k + slot] = Int32(index)
            scores[row * k + slot] = probabilities[index]
        }
        if keepLogits {
            logits.withUnsafeMutableBufferPointer { out in
                _ = UnsafeMutableBufferPointer(rebasing: out[(row * classCount)..<((row + 1) * classCount)]).initialize(from: rowLogits)
            }
        }
        outcome[row] = true
        return true
    }

    func fail(row: Int, id: String, reason: String) -> Bool {
        guard claim(row, id: id) else { return false }
        errors.append((row, id, reason))
        outcome[row] = false
        return true
    }
}

/// Writes prediction and error parts through the object store: a part becomes visible under its final
/// name (local rename, S3 upload completion) only when complete, so a rerun can skip it.
struct PartWriter: Sendable {
    let storage: ObjectStorage
    let outputDirectory: String
    let labels: [String]?
    let codec: CompressionCodec

    static let errorsDirectory = "_errors"

    func url(_ name: String) -> String {
        outputDirectory.hasSuffix("/") ? outputDirectory + name : outputDirectory + "/" + name
    }

    static func partFileName(_ unit: InputUnit) -> String { unit.partName + ".parquet" }

    func partURL(_ unit: InputUnit) -> String { url(Self.partFileName(unit)) }

    /// Writes the unit's error part (if any rows failed), then its predictions part; returns bytes written.
    @discardableResult
    func commit(_ predictions: UnitPredictions) throws -> Int64 {
        var written: Int64 = 0
        if !predictions.errors.isEmpty {
            written += try publish(url(Self.errorsDirectory + "/" + predictions.unit.partName + ".parquet")) {
                try writeErrors(predictions, to: $0)
            }
        }
        written += try publish(partURL(predictions.unit)) { try writePredictions(predictions, to: $0) }
        return written
    }

    /// Writes a small file (the summary, the success marker).
    func publish(_ name: String, bytes: [UInt8]) throws {
        _ = try publish(url(name)) { try $0.write(bytes) }
    }

    private func publish(_ url: String, _ write: (any ObjectWriter) throws -> Void) throws -> Int64 {
        let writer = try storage.writer(url)
        do {
            try write(writer)
            try writer.commit()
        } catch {
            writer.abort()
            throw error
        }
        return writer.bytesWritten
    }

    private func writePredictions(_ p: UnitPredictions, to sink: any ObjectWriter) throws {
        let rows = 0..<p.rowCount
        try PredictionTable(ids: Array(p.ids.prefix(p.rowCount)), k: p.k, topK: p.topK, scores: p.scores,
                            predicted: rows.map { p.outcome[$0] == true }, labels: labels,
                            logits: p.keepLogits ? p.logits : nil, classCount: p.classCount)
            .write(to: sink, codec: codec)
    }

    private func writeErrors(_ p: UnitPredictions, to sink: any ObjectWriter) throws {
        let writer = try ParquetFileWriter(sink: sink, fields: [
            .string("file", nullable: false), .primitive(name: "row", type: .int64, nullable: false),
            .string("id", nullable: false), .string("reason", nullable: false),
        ])
        let errors = p.errors.sorted { $0.row < $1.row }
        try writer.writeRowGroup(rows: errors.count, columns: [
            .required(.byteArray(BinaryValues(strings: errors.map { _ in p.unit.displayName }))),
            .required(.int64(errors.map { Int64($0.row) })),
            .required(.byteArray(BinaryValues(strings: errors.map(\.id)))),
            .required(.byteArray(BinaryValues(strings: errors.map(\.reason)))),
        ])
        try writer.close()
    }
}
