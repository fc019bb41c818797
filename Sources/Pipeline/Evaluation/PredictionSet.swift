import Foundation
import Parquet

/// The predictions of a `sluice run` output read back: per id the top classes (from the logits when the run
/// kept them, else from its `top_k` column) and the logits; ids whose row is an error row (null `top_k`) are
/// kept apart, so that a labelled image without a prediction is reported, never silently skipped.
public struct PredictionSet: Sendable {
    public struct Prediction: Sendable {
        /// Best first; at most 5.
        public let top: [Int]
        public let logits: [Float]?
    }

    public let source: String
    public private(set) var predictions: [String: Prediction] = [:]
    /// Ids in the order of the parts (name order) and their rows.
    public private(set) var order: [String] = []
    /// Ids whose row failed (an error row): no prediction.
    public private(set) var failed: Set<String> = []
    /// Logits per row (0 when the run did not keep them).
    public private(set) var classCount = 0
    public var hasLogits: Bool { classCount > 0 }
    private var partsHaveLogits: Bool?

    /// A run's output directory (every top-level `.parquet` part; `_errors/` and markers are not predictions), or
    /// one part file.
    public static func load(_ path: String) throws -> PredictionSet {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw EvaluationError.unreadable(file: path, reason: "no such file or directory (give a `sluice run` output directory)")
        }
        var parts = [path]
        if isDirectory.boolValue {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
            parts = names.filter { $0.hasSuffix(".parquet") && !$0.hasPrefix("_") && !$0.hasPrefix(".") }.sorted()
                .map { (path as NSString).appendingPathComponent($0) }
            guard !parts.isEmpty else {
                throw EvaluationError.unreadable(file: path, reason: "no prediction parts (.parquet files) in this directory")
            }
        }
        var set = PredictionSet(source: path)
        var firstFile: [String: String] = [:]
        for part in parts { try set.read(part: part, firstFile: &firstFile) }
        return set
    }

    init(source: String) { self.source = source }

    private mutating func read(part: String, firstFile: inout [String: String]) throws {
        let reader: ParquetFileReader
        do { reader = try ParquetFileReader(path: part) } catch {
            throw EvaluationError.malformedPredictions(file: part, rowGroup: nil, row: nil, reason: "not a readable Parquet file: \(error)")
        }
        let names = Set(reader.schema.fields.map(\.name))
        for required in ["id", "top_k"] where !names.contains(required) {
            throw EvaluationError.malformedPredictions(file: part, rowGroup: nil, row: nil,
                                                       reason: "no '\(required)' column: not a `sluice run` prediction part")
        }
        let withLogits = names.contains("logits")
        if let earlier = partsHaveLogits, earlier != withLogits {
            throw EvaluationError.malformedPredictions(file: part, rowGroup: nil, row: nil,
                                                       reason: withLogits ? "this part has logits and the earlier ones do not"
                                                           : "this part has no logits and the earlier ones do")
        }
        partsHaveLogits = withLogits
        for group in 0..<reader.rowGroupCount {
            let rows: [[ParquetValue.Field]]
            do { rows = try reader.readRows(rowGroup: group, fields: withLogits ? ["id", "top_k", "logits"] : ["id", "top_k"]) } catch {
                throw EvaluationError.malformedPredictions(file: part, rowGroup: group, row: nil, reason: "\(error)")
            }
            for (r, row) in rows.enumerated() {
                func bad(_ reason: String) -> EvaluationError {
                    .malformedPredictions(file: part, rowGroup: group, row: r, reason: reason)
                }
                guard case let .string(id) = row[0].value else { throw bad("the id is not a string") }
                if let first = firstFile[id] { throw EvaluationError.duplicatePrediction(id: id, file: part, firstFile: first) }
                firstFile[id] = part
                order.append(id)
                guard case let .list(topValues) = row[1].value else {
                    failed.insert(id)  // an error row
                    continue
                }
                var logits: [Float]?
                if withLogits {
                    guard case let .list(values) = row[2].value else { throw bad("a predicted row without logits") }
                    let floats = try values.map { value -> Float in
                        guard case let .float(f) = value else { throw bad("a logit is not a float32") }
                        return f
                    }
                    if classCount == 0 { classCount = floats.count }
                    guard floats.count == classCount, classCount > 0 else {
                        throw bad("\(floats.count) logits where the earlier rows have \(classCount)")
                    }
                    logits = floats
                }
                let top: [Int]
                if let logits {
                    top = Self.topIndices(logits, k: 5)
                } else {
                    top = try topValues.prefix(5).map { value -> Int in
                        guard case let .int(index) = value, index >= 0, index <= Int64(Int32.max) else { throw bad("a top_k class is not a class index") }
                        return Int(index)
                    }
                }
                predictions[id] = Prediction(top: top, logits: logits)
            }
        }
    }

    /// The `k` largest values' indices, largest first; ties go to the lower index (as `sluice run` ranks them).
    static func topIndices(_ values: [Float], k: Int) -> [Int] {
        var best: [Int] = []
        best.reserveCapacity(k + 1)
        for index in values.indices {
            let value = values[index]
            if value.isNaN { continue }
            if best.count == k, let last = best.last, !(value > values[last]) { continue }
            var position = best.count
            while position > 0, value > values[best[position - 1]] { position -= 1 }
            best.insert(index, at: position)
            if best.count > k { best.removeLast() }
        }
        return best
    }
}
