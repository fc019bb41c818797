/// The INI dialect of `~/.aws/credentials` and `~/.aws/config`: `[section]` headers, `key = value` lines,
/// full-line comments with `#` or `;`, and nested blocks (`s3 =` followed by indented `key = value` lines),
/// which are stored as `s3.key`. In the config file a named profile's section is `[profile NAME]` and the
/// default's is `[default]`; in the credentials file both are plain `[NAME]`.
public struct AWSConfigFile: Sendable, Equatable {
    /// Section name → key → value. Keys are lowercased; the last duplicate wins, as in the AWS CLI.
    public private(set) var sections: [String: [String: String]] = [:]

    public init(parsing text: String) {
        var current: String?
        var nestedParent: String?
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            var line = Substring(rawLine)
            if line.hasSuffix("\r") { line = line.dropLast() }
            let indented = line.first == " " || line.first == "\t"
            let trimmed = line.trimmingSpaces()
            if trimmed.isEmpty || trimmed.hasPrefix("#") || trimmed.hasPrefix(";") { continue }
            if trimmed.hasPrefix("[") {
                guard let close = trimmed.firstIndex(of: "]") else { current = nil; continue }
                let name = trimmed[trimmed.index(after: trimmed.startIndex)..<close].trimmingSpaces()
                current = String(name)
                nestedParent = nil
                if sections[String(name)] == nil { sections[String(name)] = [:] }
                continue
            }
            guard let section = current, let equals = trimmed.firstIndex(of: "=") else { continue }
            let key = trimmed[..<equals].trimmingSpaces().lowercased()
            var value = trimmed[trimmed.index(after: equals)...].trimmingSpaces()
            // An inline comment needs whitespace before the marker, so secrets containing '#' survive.
            for marker in [" #", "\t#", " ;", "\t;"] {
                if let range = value.range(of: marker) { value = value[..<range.lowerBound].trimmingSpaces() }
            }
            if indented, let parent = nestedParent {
                sections[section, default: [:]]["\(parent).\(key)"] = String(value)
            } else if value.isEmpty {
                nestedParent = key
            } else {
                nestedParent = nil
                sections[section, default: [:]][key] = String(value)
            }
        }
    }

    /// The values of a profile in a credentials file (`[NAME]`).
    public func credentialsProfile(_ name: String) -> [String: String]? { sections[name] }

    /// The values of a profile in a config file (`[profile NAME]`, or `[default]`; `[NAME]` as a fallback,
    /// which the AWS CLI also accepts for the default profile).
    public func configProfile(_ name: String) -> [String: String]? {
        if name == "default" { return sections["default"] ?? sections["profile default"] }
        return sections["profile \(name)"] ?? sections[name]
    }
}

extension StringProtocol {
    func trimmingSpaces() -> Substring {
        var slice = Substring(self)
        while let first = slice.first, first == " " || first == "\t" { slice = slice.dropFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice = slice.dropLast() }
        return slice
    }
}
