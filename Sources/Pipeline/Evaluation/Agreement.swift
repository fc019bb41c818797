/// How far one run's predictions are from a reference run's on the same images (e.g. int8 against fp32):
/// top-1 agreement (same class first), top-5 agreement (the reference's first class in our top 5) and, when
/// both runs kept their logits, the largest and the mean |Δlogit|.
public struct AgreementReport: Encodable, Sendable, Equatable {
    public var reference: String
    public var compared = 0
    public var top1Agreeing = 0
    public var top5Agreeing = 0
    public var maxAbsLogitDelta: Double?
    public var meanAbsLogitDelta: Double?

    public var top1Agreement: Double { compared > 0 ? Double(top1Agreeing) / Double(compared) : 0 }
    public var top5Agreement: Double { compared > 0 ? Double(top5Agreeing) / Double(compared) : 0 }

    /// Compares the predictions of `ids` (each predicted in both).
    static func compare(_ ids: [String], ours: PredictionSet, reference: PredictionSet) throws -> AgreementReport {
        var report = AgreementReport(reference: reference.source)
        let logits = ours.hasLogits && reference.hasLogits
        if logits, ours.classCount != reference.classCount {
            throw EvaluationError.malformedPredictions(file: reference.source, rowGroup: nil, row: nil,
                                                       reason: "\(reference.classCount) logits per image where \(ours.source) has \(ours.classCount)")
        }
        var maxDelta: Float = 0, sumDelta: Double = 0, deltas = 0
        for id in ids {
            guard let mine = ours.predictions[id], let theirs = reference.predictions[id], let referenceFirst = theirs.top.first else { continue }
            report.compared += 1
            if mine.top.first == referenceFirst { report.top1Agreeing += 1 }
            if mine.top.prefix(5).contains(referenceFirst) { report.top5Agreeing += 1 }
            if logits, let a = mine.logits, let b = theirs.logits {
                for (x, y) in zip(a, b) {
                    let delta = abs(x - y)
                    maxDelta = max(maxDelta, delta)
                    sumDelta += Double(delta)
                }
                deltas += a.count
            }
        }
        if logits, deltas > 0 {
            report.maxAbsLogitDelta = Double(maxDelta)
            report.meanAbsLogitDelta = sumDelta / Double(deltas)
        }
        return report
    }

    private enum CodingKeys: String, CodingKey {
        case reference, compared, top1Agreeing = "top1_agreeing", top5Agreeing = "top5_agreeing", top1Agreement = "top1_agreement",
             top5Agreement = "top5_agreement", maxAbsLogitDelta = "max_abs_logit_delta", meanAbsLogitDelta = "mean_abs_logit_delta"
    }

    public init(reference: String) { self.reference = reference }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(reference, forKey: .reference)
        try container.encode(compared, forKey: .compared)
        try container.encode(top1Agreeing, forKey: .top1Agreeing)
        try container.encode(top5Agreeing, forKey: .top5Agreeing)
        try container.encode(top1Agreement, forKey: .top1Agreement)
        try container.encode(top5Agreement, forKey: .top5Agreement)
        try container.encodeIfPresent(maxAbsLogitDelta, forKey: .maxAbsLogitDelta)
        try container.encodeIfPresent(meanAbsLogitDelta, forKey: .meanAbsLogitDelta)
    }
}
