import Foundation
import Testing
@testable import Parquet

/// Files other tools wrote, each with the values pyarrow reads from it: the Apache conformance set in
/// ../shared/data/parquet-testing and our pyarrow-made fixtures (Tests/Fixtures/make_parquet_fixtures.py).
struct ConformanceCase: CustomTestStringConvertible, Sendable {
    let dataPath: String
    let expectedPath: String
    var testDescription: String { URL(fileURLWithPath: dataPath).lastPathComponent }

    static func all(in directory: URL) -> [ConformanceCase] {
        guard let enumerator = FileManager.default.enumerator(atPath: directory.path) else { return [] }
        return enumerator.compactMap { $0 as? String }.filter { $0.hasSuffix(".expected.json") }.sorted().map {
            let expected = directory.appendingPathComponent($0).path
            return ConformanceCase(dataPath: String(expected.dropLast(".expected.json".count)), expectedPath: expected)
        }
    }

    static let upstream = all(in: TestPaths.parquetTesting)
    static let fixtures = all(in: TestPaths.generatedFixtures)
}

@Suite("Conformance: files written by other tools")
struct ConformanceTests {
    @Test("the conformance and fixture sets are present")
    func setsArePresent() {
        #expect(ConformanceCase.upstream.count >= 70, "expected the parquet-testing files under \(TestPaths.parquetTesting.path)")
        #expect(ConformanceCase.fixtures.count >= 20, "run Tests/Fixtures/make_parquet_fixtures.py first (scripts/test does)")
    }

    @Test("Apache parquet-testing files", arguments: ConformanceCase.upstream)
    func upstream(_ testCase: ConformanceCase) throws {
        try check(testCase)
    }

    @Test("pyarrow-written fixtures", arguments: ConformanceCase.fixtures)
    func fixtures(_ testCase: ConformanceCase) throws {
        try check(testCase)
    }

    func check(_ testCase: ConformanceCase) throws {
        let expected = try JSONValue.parse(String(contentsOfFile: testCase.expectedPath, encoding: .utf8))
        let name = testCase.testDescription
        if expected["expect_error"]?.bool == true {
            let error = readFully(testCase.dataPath, verify: true)
            #expect(error != nil, "\(name): reading must fail (\(expected["why"]?.string ?? ""))")
            if name.hasSuffix(".encrypted") {
                #expect(error?.description.contains("encrypt") == true, "\(name): \(String(describing: error))")
            }
            return
        }
        let optional = expected["optional"]?.bool == true
        let lenient = expected["lenient"]?.bool == true
        let reader: ParquetFileReader
        do {
            reader = try ParquetFileReader(path: testCase.dataPath)
        } catch let error as ParquetError where lenient || (optional && error.kind == .unsupported) {
            return
        }
        try checkFooter(reader, expected, name)
        guard expected["values_available"]?.bool != false else {
            // No values to compare; an optional codec may still be refused, cleanly.
            if let error = readFully(testCase.dataPath, verify: false) {
                #expect(optional || lenient, "\(name): \(error)")
                #expect(error.kind == .unsupported || lenient, "\(name): \(error)")
            }
            return
        }
        if expected["crc_check"]?.string == "fail" {
            #expect(readFully(testCase.dataPath, verify: true) != nil, "\(name): corrupt CRCs must fail when verified")
        } else if let error = readFully(testCase.dataPath, verify: true) {
            #expect(optional && error.kind == .unsupported, "\(name): valid CRCs must pass verification: \(error)")
        }
        let rows: [[ParquetValue.Field]]
        do {
            rows = try (0..<reader.rowGroupCount).flatMap { try reader.readRows(rowGroup: $0) }
        } catch let error as ParquetError where lenient || (optional && error.kind == .unsupported) {
            return
        }
        try checkValues(rows, expected, name)
    }

