import Foundation
import Inference
import Parquet
import Pipeline

/// The answer for one record: its top classes, or why it could not be classified.
struct RecordAnswer {
    var id: String
    var topK: [Int] = []
    var scores: [Float] = []
    var logits: [Float] = []
    var error: String?

    init(id: String, logits: [Float], k: Int) {
        self.id = id
        self.logits = logits
        let values = logits[...]
        let probabilities = Classification.softmax(values)
        topK = Classification.topK(values, k: k)
        scores = topK.map { probabilities[$0] }
    }

    init(id: String, error: String) {
        self.id = id
        self.error = error
    }

    /// The record as a JSON object (keys sorted): id, top_k, scores, labels (and the logits when asked), or
    /// id and error. Floats are written with the shortest text that reads back to the same float32.
    func json(labels: [String], includeLogits: Bool) -> [String: Any] {
        if let error { return ["id": id, "error": error] }
        var object: [String: Any] = ["id": id, "top_k": topK, "scores": scores.map(Self.exact),
                                     "labels": topK.map { $0 < labels.count ? labels[$0] : String($0) }]
        if includeLogits { object["logits"] = logits.map(Self.exact) }
        return object
    }

    /// A float32 as a JSON number that parses back to the same float32 (Swift's shortest round-trip text).
    static func exact(_ value: Float) -> Any { value.isFinite ? Decimal(string: "\(value)") ?? 0 : NSNull() }
}

/// The response media types, chosen by the request's Accept header.
enum ResponseFormat: Sendable, Equatable {
    case json, jsonLines, parquet

    /// The first supported type of an Accept header (q-values ignored; */* and none mean JSON).
    init?(accept: String?) {
        guard let accept, !accept.isEmpty else {
            self = .json
            return
        }
        for item in accept.split(separator: ",") {
            switch item.split(separator: ";")[0].trimmingCharacters(in: .whitespaces).lowercased() {
            case "application/json", "*/*", "application/*": self = .json; return
            case "application/jsonlines", "application/x-jsonlines", "application/jsonl": self = .jsonLines; return
            case "application/x-parquet", "application/vnd.apache.parquet": self = .parquet; return
            default: continue
            }
        }
        return nil
    }

    var contentType: String {
        switch self {
        case .json: "application/json"
        case .jsonLines: "application/jsonlines"
        case .parquet: "application/x-parquet"
        }
    }

    func encode(_ answers: [RecordAnswer], labels: [String], includeLogits: Bool = false) throws -> [UInt8] {
        func serialise(_ object: Any) -> [UInt8] {
            Array((try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8))
        }
        switch self {
        case .json:
            return serialise(["predictions": answers.map { $0.json(labels: labels, includeLogits: includeLogits) }])
        case .jsonLines:
            return answers.flatMap { serialise($0.json(labels: labels, includeLogits: includeLogits)) + [0x0A] }
        case .parquet:
            // The columns of a `sluice run` part; a record that failed has null predictions.
            let k = answers.first { $0.error == nil }?.topK.count ?? 0
            let classes = answers.first { $0.error == nil }?.logits.count ?? 0
            let table = PredictionTable(
                ids: answers.map(\.id), k: k,
                topK: answers.flatMap { $0.error == nil ? $0.topK.map(Int32.init) : Array(repeating: 0, count: k) },
                scores: answers.flatMap { $0.error == nil ? $0.scores : Array(repeating: 0, count: k) },
                predicted: answers.map { $0.error == nil }, labels: labels,
                logits: includeLogits ? answers.flatMap { $0.error == nil ? $0.logits : Array(repeating: 0, count: classes) } : nil,
                classCount: classes)
            let sink = InMemorySink(name: "answer")
            try table.write(to: sink, codec: .snappy)
            return sink.bytes
        }
    }
}
