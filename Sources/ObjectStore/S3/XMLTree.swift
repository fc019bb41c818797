/// A small XML reader for S3's responses (list results, errors, multipart answers): elements, text,
/// entities and CDATA; attributes, comments, processing instructions and DOCTYPEs are skipped. Namespace
/// prefixes are dropped from names. Malformed input throws. Nothing recurses, and every input is bounded
/// before it costs memory or time: document size, nesting depth and element count; each step is linear.
struct XMLElement: Sendable, Equatable {
    var name: String
    var children: [XMLElement] = []
    var text = ""

    func child(_ name: String) -> XMLElement? { children.first { $0.name == name } }
    func children(_ name: String) -> [XMLElement] { children.filter { $0.name == name } }
    /// The text of the first child called `name`.
    func value(_ name: String) -> String? { child(name)?.text }

    struct ParseError: Error, CustomStringConvertible {
        var description: String
    }

    static let maxDepth = 64
    /// A ListObjectsV2 page of 1,000 keys is a few hundred KiB.
    static let maxDocumentBytes = 16 << 20
    /// A ListObjectsV2 page of 1,000 keys has about 11,000 elements.
    static let maxElements = 250_000

    static func parse(_ bytes: [UInt8]) throws -> XMLElement {
        guard bytes.count <= maxDocumentBytes else {
            throw ParseError(description: "the document has \(bytes.count) bytes, more than the \(maxDocumentBytes) an S3 answer may have")
        }
        var parser = Parser(bytes: bytes)
        return try parser.document()
    }

    private struct Parser {
        let bytes: [UInt8]
        var i = 0
        var elements = 0

        mutating func countElement() throws {
            elements += 1
            guard elements <= XMLElement.maxElements else {
                throw ParseError(description: "more than \(XMLElement.maxElements) elements (at byte \(i))")
            }
        }

        init(bytes: [UInt8]) { self.bytes = bytes }

        mutating func document() throws -> XMLElement {
            var stack: [XMLElement] = []
            var root: XMLElement?
            while i < bytes.count {
                if bytes[i] == UInt8(ascii: "<") {
                    if starts("<?") { try skip(past: "?>"); continue }
                    if starts("<!--") { try skip(past: "-->"); continue }
                    if starts("<![CDATA[") {
                        i += 9
                        let start = i
                        try skip(past: "]]>")
                        guard !stack.isEmpty else { throw ParseError(description: "CDATA outside an element") }
                        stack[stack.count - 1].text += String(decoding: bytes[start..<(i - 3)], as: UTF8.self)
                        continue
                    }
                    if starts("<!") { try skip(past: ">"); continue }
                    if starts("</") {
                        i += 2
                        let name = readName()
                        try skip(past: ">")
                        guard var element = stack.popLast(), element.name == name else {
                            throw ParseError(description: "unexpected closing tag </\(name)>")
                        }
                        element.text = element.children.isEmpty ? element.text : element.text.trimmingWhitespace()
                        if stack.isEmpty { root = element; break } else { stack[stack.count - 1].children.append(element) }
                        continue
                    }
                    i += 1
                    let name = readName()
                    guard !name.isEmpty else { throw ParseError(description: "a tag without a name at byte \(i)") }
                    try countElement()
                    let selfClosing = try skipAttributes()
                    if selfClosing {
                        let element = XMLElement(name: name)
                        if stack.isEmpty { root = element; break } else { stack[stack.count - 1].children.append(element) }
                    } else {
                        guard stack.count < XMLElement.maxDepth else {
                            throw ParseError(description: "elements nested more than \(XMLElement.maxDepth) deep (at byte \(i))")
                        }
                        stack.append(XMLElement(name: name))
                    }
                } else {
                    let start = i
                    while i < bytes.count, bytes[i] != UInt8(ascii: "<") { i += 1 }
                    if !stack.isEmpty {
                        stack[stack.count - 1].text += try decodeEntities(bytes[start..<i])
                    }
                }
            }
            guard let root else { throw ParseError(description: stack.isEmpty ? "no root element" : "the document ends inside <\(stack[stack.count - 1].name)>") }
            return root
        }

