import Foundation
@testable import Parquet

/// A JSON value that keeps numbers as their literal text, so 64-bit and larger integers and exact doubles
/// from the expected files compare without loss. (Foundation's JSONSerialization rounds big integers.)
indirect enum JSONValue: Equatable, CustomStringConvertible {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    static func == (a: JSONValue, b: JSONValue) -> Bool { a.description == b.description }

    var description: String {
        switch self {
        case .null: "null"
        case let .bool(b): b ? "true" : "false"
        case let .number(n): n
        case let .string(s): JSONRendering.quoted(s)
        case let .array(items): "[" + items.map(\.description).joined(separator: ",") + "]"
        case let .object(fields): "{" + fields.map { JSONRendering.quoted($0.0) + ":" + $0.1.description }.joined(separator: ",") + "}"
        }
    }

    subscript(key: String) -> JSONValue? {
        guard case let .object(fields) = self else { return nil }
        return fields.first { $0.0 == key }?.1
    }

    var array: [JSONValue]? { if case let .array(a) = self { a } else { nil } }
    var string: String? { if case let .string(s) = self { s } else { nil } }
    var bool: Bool? { if case let .bool(b) = self { b } else { nil } }
    var int: Int? { if case let .number(n) = self { Int(n) } else { nil } }

    static func parse(_ text: String) throws -> JSONValue {
        var parser = Parser(scalars: Array(text.unicodeScalars))
        let value = try parser.value()
        parser.skipSpace()
        guard parser.position == parser.scalars.count else { throw Parser.Failure(position: parser.position) }
        return value
    }

    private struct Parser {
        struct Failure: Error { let position: Int }
        let scalars: [Unicode.Scalar]
        var position = 0

        mutating func skipSpace() {
            while position < scalars.count, [" ", "\n", "\r", "\t"].contains(scalars[position]) { position += 1 }
        }

        mutating func expect(_ s: String) throws {
            for scalar in s.unicodeScalars {
                guard position < scalars.count, scalars[position] == scalar else { throw Failure(position: position) }
                position += 1
            }
        }

        mutating func value() throws -> JSONValue {
            skipSpace()
            guard position < scalars.count else { throw Failure(position: position) }
            switch scalars[position] {
            case "n": try expect("null"); return .null
            case "t": try expect("true"); return .bool(true)
            case "f": try expect("false"); return .bool(false)
            case "\"": return .string(try string())
            case "[":
                position += 1
                var items: [JSONValue] = []
                skipSpace()
                if scalars[position] == "]" { position += 1; return .array(items) }
                while true {
                    items.append(try value())
                    skipSpace()
                    if scalars[position] == "," { position += 1; continue }
                    try expect("]")
                    return .array(items)
                }
            case "{":
                position += 1
                var fields: [(String, JSONValue)] = []
                skipSpace()
                if scalars[position] == "}" { position += 1; return .object(fields) }
                while true {
                    skipSpace()
                    let key = try string()
                    skipSpace()
                    try expect(":")
                    fields.append((key, try value()))
                    skipSpace()
                    if scalars[position] == "," { position += 1; continue }
                    try expect("}")
                    return .object(fields)
                }
            default:
                let start = position
                while position < scalars.count, "+-0123456789.eE".unicodeScalars.contains(scalars[position]) { position += 1 }
                guard position > start else { throw Failure(position: position) }
                return .number(String(String.UnicodeScalarView(scalars[start..<position])))
            }
        }

        mutating func string() throws -> String {
            try expect("\"")
            var out = String.UnicodeScalarView()
            while position < scalars.count {
                let c = scalars[position]
                position += 1
                if c == "\"" { return String(out) }
                guard c == "\\" else { out.append(c); continue }
                let e = scalars[position]
                position += 1
                switch e {
                case "n": out.append("\n")
                case "t": out.append("\t")
                case "r": out.append("\r")
                case "b": out.append("\u{8}")
                case "f": out.append("\u{c}")
                case "u":
                    var code = try hex4()
                    if (0xD800..<0xDC00).contains(code), scalars[position] == "\\" {
                        position += 2
                        let low = try hex4()
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    }
                    out.append(Unicode.Scalar(code) ?? "\u{FFFD}")
                default: out.append(e)
                }
            }
            throw Failure(position: position)
        }

        mutating func hex4() throws -> UInt32 {
            guard position + 4 <= scalars.count, let code = UInt32(String(String.UnicodeScalarView(scalars[position..<position + 4])), radix: 16) else {
                throw Failure(position: position)
            }
            position += 4
            return code
        }
    }
}

