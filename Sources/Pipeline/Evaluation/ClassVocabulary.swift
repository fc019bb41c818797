/// How a label names a class: its index (0–999 for ImageNet), its WordNet id (n01440764) or its name, compared
/// without regard to case ("Tabby", "tabby").
public struct ClassVocabulary: Sendable {
    public let names: [String]
    /// WordNet ids in class order, when the classes are ImageNet-1k's.
    public let wordNetIDs: [String]?
    private let byName: [String: Int]
    private let byWordNetID: [String: Int]
    /// Names that more than one class has: refused, since either answer could be wrong.
    private let ambiguousNames: Set<String>

    public init(names: [String], wordNetIDs: [String]? = nil) {
        self.names = names
        self.wordNetIDs = wordNetIDs?.count == names.count ? wordNetIDs : nil
        var byName: [String: Int] = [:], ambiguous = Set<String>()
        for (index, name) in names.enumerated() {
            let key = name.lowercased()
            if byName[key] != nil { ambiguous.insert(key) } else { byName[key] = index }
        }
        self.byName = byName
        ambiguousNames = ambiguous
        byWordNetID = Dictionary(self.wordNetIDs.map { Array(zip($0, $0.indices)) } ?? [], uniquingKeysWith: { first, _ in first })
    }

    /// ImageNet-1k: torchvision's class names and their WordNet ids, in class-index order.
    public static let imageNet = ClassVocabulary(names: ClassLabels.imageNet, wordNetIDs: ImageNetWordNetIDs.list)

    public var count: Int { names.count }

    public func name(_ index: Int) -> String { names.indices.contains(index) ? names[index] : "class \(index)" }

    /// The class a label names, or why none does.
    public func resolve(_ label: String) -> Result<Int, LabelProblem> {
        let text = label.trimmingCharacters(in: .whitespaces)
        guard !text.isEmpty else { return .failure(.empty) }
        if text.hasPrefix("-"), text.count > 1, text.dropFirst().allSatisfy({ $0.isASCII && $0.isNumber }) {
            return .failure(.indexOutOfRange(count))
        }
        if text.allSatisfy({ $0.isASCII && $0.isNumber }) {
            guard let index = Int(text), index < count else { return .failure(.indexOutOfRange(count)) }
            return .success(index)
        }
        if Self.looksLikeWordNetID(text) {
            guard wordNetIDs != nil else { return .failure(.noWordNetIDs) }
            return byWordNetID[text].map(Result.success) ?? .failure(.unknownWordNetID)
        }
        let key = text.lowercased()
        if ambiguousNames.contains(key) { return .failure(.ambiguousName) }
        return byName[key].map(Result.success) ?? .failure(.unknownName)
    }

    /// A class index given as a JSON number.
    public func resolve(index: Int) -> Result<Int, LabelProblem> {
        (0..<count).contains(index) ? .success(index) : .failure(.indexOutOfRange(count))
    }

    static func looksLikeWordNetID(_ text: String) -> Bool {
        text.count == 9 && text.first == "n" && text.dropFirst().allSatisfy { $0.isASCII && $0.isNumber }
    }

    public enum LabelProblem: Error, CustomStringConvertible, Equatable {
        case empty, indexOutOfRange(Int), noWordNetIDs, unknownWordNetID, ambiguousName, unknownName

        public var description: String {
            switch self {
            case .empty: "the label is empty"
            case let .indexOutOfRange(count): "class indices run from 0 to \(count - 1)"
            case .noWordNetIDs: "WordNet ids name ImageNet-1k classes only, and the class names are not ImageNet-1k's"
            case .unknownWordNetID: "no ImageNet-1k class has this WordNet id"
            case .ambiguousName: "more than one class has this name: give the class index"
            case .unknownName: "no class has this name (names are compared without regard to case)"
            }
        }
    }
}

extension ImageNetWordNetIDs {
    static var list: [String] { text.split(separator: "\n").map(String.init) }
}