    private func readFully(_ path: String, verify: Bool) -> ParquetError? {
        do {
            let reader = try ParquetFileReader(path: path)
            for group in 0..<reader.rowGroupCount {
                _ = try reader.readRows(rowGroup: group, options: ReadOptions(verifyChecksums: verify))
            }
            return nil
        } catch let error as ParquetError {
            return error
        } catch {
            Issue.record("a non-Parquet error escaped: \(error)")
            return nil
        }
    }

    private func checkFooter(_ reader: ParquetFileReader, _ expected: JSONValue, _ name: String) throws {
        #expect(Int(reader.numRows) == expected["num_rows"]?.int, "\(name): num_rows")
        #expect(reader.rowGroupCount == expected["num_row_groups"]?.int, "\(name): num_row_groups")
        let entries = expected["schema"]?.array ?? []
        var nodes: [SchemaNode] = []
        func walk(_ node: SchemaNode) { nodes.append(node); node.children.forEach(walk) }
        reader.schema.fields.forEach(walk)
        #expect(nodes.count == entries.count, "\(name): schema element count")
        for (node, entry) in zip(nodes, entries) {
            let path = entry["path"]?.array?.compactMap(\.string) ?? []
            #expect(node.path == path, "\(name): schema path")
            #expect(node.repetition.description == entry["repetition"]?.string, "\(name): \(path) repetition")
            if entry["kind"]?.string == "leaf" {
                #expect(node.element.type?.description == entry["physical_type"]?.string, "\(name): \(path) physical type")
                #expect(node.maxDefinitionLevel == entry["max_definition_level"]?.int, "\(name): \(path) max definition level")
                #expect(node.maxRepetitionLevel == entry["max_repetition_level"]?.int, "\(name): \(path) max repetition level")
            }
            let converted = entry["converted_type"]?.string
            #expect(node.element.convertedType?.description == converted, "\(name): \(path) converted type")
            if let logical = entry["logical_type"], logical != .null {
                let type = logical["type"]?.string
                #expect(logicalName(node.element.logicalType) == type, "\(name): \(path) logical type")
            } else {
                #expect(node.element.logicalType == nil, "\(name): \(path) has no logical type")
            }
        }
    }

    private func logicalName(_ logical: LogicalType?) -> String? {
        guard let logical else { return nil }
        switch logical {
        case .integer: return "INTEGER"
        case .decimal: return "DECIMAL"
        case .time: return "TIME"
        case .timestamp: return "TIMESTAMP"
        case .unrecognized: return "UNRECOGNIZED"
        default: return logical.description
        }
    }

    private func checkValues(_ rows: [[ParquetValue.Field]], _ expected: JSONValue, _ name: String) throws {
        guard case let .object(columns)? = expected["columns"] else {
            Issue.record("\(name): no expected columns")
            return
        }
        for (column, values) in columns {
            let expectedValues = values.array ?? []
            #expect(expectedValues.count == min(rows.count, 2000), "\(name): \(column) row count")
            for (r, expectedValue) in expectedValues.enumerated() where r < rows.count {
                guard let actual = rows[r].first(where: { $0.name == column })?.value else {
                    Issue.record("\(name): no column \(column)")
                    break
                }
                let want = ExpectedRendering.normalise(expectedValue)
                let got = ExpectedRendering.render(actual)
                if want != got, !int96Matches(actual, expected, column: column, row: r) {
                    Issue.record("\(name): \(column) row \(r): expected \(expectedValue), got \(got)")
                    break
                }
            }
            if let expectedNulls = expected["null_counts"]?[column]?.int {
                let nulls = rows.reduce(0) { $0 + ($1.first { $0.name == column }?.value == .null ? 1 : 0) }
                #expect(nulls == expectedNulls, "\(name): \(column) null count")
            }
        }
    }

    /// INT96 rows whose rendering readers disagree on (see the README's INT96 notes) match on the raw pair.
    private func int96Matches(_ actual: ParquetValue, _ expected: JSONValue, column: String, row: Int) -> Bool {
        guard case let .int96(nanos, day) = actual, let pair = expected["int96_fields"]?[column]?.array?[row].array,
              pair.count == 2 else { return false }
        return pair[0].int == Int(day) && pair[1].int == Int(nanos)
    }
}
