import Foundation

/// Class names for predictions: the ImageNet-1k list (torchvision's order) by default, or one name per line
/// from a file.
public enum ClassLabels {
    public static var imageNet: [String] {
        ImageNetClasses.text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty }
    }

    public static func load(_ path: String) throws -> [String] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw PipelineError.configuration("cannot read the labels file \(path)")
        }
        return text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
}
