import Foundation
import Testing
@testable import Parquet

/// Files written by our writer and read back by our reader, for every type, encoding and codec the writer
/// offers. (That pyarrow reads them too is checked in WrittenFilesReadByPyarrowTests.)
@Suite("Writer round trips")
struct WriterRoundTripTests {
    static let codecs: [CompressionCodec] = [.uncompressed, .snappy, .gzip, .zstd, .lz4Raw]

    struct Setting: CustomTestStringConvertible, Sendable {
        let codec: CompressionCodec
        let dictionary: Bool
        let pageSize: Int
        var testDescription: String { "\(codec), \(dictionary ? "dictionary" : "plain"), pages of \(pageSize) B" }
    }

    static let settings: [Setting] = codecs.flatMap { codec in
        [true, false].map { Setting(codec: codec, dictionary: $0, pageSize: $0 ? 1 << 20 : 64) }
    }

    static let rowCount = 300

    static var fields: [FieldSpec] {
        [
            .primitive(name: "flag", type: .boolean, nullable: false),
            .primitive(name: "i32", type: .int32, nullable: true),
            .primitive(name: "i64", type: .int64, nullable: false),
            .primitive(name: "u8", type: .int32, logical: .integer(bitWidth: 8, isSigned: false), nullable: false),
            .primitive(name: "u64", type: .int64, logical: .integer(bitWidth: 64, isSigned: false), nullable: false),
            .primitive(name: "f32", type: .float, nullable: false),
            .primitive(name: "f64", type: .double, nullable: true),
            .string("name"),
            .primitive(name: "blob", type: .byteArray, nullable: true),
            .primitive(name: "fixed", type: .fixedLenByteArray, typeLength: 3, nullable: false),
            .primitive(name: "price", type: .int64, logical: .decimal(precision: 12, scale: 2), nullable: false),
            .primitive(name: "day", type: .int32, logical: .date, nullable: false),
            .primitive(name: "at", type: .int64, logical: .timestamp(isAdjustedToUTC: true, unit: .micros), nullable: false),
            .list(name: "scores", element: .primitive(name: "element", type: .float, nullable: true)),
            .group(name: "point", fields: [.primitive(name: "x", type: .int32, nullable: false), .string("label")]),
        ]
    }

    /// Deterministic rows with nulls, empty and null lists, extremes and non-ASCII text.
    static func columns() -> [ColumnWriteData] {
        let n = rowCount
        let rows = Array(0..<n)
        func maybe<T>(_ i: Int, _ value: T) -> T? { i % 7 == 3 ? nil : value }
        return [
            .required(.boolean(rows.map { $0 % 3 == 0 })),
            .optional(rows.map { maybe($0, Int32($0 % 11) * (($0 % 2 == 0) ? 1 : -1)) }) { .int32($0) },
            .required(.int64(rows.map { $0 == 0 ? Int64.min : ($0 == 1 ? Int64.max : Int64($0) * 1_000_000_007) })),
            .required(.int32(rows.map { Int32($0 % 256) })),
            .required(.int64(rows.map { Int64(bitPattern: UInt64.max - UInt64($0 % 5)) })),
            .required(.float(rows.map { $0 == 0 ? -0.0 : ($0 == 1 ? .infinity : Float($0) / 8) })),
            .optional(rows.map { maybe($0, Double($0) * 0.1) }) { .double($0) },
            .optional(rows.map { maybe($0, "naïve-\($0 % 13) 🚀") }) { .byteArray(BinaryValues(strings: $0)) },
            .optional(rows.map { maybe($0, [UInt8]((0..<($0 % 5)).map { UInt8($0) })) }) { .byteArray(BinaryValues($0)) },
            .required(.fixedLenByteArray(BinaryValues(rows.map { [UInt8($0 % 256), 1, 2] }))),
            .required(.int64(rows.map { Int64($0) * 101 - 5000 })),
            .required(.int32(rows.map { Int32($0) - 100 })),
            .required(.int64(rows.map { Int64($0) * 3_600_000_000 })),
            .lists(rows.map { i -> [Float?]? in
                switch i % 5 {
                case 0: nil
                case 1: []
                default: (0..<(i % 4 + 1)).map { $0 == 1 ? nil : Float(i + $0) }
                }
            }) { .float($0) },
            ColumnWriteData(values: .int32(rows.filter { $0 % 6 != 0 }.map(Int32.init)), definitionLevels: rows.map { $0 % 6 == 0 ? 0 : 1 }),
            ColumnWriteData(values: .byteArray(BinaryValues(strings: rows.filter { $0 % 6 != 0 && $0 % 4 != 0 }.map { "p\($0)" })),
                            definitionLevels: rows.map { $0 % 6 == 0 ? 0 : ($0 % 4 == 0 ? 1 : 2) }),
        ]
    }

