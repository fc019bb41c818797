import Foundation

/// The true class of each image: CSV (`id,label`, with or without that header line) or JSON lines
/// (`{"id": …, "label": …}`), a label being a class index, a WordNet id or a class name (`ClassVocabulary`).
/// Blank lines are ignored; anything else that is not a well-formed entry is an error naming its line.
public struct LabelsFile: Sendable {
    public struct Entry: Sendable, Equatable {
        public let id: String
        public let label: Int
        public let line: Int
    }

    public let source: String
    /// In file order.
    public let entries: [Entry]
    public let labelByID: [String: Int]

    public static func load(path: String, classes: ClassVocabulary = .imageNet) throws -> LabelsFile {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw EvaluationError.unreadable(file: path, reason: "cannot read the labels file (\(error.localizedDescription))")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw EvaluationError.unreadable(file: path, reason: "the labels file is not UTF-8 text")
        }
        return try parse(text, source: path, classes: classes)
    }

    public static func parse(_ text: String, source: String, classes: ClassVocabulary = .imageNet) throws -> LabelsFile {
        // "\r\n" is one Character in Swift: both line ends are separators.
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).map(String.init)
        let firstContent = lines.first { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        let jsonLines = firstContent?.trimmingCharacters(in: .whitespaces).hasPrefix("{") == true
        var entries: [Entry] = []
        var firstLine: [String: Int] = [:]
        for (offset, line) in lines.enumerated() {
            let number = offset + 1
            guard !line.trimmingCharacters(in: .whitespaces).isEmpty else { continue }
            let parsed: (id: String, label: Int)?
            if jsonLines {
                parsed = try jsonEntry(line, number: number, source: source, classes: classes)
            } else {
                parsed = try csvEntry(line, number: number, isFirst: line == firstContent && entries.isEmpty && firstLine.isEmpty,
                                      source: source, classes: classes)
            }
            guard let (id, label) = parsed else { continue }
            if let first = firstLine[id] { throw EvaluationError.duplicateID(file: source, line: number, id: id, firstLine: first) }
            firstLine[id] = number
            entries.append(Entry(id: id, label: label, line: number))
        }
        guard !entries.isEmpty else { throw EvaluationError.noLabels(file: source) }
        return LabelsFile(source: source, entries: entries,
                          labelByID: Dictionary(uniqueKeysWithValues: entries.map { ($0.id, $0.label) }))
    }

    /// One CSV line: two fields (RFC 4180 quoting); nil for the header line `id,label`.
    private static func csvEntry(_ line: String, number: Int, isFirst: Bool, source: String,
                                 classes: ClassVocabulary) throws -> (String, Int)? {
        let fields: [String]
        do { fields = try CSVLine.fields(line) } catch {
            throw EvaluationError.malformedLine(file: source, line: number, reason: "\(error)")
        }
        guard fields.count == 2 else {
            throw EvaluationError.malformedLine(file: source, line: number, reason: "expected 2 fields (id,label), found \(fields.count)")
        }
        let id = fields[0].trimmingCharacters(in: .whitespaces), label = fields[1].trimmingCharacters(in: .whitespaces)
        if isFirst, id.lowercased() == "id", label.lowercased() == "label" { return nil }
        guard !id.isEmpty else { throw EvaluationError.malformedLine(file: source, line: number, reason: "the id is empty") }
        switch classes.resolve(label) {
        case let .success(index): return (id, index)
        case let .failure(problem): throw EvaluationError.unknownLabel(file: source, line: number, label: label, reason: "\(problem)")
        }
    }

    /// One JSON line: an object with "id" (string or integer) and "label" (class index, WordNet id or name).
    private static func jsonEntry(_ line: String, number: Int, source: String, classes: ClassVocabulary) throws -> (String, Int) {
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: Data(line.utf8), options: [.fragmentsAllowed]) } catch {
            throw EvaluationError.malformedLine(file: source, line: number, reason: "not a JSON object")
        }
        guard let fields = object as? [String: Any] else {
            throw EvaluationError.malformedLine(file: source, line: number, reason: "not a JSON object")
        }
        guard let rawID = fields["id"] else { throw EvaluationError.malformedLine(file: source, line: number, reason: "no \"id\" field") }
        guard let rawLabel = fields["label"] else { throw EvaluationError.malformedLine(file: source, line: number, reason: "no \"label\" field") }
        let id: String
        if let text = rawID as? String {
            id = text
        } else if let number = rawID as? NSNumber, let whole = Int(exactly: number.doubleValue) {
            id = String(whole)
        } else {
            throw EvaluationError.malformedLine(file: source, line: number, reason: "\"id\" must be a string or a whole number")
        }
        guard !id.isEmpty else { throw EvaluationError.malformedLine(file: source, line: number, reason: "the id is empty") }
        let result: Result<Int, ClassVocabulary.LabelProblem>
        let shown: String
        if let text = rawLabel as? String {
            (result, shown) = (classes.resolve(text), text)
        } else if let value = rawLabel as? NSNumber {
            guard let whole = Int(exactly: value.doubleValue) else {
                throw EvaluationError.unknownLabel(file: source, line: number, label: "\(value)", reason: "a class index is a whole number")
            }
            (result, shown) = (classes.resolve(index: whole), "\(whole)")
        } else {
            throw EvaluationError.malformedLine(file: source, line: number, reason: "\"label\" must be a class index, a WordNet id or a class name")
        }
        switch result {
        case let .success(index): return (id, index)
        case let .failure(problem): throw EvaluationError.unknownLabel(file: source, line: number, label: shown, reason: "\(problem)")
        }
    }
}

/// One line of CSV: fields split at commas, a field in double quotes may hold commas and "" for a quote.
enum CSVLine {
    struct Problem: Error, CustomStringConvertible {
        let description: String
    }

    static func fields(_ line: String) throws -> [String] {
        var fields: [String] = [], current = ""
        var inQuotes = false, quotedField = false, afterClosingQuote = false
        var characters = line.makeIterator()
        while let c = characters.next() {
            if inQuotes {
                if c == "\"" {
                    inQuotes = false
                    afterClosingQuote = true
                } else {
                    current.append(c)
                }
            } else if c == "," {
                fields.append(current)
                current = ""
                quotedField = false
                afterClosingQuote = false
            } else if c == "\"" {
                if afterClosingQuote {  // "" inside a quoted field
                    current.append("\"")
                    inQuotes = true
                    afterClosingQuote = false
                } else if current.trimmingCharacters(in: .whitespaces).isEmpty && !quotedField {
                    current = ""
                    inQuotes = true
                    quotedField = true
                } else {
                    throw Problem(description: "a quote inside an unquoted field")
                }
            } else {
                if afterClosingQuote && !c.isWhitespace { throw Problem(description: "text after a closing quote") }
                if !afterClosingQuote { current.append(c) }
            }
        }
        if inQuotes { throw Problem(description: "a quoted field is not closed") }
        fields.append(current)
        return fields
    }
}
