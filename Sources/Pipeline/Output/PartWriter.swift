import Foundation
import ObjectStore
import Parquet

/// The predictions of one input unit, filled row by row in any order, written once complete.
final class UnitPredictions {
    let unit: InputUnit
    let rowCount: Int
    let k: Int
    let classCount: Int
    let keepLogits: Bool
    var ids: [String]
    var topK: [Int32]
    var scores: [Float]
    var logits: [Float]
    /// Per row: nil while pending, true when predicted, false when it failed.
    var outcome: [Bool?]
    var errors: [(row: Int, id: String, reason: String)] = []
    private(set) var resolved = 0

    init(unit: InputUnit, rowCount: Int, k: Int, classCount: Int, keepLogits: Bool) {
        self.unit = unit
        self.rowCount = rowCount
        self.k = k
        self.classCount = classCount
        self.keepLogits = keepLogits
        ids = Array(repeating: "", count: rowCount)
        topK = Array(repeating: 0, count: rowCount * k)
        scores = Array(repeating: 0, count: rowCount * k)
        logits = keepLogits ? Array(repeating: 0, count: rowCount * classCount) : []
        outcome = Array(repeating: nil, count: rowCount)
    }

    var isComplete: Bool { resolved == rowCount }

    func record(row: Int, id: String, logits rowLogits: UnsafeBufferPointer<Float>) {
        guard row < rowCount, outcome[row] == nil else { return }
        ids[row] = id
        topK.withUnsafeMutableBufferPointer { indices in
            scores.withUnsafeMutableBufferPointer { scores in
                Postprocess.topK(rowLogits, k: k,
                                 indices: UnsafeMutableBufferPointer(rebasing: indices[(row * k)..<((row + 1) * k)]),
                                 scores: UnsafeMutableBufferPointer(rebasing: scores[(row * k)..<((row + 1) * k)]))
            }
        }
        if keepLogits {
            logits.withUnsafeMutableBufferPointer { out in
                _ = UnsafeMutableBufferPointer(rebasing: out[(row * classCount)..<((row + 1) * classCount)]).initialize(from: rowLogits)
            }
        }
        outcome[row] = true
        resolved += 1
    }

    func fail(row: Int, id: String, reason: String) {
        guard row < rowCount, outcome[row] == nil else { return }
        ids[row] = id
        errors.append((row, id, reason))
        outcome[row] = false
        resolved += 1
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

    func partURL(_ unit: InputUnit) -> String { url(unit.partName + ".parquet") }

    func isCommitted(_ unit: InputUnit) throws -> Bool {
        try storage.exists(partURL(unit))
    }

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
        var fields: [FieldSpec] = [
            .string("id", nullable: false),
            .list(name: "top_k", element: .primitive(name: "element", type: .int32, nullable: false), nullable: true),
            .list(name: "scores", element: .primitive(name: "element", type: .float, nullable: false), nullable: true),
        ]
        if labels != nil {
            fields.append(.list(name: "labels", element: .string("element", nullable: false), nullable: true))
        }
        if p.keepLogits { fields.append(.tensor(name: "logits", element: .float32, shape: [p.classCount])) }
        var options = WriterOptions()
        options.codec = codec
        let writer = try ParquetFileWriter(sink: sink, fields: fields, options: options)
        let rows = 0..<p.rowCount
        let ok = rows.map { p.outcome[$0] == true }
        var columns: [ColumnWriteData] = [
            .required(.byteArray(BinaryValues(strings: p.ids))),
            .lists(rows.map { r in ok[r] ? p.topK[(r * p.k)..<((r + 1) * p.k)].map { Optional($0) } : nil }, nullableElement: false) { .int32($0) },
            .lists(rows.map { r in ok[r] ? p.scores[(r * p.k)..<((r + 1) * p.k)].map { Optional($0) } : nil }, nullableElement: false) { .float($0) },
        ]
        if let labels {
            columns.append(.lists(rows.map { r in
                ok[r] ? p.topK[(r * p.k)..<((r + 1) * p.k)].map { Optional(Int($0) < labels.count ? labels[Int($0)] : "class \($0)") } : nil
            }, nullableElement: false) { .byteArray(BinaryValues(strings: $0)) })
        }
        if p.keepLogits {
            columns.append(.lists(rows.map { r in ok[r] ? p.logits[(r * p.classCount)..<((r + 1) * p.classCount)].map { Optional($0) } : nil }) { .float($0) })
        }
        try writer.writeRowGroup(rows: p.rowCount, columns: columns)
        try writer.close()
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