        func starts(_ prefix: String) -> Bool {
            let p = Array(prefix.utf8)
            return i + p.count <= bytes.count && bytes[i..<(i + p.count)].elementsEqual(p)
        }

        mutating func skip(past terminator: String) throws {
            let t = Array(terminator.utf8)
            while i + t.count <= bytes.count {
                if bytes[i..<(i + t.count)].elementsEqual(t) { i += t.count; return }
                i += 1
            }
            throw ParseError(description: "missing '\(terminator)'")
        }

        /// The local name (after any `prefix:`).
        mutating func readName() -> String {
            let start = i
            while i < bytes.count {
                let b = bytes[i]
                if b == UInt8(ascii: ">") || b == UInt8(ascii: "/") || b == UInt8(ascii: " ") || b == UInt8(ascii: "\t")
                    || b == UInt8(ascii: "\n") || b == UInt8(ascii: "\r") { break }
                i += 1
            }
            let name = String(decoding: bytes[start..<i], as: UTF8.self)
            if let colon = name.lastIndex(of: ":") { return String(name[name.index(after: colon)...]) }
            return name
        }

        /// Skips to the end of a start tag; true when it was `/>`.
        mutating func skipAttributes() throws -> Bool {
            var quote: UInt8?
            while i < bytes.count {
                let b = bytes[i]
                if let q = quote {
                    if b == q { quote = nil }
                } else if b == UInt8(ascii: "\"") || b == UInt8(ascii: "'") {
                    quote = b
                } else if b == UInt8(ascii: ">") {
                    i += 1
                    return i >= 2 && bytes[i - 2] == UInt8(ascii: "/")
                }
                i += 1
            }
            throw ParseError(description: "unterminated start tag")
        }

        func decodeEntities(_ slice: ArraySlice<UInt8>) throws -> String {
            guard slice.contains(UInt8(ascii: "&")) else { return String(decoding: slice, as: UTF8.self) }
            var out: [UInt8] = []
            out.reserveCapacity(slice.count)
            var j = slice.startIndex
            while j < slice.endIndex {
                let b = slice[j]
                guard b == UInt8(ascii: "&") else { out.append(b); j += 1; continue }
                // Only a few bytes are searched: a long run of '&' without ';' must not make this quadratic.
                let window = slice[j..<min(slice.endIndex, j + 12)]
                guard let semicolon = window.firstIndex(of: UInt8(ascii: ";")) else {
                    throw ParseError(description: "an unterminated entity at byte \(j)")
                }
                let entity = String(decoding: slice[(j + 1)..<semicolon], as: UTF8.self)
                switch entity {
                case "amp": out.append(UInt8(ascii: "&"))
                case "lt": out.append(UInt8(ascii: "<"))
                case "gt": out.append(UInt8(ascii: ">"))
                case "quot": out.append(UInt8(ascii: "\""))
                case "apos": out.append(UInt8(ascii: "'"))
                default:
                    let scalarValue: UInt32?
                    if entity.hasPrefix("#x") || entity.hasPrefix("#X") {
                        scalarValue = UInt32(entity.dropFirst(2), radix: 16)
                    } else if entity.hasPrefix("#") {
                        scalarValue = UInt32(entity.dropFirst(), radix: 10)
                    } else {
                        scalarValue = nil
                    }
                    guard let value = scalarValue, let scalar = Unicode.Scalar(value) else {
                        throw ParseError(description: "unknown entity &\(entity);")
                    }
                    out += Array(String(Character(scalar)).utf8)
                }
                j = semicolon + 1
            }
            return String(decoding: out, as: UTF8.self)
        }
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var slice = Substring(self)
        while let first = slice.first, first.isWhitespace { slice = slice.dropFirst() }
        while let last = slice.last, last.isWhitespace { slice = slice.dropLast() }
        return String(slice)
    }
}

/// Escapes text for an XML element's content.
func xmlEscape(_ text: String) -> String {
    var out = ""
    for character in text {
        switch character {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&apos;"
        default: out.append(character)
        }
    }
    return out
}
