/// Why `sluice eval` cannot score: each names the file, the line or row, and the reason.
public enum EvaluationError: Error, CustomStringConvertible, Equatable {
    case unreadable(file: String, reason: String)
    case malformedLine(file: String, line: Int, reason: String)
    case unknownLabel(file: String, line: Int, label: String, reason: String)
    case duplicateID(file: String, line: Int, id: String, firstLine: Int)
    case noLabels(file: String)
    case malformedPredictions(file: String, rowGroup: Int?, row: Int?, reason: String)
    case duplicatePrediction(id: String, file: String, firstFile: String)
    case nothingToScore(String)

    public var description: String {
        switch self {
        case let .unreadable(file, reason): "\(file): \(reason)"
        case let .malformedLine(file, line, reason): "\(file), line \(line): \(reason)"
        case let .unknownLabel(file, line, label, reason): "\(file), line \(line): unknown label '\(label)': \(reason)"
        case let .duplicateID(file, line, id, firstLine): "\(file), line \(line): id '\(id)' is labelled again (first on line \(firstLine))"
        case let .noLabels(file): "\(file): no labels (the file has no id,label line)"
        case let .malformedPredictions(file, rowGroup, row, reason):
            "\(file)" + (rowGroup.map { ", row group \($0)" } ?? "") + (row.map { ", row \($0)" } ?? "") + ": \(reason)"
        case let .duplicatePrediction(id, file, firstFile): "\(file): id '\(id)' was already predicted in \(firstFile)"
        case let .nothingToScore(reason): "nothing to score: \(reason)"
        }
    }
}
