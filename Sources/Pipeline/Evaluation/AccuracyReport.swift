/// Top-1 and top-5 accuracy against the labels, and per class (for the classes the labels hold).
public struct AccuracyReport: Encodable, Sendable, Equatable {
    public struct ClassCount: Encodable, Sendable, Equatable {
        public let index: Int
        public let name: String
        public let wordNetID: String?
        public var total = 0
        public var top1Correct = 0
        public var top5Correct = 0
    }

    public var scored = 0
    public var top1Correct = 0
    public var top5Correct = 0
    /// Whether every scored prediction had 5 classes (a run with --top-k below 5 and no logits has fewer).
    public var top5Available = true
    public var perClass: [ClassCount] = []

    public var top1: Double { scored > 0 ? Double(top1Correct) / Double(scored) : 0 }
    public var top5: Double? { top5Available && scored > 0 ? Double(top5Correct) / Double(scored) : nil }

    /// Scores the predictions of `ids` (each labelled and predicted).
    static func score(_ ids: [String], labels: LabelsFile, predictions: PredictionSet, classes: ClassVocabulary) -> AccuracyReport {
        var report = AccuracyReport()
        var byClass: [Int: ClassCount] = [:]
        for id in ids {
            guard let label = labels.labelByID[id], let prediction = predictions.predictions[id] else { continue }
            report.scored += 1
            let top1 = prediction.top.first == label
            let top5 = prediction.top.prefix(5).contains(label)
            if prediction.top.count < 5 { report.top5Available = false }
            var count = byClass[label] ?? ClassCount(index: label, name: classes.name(label), wordNetID: classes.wordNetIDs?[label])
            count.total += 1
            if top1 { report.top1Correct += 1; count.top1Correct += 1 }
            if top5 { report.top5Correct += 1; count.top5Correct += 1 }
            byClass[label] = count
        }
        report.perClass = byClass.values.sorted { $0.index < $1.index }
        return report
    }

    private enum CodingKeys: String, CodingKey {
        case scored, top1Correct = "top1_correct", top5Correct = "top5_correct", top1, top5, perClass = "per_class"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(scored, forKey: .scored)
        try container.encode(top1Correct, forKey: .top1Correct)
        try container.encode(top1, forKey: .top1)
        if let top5 {
            try container.encode(top5Correct, forKey: .top5Correct)
            try container.encode(top5, forKey: .top5)
        }
        try container.encode(perClass, forKey: .perClass)
    }

    public init() {}
}

extension AccuracyReport.ClassCount {
    private enum CodingKeys: String, CodingKey {
        case index, name, wordNetID = "wnid", total, top1Correct = "top1_correct", top5Correct = "top5_correct"
    }
}
