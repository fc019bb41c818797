import Foundation

/// Class names for predictions: the ImageNet-1k list (torchvision's order) by default, or a file with one
/// name per line, line N naming class N. `run` and `predict` read files the same way.
public enum ClassLabels {
    public static var imageNet: [String] {
        (try? parse(ImageNetClasses.text, source: "the built-in ImageNet list")) ?? []
    }

    public static func load(_ path: String) throws -> [String] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw PipelineError.configuration("cannot read the labels file \(path)")
        }
        return try parse(text, source: path)
    }

    /// One name per line (surrounding spaces and a Windows line end removed). Trailing blank lines are
    /// ignored; a blank line before the last name is an error, since dropping it would shift every later
    /// class and keeping it would name a class "".
    static func parse(_ text: String, source: String) throws -> [String] {
        var names = text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        while names.last?.isEmpty == true { names.removeLast() }
        if let blank = names.firstIndex(where: \.isEmpty) {
            throw PipelineError.configuration("\(source): line \(blank + 1) is empty; class names are one per line, line N naming class N")
        }
        return names
    }
}