    /// The rows the columns above describe, as the reader should return them.
    static func expectedRows() -> [[ParquetValue.Field]] {
        (0..<rowCount).map { i in
            func maybe(_ value: ParquetValue) -> ParquetValue { i % 7 == 3 ? .null : value }
            let scores: ParquetValue = switch i % 5 {
            case 0: .null
            case 1: .list([])
            default: .list((0..<(i % 4 + 1)).map { $0 == 1 ? .null : .float(Float(i + $0)) })
            }
            let point: ParquetValue = i % 6 == 0 ? .null : .record([
                .init(name: "x", value: .int(Int64(i))),
                .init(name: "label", value: i % 4 == 0 ? .null : .string("p\(i)")),
            ])
            return [
                .init(name: "flag", value: .bool(i % 3 == 0)),
                .init(name: "i32", value: maybe(.int(Int64(i % 11) * ((i % 2 == 0) ? 1 : -1)))),
                .init(name: "i64", value: .int(i == 0 ? Int64.min : (i == 1 ? Int64.max : Int64(i) * 1_000_000_007))),
                .init(name: "u8", value: .uint(UInt64(i % 256))),
                .init(name: "u64", value: .uint(UInt64.max - UInt64(i % 5))),
                .init(name: "f32", value: .float(i == 0 ? -0.0 : (i == 1 ? .infinity : Float(i) / 8))),
                .init(name: "f64", value: maybe(.double(Double(i) * 0.1))),
                .init(name: "name", value: maybe(.string("naïve-\(i % 13) 🚀"))),
                .init(name: "blob", value: maybe(.bytes((0..<(i % 5)).map { UInt8($0) }))),
                .init(name: "fixed", value: .bytes([UInt8(i % 256), 1, 2])),
                .init(name: "price", value: .decimal(formatDecimal(unscaled: Int64(i) * 101 - 5000, scale: 2))),
                .init(name: "day", value: .date(days: Int32(i) - 100)),
                .init(name: "at", value: .timestamp(Int64(i) * 3_600_000_000, .micros, isAdjustedToUTC: true)),
                .init(name: "scores", value: scores),
                .init(name: "point", value: point),
            ]
        }
    }

    static func write(_ setting: Setting, rowGroups: Int = 2) throws -> [UInt8] {
        var options = WriterOptions()
        options.codec = setting.codec
        options.dictionary = setting.dictionary
        options.dataPageSize = setting.pageSize
        let sink = InMemorySink()
        let writer = try ParquetFileWriter(sink: sink, fields: fields, options: options)
        for _ in 0..<rowGroups { try writer.writeRowGroup(rows: rowCount, columns: columns()) }
        try writer.close()
        return sink.bytes
    }

    @Test("every type reads back as written", arguments: settings)
    func roundTrip(_ setting: Setting) throws {
        let reader = try ParquetFileReader(source: InMemorySource(bytes: try Self.write(setting)))
        #expect(reader.rowGroupCount == 2)
        #expect(reader.numRows == Int64(2 * Self.rowCount))
        let expected = Self.expectedRows()
        for group in 0..<2 {
            let rows = try reader.readRows(rowGroup: group, options: ReadOptions(verifyChecksums: true))
            #expect(rows.count == expected.count)
            for (r, (got, want)) in zip(rows, expected).enumerated() where got != want {
                Issue.record("row \(r): got \(got), expected \(want)")
                break
            }
            let encodings = reader.metadata.rowGroups[group].columns.compactMap(\.metaData).flatMap(\.encodings)
            #expect(encodings.contains(.rleDictionary) == setting.dictionary)
            #expect(reader.metadata.rowGroups[group].columns.allSatisfy { $0.metaData?.codec == setting.codec })
        }
        if !setting.dictionary {
            let pages = try pageCount(reader, column: 1)
            #expect(pages > 10, "small page size gives many pages (\(pages))")
        }
    }

    private func pageCount(_ reader: ParquetFileReader, column: Int) throws -> Int {
        let (_, start, length) = try reader.chunkRange(rowGroup: 0, column: column)
        var stream = PageStream(source: reader.source, start: start, length: length)
        var pages = 0
        while !stream.isAtEnd { try stream.nextPage { _, _ in pages += 1 } }
        return pages
    }

    @Test("tensors written from bytes read back byte for byte, with their shape", arguments: TensorLayout.allCases)
    func tensorRoundTrip(_ layout: TensorLayout) throws {
        let shape = [5, 4, 3], perRow = 60, rows = 37
        var pixels = [UInt8](repeating: 0, count: rows * perRow)
        var state: UInt32 = 12345
        for i in pixels.indices {
            state = state &* 1_103_515_245 &+ 12345
            pixels[i] = UInt8(truncatingIfNeeded: state >> 16)
        }
        var options = WriterOptions()
        options.dataPageSize = 500  // several rows per page, pages not aligned to anything in particular
        let sink = InMemorySink()
        let writer = try ParquetFileWriter(sink: sink, fields: [.tensor(name: "image", element: .uint8, shape: shape, layout: layout)], options: options)
        try pixels.withUnsafeBytes { try writer.writeTensorRowGroup(UnsafeRawBufferPointer(rebasing: $0[0..<20 * perRow]), rows: 20) }
        try pixels.withUnsafeBytes { try writer.writeTensorRowGroup(UnsafeRawBufferPointer(rebasing: $0[20 * perRow..<rows * perRow]), rows: rows - 20) }
        try writer.close()

        let reader = try ParquetFileReader(source: InMemorySource(bytes: sink.bytes))
        let tensors = try TensorColumnReader(file: reader, column: "image")
        #expect(tensors.shape == shape)
        #expect(tensors.element == .uint8)
        var read: [UInt8] = []
        var batches = 0
        while let batch = try tensors.next(targetRows: 8) {
            #expect(batch.validity.allSatisfy { $0 })
            #expect(batch.firstRow == read.count / perRow)
            read += Array(batch.bytes)
            batches += 1
        }
        #expect(read == pixels)
        #expect(batches >= 4)
        // The general reader agrees on the first rows.
        let rowsRead = try reader.readRows(rowGroup: 0)
        #expect(rowsRead[2].first?.value == .list(pixels[2 * perRow..<3 * perRow].map { .uint(UInt64($0)) }))
    }
}