/// Renders our values by the parquet-testing README's rules ("sluice-parquet-expected/1"), as JSONValue.
enum ExpectedRendering {
    static func render(_ value: ParquetValue) -> JSONValue {
        switch value {
        case .null: return .null
        case let .bool(b): return .bool(b)
        case let .int(i): return .number(String(i))
        case let .uint(u): return .number(String(u))
        case let .float(f): return floating(Double(f))
        case let .double(d): return floating(d)
        case let .float16(bits): return floating(Double(ParquetValue.widen(float16: bits)))
        case let .string(s): return .string(s)
        case let .bytes(b): return .object([("base64", .string(Data(b).base64EncodedString()))])
        case let .decimal(text): return .string(text)
        case let .date(days): return .number(String(days))
        case let .time(v, _), let .timestamp(v, _, _): return .number(String(v))
        case let .int96(nanos, day):
            let total = Int128(Int64(day) - 2_440_588) * 86_400_000_000_000 + Int128(nanos)
            return .number(String(total))
        case let .list(items): return .array(items.map(render))
        case let .record(fields): return .object(fields.map { ($0.name, render($0.value)) })
        case let .map(entries): return .array(entries.map { .object([("key", render($0.key)), ("value", render($0.value))]) })
        }
    }

    /// Doubles compare by value (the expected text is Python's shortest repr, ours may differ in form).
    private static func floating(_ d: Double) -> JSONValue {
        if d.isNaN { return .string("NaN") }
        if d.isInfinite { return .string(d > 0 ? "Infinity" : "-Infinity") }
        return .number("f:" + String(d.bitPattern, radix: 16))
    }

    /// Normalises an expected value so floats compare by bit pattern like ours.
    static func normalise(_ value: JSONValue) -> JSONValue {
        switch value {
        case let .number(text) where text.contains(".") || text.contains("e") || text.contains("E"):
            guard let d = Double(text) else { return value }
            return .number("f:" + String(d.bitPattern, radix: 16))
        case let .array(items): return .array(items.map(normalise))
        case let .object(fields): return .object(fields.map { ($0.0, normalise($0.1)) })
        default: return value
        }
    }
}

extension ExpectedRendering {
    /// Differences between `rows` and pyarrow's values, one line each (row count, column names, values).
    static func mismatches(_ rows: [[ParquetValue.Field]], expectedJSON text: String) throws -> [String] {
        let expected = try JSONValue.parse(text)
        guard case let .object(columns)? = expected["columns"] else { return ["no expected columns"] }
        var problems: [String] = []
        if expected["rows"]?.int != rows.count { problems.append("\(rows.count) rows") }
        for f in columns.indices {
            let column = columns[f].0
            let want = columns[f].1.array ?? []
            if want.count != rows.count { problems.append("\(column): \(want.count) expected values") }
            for r in want.indices where r < rows.count {
                guard f < rows[r].count, rows[r][f].name == column else {
                    problems.append("row \(r) has no field \(column) at \(f)")
                    break
                }
                let got = ExpectedRendering.render(rows[r][f].value)
                if ExpectedRendering.normalise(want[r]) != got {
                    problems.append("\(column) row \(r): expected \(want[r]), got \(got)")
                    break
                }
            }
        }
        return problems
    }
}
