import Foundation

/// What `sluice eval` found: accuracy against the labels, agreement with a reference run, and every id that
/// could not be scored — labelled without a prediction, or predicted in one run and not the other.
public struct EvaluationReport: Encodable, Sendable {
    public var predictions: String
    public var labels: String?
    /// Images left out because they calibrated int8 (`--calibration auto`): scoring them would flatter it.
    public var calibrationExcluded = 0
    public var accuracy: AccuracyReport?
    public var agreement: AgreementReport?
    /// Labelled ids with no prediction (absent from the run, or an error row there).
    public var missingPredictions: [String] = []
    /// Predicted ids the labels do not name (not scored; not an error).
    public var unlabelled = 0
    /// Ids predicted here and not in the reference, and the other way round.
    public var missingInReference: [String] = []
    public var missingHere: [String] = []

    /// Whether every id that should have been scored was.
    public var complete: Bool { missingPredictions.isEmpty && missingInReference.isEmpty && missingHere.isEmpty }

    /// Scores `predictions` against `labels` and/or compares them with `reference`, leaving out `excluded` ids.
    public static func evaluate(predictions: PredictionSet, labels: LabelsFile?, reference: PredictionSet?,
                                excluded: Set<String> = [], classes: ClassVocabulary = .imageNet) throws -> EvaluationReport {
        guard labels != nil || reference != nil else { throw EvaluationError.nothingToScore("give --labels, --reference or both") }
        var report = EvaluationReport(predictions: predictions.source, labels: labels?.source)
        let present = predictions.order.filter { !excluded.contains($0) }
        report.calibrationExcluded = predictions.order.count - present.count
        if let labels {
            let wanted = labels.entries.map(\.id).filter { !excluded.contains($0) }
            report.missingPredictions = wanted.filter { predictions.predictions[$0] == nil }
            report.unlabelled = present.filter { labels.labelByID[$0] == nil }.count
            report.accuracy = AccuracyReport.score(wanted, labels: labels, predictions: predictions, classes: classes)
        }
        if let reference {
            let predicted = present.filter { predictions.predictions[$0] != nil }
            report.missingInReference = predicted.filter { reference.predictions[$0] == nil }
            report.missingHere = reference.order.filter { !excluded.contains($0) && reference.predictions[$0] != nil && predictions.predictions[$0] == nil }
            report.agreement = try AgreementReport.compare(predicted, ours: predictions, reference: reference)
        }
        return report
    }

    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    private enum CodingKeys: String, CodingKey {
        case predictions, labels, calibrationExcluded = "calibration_excluded", accuracy, agreement,
             missingPredictions = "missing_predictions", unlabelled, missingInReference = "missing_in_reference",
             missingHere = "missing_here", complete
    }

    public init(predictions: String, labels: String?) {
        self.predictions = predictions
        self.labels = labels
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(predictions, forKey: .predictions)
        try container.encodeIfPresent(labels, forKey: .labels)
        try container.encode(calibrationExcluded, forKey: .calibrationExcluded)
        try container.encodeIfPresent(accuracy, forKey: .accuracy)
        try container.encodeIfPresent(agreement, forKey: .agreement)
        try container.encode(missingPredictions, forKey: .missingPredictions)
        try container.encode(unlabelled, forKey: .unlabelled)
        try container.encode(missingInReference, forKey: .missingInReference)
        try container.encode(missingHere, forKey: .missingHere)
        try container.encode(complete, forKey: .complete)
    }
}

extension EvaluationReport {
    /// The human report: a summary, the per-class table, and every problem in words.
    public func render() -> String {
        var lines: [String] = []
        func percent(_ value: Double) -> String { String(format: "%.2f%%", value * 100) }
        if let accuracy {
            var line = "scored \(accuracy.scored) images"
            if calibrationExcluded > 0 { line += "; \(calibrationExcluded) calibration images excluded" }
            lines.append(line)
            lines.append("top-1 \(percent(accuracy.top1)) (\(accuracy.top1Correct)/\(accuracy.scored))"
                + (accuracy.top5.map { "   top-5 \(percent($0)) (\(accuracy.top5Correct)/\(accuracy.scored))" } ?? "   top-5 n/a (fewer than 5 classes per image: run with --top-k 5 or --logits)"))
            if !accuracy.perClass.isEmpty {
                let names = accuracy.perClass.map { "\($0.index) \($0.name)" }
                let top1 = accuracy.perClass.map { "\($0.top1Correct)/\($0.total)" }
                let width = max(5, names.map(\.count).max() ?? 0), top1Width = max(5, top1.map(\.count).max() ?? 0)
                func pad(_ text: String, _ width: Int) -> String { text + String(repeating: " ", count: max(0, width - text.count)) }
                lines.append("")
                lines.append(pad("class", width) + "  " + pad("top-1", top1Width) + "  top-5")
                for (index, count) in accuracy.perClass.enumerated() {
                    lines.append(pad(names[index], width) + "  " + pad(top1[index], top1Width) + "  \(count.top5Correct)/\(count.total)")
                }
            }
        } else if calibrationExcluded > 0 {
            lines.append("\(calibrationExcluded) calibration images excluded")
        }
        if let agreement {
            if !lines.isEmpty { lines.append("") }
            lines.append("against \(agreement.reference): \(agreement.compared) images compared")
            lines.append("top-1 agreement \(percent(agreement.top1Agreement)) (\(agreement.top1Agreeing)/\(agreement.compared))   top-5 agreement \(percent(agreement.top5Agreement)) (\(agreement.top5Agreeing)/\(agreement.compared))")
            if let maxDelta = agreement.maxAbsLogitDelta, let meanDelta = agreement.meanAbsLogitDelta {
                lines.append(String(format: "max |Δlogit| %.6g   mean |Δlogit| %.6g", maxDelta, meanDelta))
            } else {
                lines.append("|Δlogit|: n/a (both runs need --logits)")
            }
        }
        func problem(_ ids: [String], _ what: String) {
            guard !ids.isEmpty else { return }
            let shown = ids.prefix(5).joined(separator: ", ") + (ids.count > 5 ? ", …" : "")
            lines.append("ERROR: \(ids.count) \(what): \(shown)")
        }
        problem(missingPredictions, "labelled images have no prediction (absent, or an error row)")
        problem(missingInReference, "images have no prediction in the reference run")
        problem(missingHere, "images of the reference run have no prediction here")
        if unlabelled > 0 { lines.append("note: \(unlabelled) predicted images have no label (not scored)") }
        return lines.joined(separator: "\n")
    }
}
