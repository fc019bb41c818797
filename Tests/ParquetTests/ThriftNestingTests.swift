import Foundation
import Testing
@testable import Parquet

/// Footers that nest containers deeply inside a field the reader skips: the depth limit must hold for
/// lists, sets and maps as well as structs, or the recursion overflows the stack.
@Suite("Thrift nesting depth")
struct ThriftNestingTests {
    static let levels = 100_000

    /// FileMetaData with an unknown field 15 holding `levels` lists, each the single element of the one above.
    static var nestedLists: [UInt8] { [0xF9] + [UInt8](repeating: 0x19, count: levels) + [0x00, 0x00] }

    /// The same with maps: each level is one entry, an i32 key (0) and a map value.
    static var nestedMaps: [UInt8] {
        [0xFB] + Array([[UInt8]](repeating: [0x01, 0x5B, 0x00], count: levels).joined()) + [0x00, 0x00]
    }

    /// Lists of structs holding lists, alternating.
    static var nestedMixed: [UInt8] {
        // field 15: list of 1 struct; the struct's field 1 is a list of 1 struct; ...
        [0xF9] + Array([[UInt8]](repeating: [0x1C, 0x19], count: levels / 2).joined()) + [0x00, 0x00]
    }

    static func file(footer: [UInt8]) -> [UInt8] {
        var length = UInt32(footer.count).littleEndian
        return Array("PAR1".utf8) + footer + withUnsafeBytes(of: &length) { Array($0) } + Array("PAR1".utf8)
    }

    @Test("deeply nested containers in a skipped field throw, never overflow the stack",
          arguments: ["lists", "maps", "lists of structs"])
    func deepNesting(_ kind: String) throws {
        let footer = switch kind {
        case "lists": Self.nestedLists
        case "maps": Self.nestedMaps
        default: Self.nestedMixed
        }
        do {
            _ = try ParquetFileReader(source: InMemorySource(name: "deep.parquet", bytes: Self.file(footer: footer)))
            Issue.record("a footer nested \(Self.levels) deep was accepted")
        } catch let error as ParquetError {
            #expect(error.kind == .corruptMetadata)
            #expect(error.location.file == "deep.parquet")
            #expect(error.description.contains("nested deeper than \(ThriftCompactReader.maxDepth)"), "\(error)")
        }
    }

    @Test("nesting within the limit is skipped as before")
    func shallowNesting() throws {
        // Field 15: a list of a list of an empty list, then the struct's stop; the required fields are missing.
        let bytes: [UInt8] = [0xF9, 0x19, 0x19, 0x09, 0x00]
        let error = bytes.withUnsafeBytes { raw -> ParquetError? in
            var reader = ThriftCompactReader(raw)
            do { _ = try FileMetaData(thrift: &reader); return nil } catch { return error as? ParquetError }
        }
        #expect(error?.description.contains("nested") == false, "\(String(describing: error))")
    }
}
