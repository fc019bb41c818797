import Foundation
import Testing
@testable import Parquet

@Suite("ARROW:schema encoding")
struct ArrowSchemaEncodingTests {
    /// A schema with every `ArrowType` case, including the ones pyarrow's Parquet writer refuses.
    static func everyType() -> ArrowSchema {
        func leaf(_ name: String, _ type: ArrowType, nullable: Bool = true) -> ArrowField {
            ArrowField(name: name, nullable: nullable, type: type)
        }
        var fields: [ArrowField] = [
            leaf("null", .null), leaf("bool", .bool, nullable: false),
            leaf("i8", .int(bitWidth: 8, signed: true)), leaf("u64", .int(bitWidth: 64, signed: false)),
            leaf("half", .floatingPoint(.half)), leaf("single", .floatingPoint(.single)), leaf("double", .floatingPoint(.double)),
            leaf("binary", .binary), leaf("large_binary", .largeBinary), leaf("utf8", .utf8), leaf("large_utf8", .largeUtf8),
            leaf("fsb", .fixedSizeBinary(byteWidth: 16)),
            leaf("dec32", .decimal(precision: 7, scale: 2, bitWidth: 32)),
            leaf("dec128", .decimal(precision: 38, scale: -3, bitWidth: 128)),
            leaf("date_day", .date(.day)), leaf("date_ms", .date(.millisecond)),
            leaf("time_s", .time(.second, bitWidth: 32)), leaf("time_ns", .time(.nanosecond, bitWidth: 64)),
            leaf("ts_naive", .timestamp(.millisecond, timezone: nil)),
            leaf("ts_tz", .timestamp(.nanosecond, timezone: "Europe/Paris")),
            leaf("dur", .duration(.microsecond)),
            leaf("interval_ym", .interval(.yearMonth)), leaf("interval_dt", .interval(.dayTime)),
            leaf("interval_mdn", .interval(.monthDayNano)),
            leaf("binary_view", .binaryView), leaf("utf8_view", .utf8View),
        ]
        let item = leaf("item", .floatingPoint(.single))
        fields += [
            ArrowField(name: "list", type: .list, children: [item]),
            ArrowField(name: "large_list", type: .largeList, children: [item]),
            ArrowField(name: "list_view", type: .listView, children: [item]),
            ArrowField(name: "large_list_view", type: .largeListView, children: [item]),
            ArrowField(name: "fsl", type: .fixedSizeList(listSize: 3), children: [item]),
            ArrowField(name: "struct", type: .structType, children: [leaf("a", .int(bitWidth: 16, signed: true)), leaf("b", .utf8, nullable: false)]),
            ArrowField(name: "map", type: .map(keysSorted: true), children: [
                ArrowField(name: "entries", nullable: false, type: .structType, children: [
                    leaf("key", .utf8, nullable: false), leaf("value", .int(bitWidth: 32, signed: true)),
                ]),
            ]),
            ArrowField(name: "sparse_union", type: .union(mode: .sparse, typeIds: [3, 9]),
                       children: [leaf("x", .bool), leaf("y", .utf8)]),
            ArrowField(name: "dense_union", type: .union(mode: .dense, typeIds: [0, 1]),
                       children: [leaf("x", .bool), leaf("y", .utf8)]),
            ArrowField(name: "ree", type: .runEndEncoded,
                       children: [leaf("run_ends", .int(bitWidth: 16, signed: true), nullable: false), leaf("values", .floatingPoint(.double))]),
            ArrowField(name: "dictionary", type: .dictionary(id: 0, indexBitWidth: 8, indexSigned: false, ordered: true, valueType: .utf8)),
            ArrowField(name: "dictionary_of_list",
                       type: .dictionary(id: 1, indexBitWidth: 32, indexSigned: true, ordered: false, valueType: .list),
                       children: [item]),
            ArrowField(name: "tensor", type: .fixedSizeList(listSize: 6), children: [leaf("item", .int(bitWidth: 8, signed: false))],
                       metadata: [ArrowKeyValue(key: "ARROW:extension:name", value: "arrow.fixed_shape_tensor"),
                                  ArrowKeyValue(key: "ARROW:extension:metadata", value: #"{"shape":[2,3]}"#)]),
            ArrowField(name: "", type: .binary, metadata: [ArrowKeyValue(key: "binary", valueBytes: [0x80, 0x00, 0xFF])]),
        ]
        return ArrowSchema(fields: fields, metadata: [ArrowKeyValue(key: "k", value: "v"), ArrowKeyValue(key: "", value: "")])
    }

    @Test("encode then decode returns the fixtures unchanged", arguments: ArrowSchemaFixtures.all.map(\.name))
    func roundTripsFixture(name: String) throws {
        let fixture = try #require(ArrowSchemaFixtures.all.first { $0.name == name })
        let encoded = fixture.expected.ipcSchemaBase64()
        #expect(try ArrowSchema(ipcSchemaBase64: encoded) == fixture.expected)
    }

    @Test("encode then decode returns every type unchanged")
    func roundTripsEveryType() throws {
        // Plus a union member this reader does not know (which pyarrow could not read).
        var schema = ArrowSchemaEncodingTests.everyType()
        schema.fields.append(ArrowField(name: "future", type: .unknown(typeID: 42)))
        #expect(try ArrowSchema(ipcSchemaBase64: schema.ipcSchemaBase64()) == schema)
        var bigEndian = ArrowSchemaEncodingTests.everyType()
        bigEndian.endianness = .big
        #expect(try ArrowSchema(ipcSchemaMessage: bigEndian.ipcSchemaMessage()) == bigEndian)
        let empty = ArrowSchema(fields: [])
        #expect(try ArrowSchema(ipcSchemaMessage: empty.ipcSchemaMessage()) == empty)
    }

    @Test("frames the message as pyarrow does: marker, length, flatbuffer padded to 8")
    func framing() throws {
        let message = ArrowSchemaEncodingTests.everyType().ipcSchemaMessage()
        #expect(Array(message.prefix(4)) == [0xFF, 0xFF, 0xFF, 0xFF])
        let length = Int(message[4]) | Int(message[5]) << 8 | Int(message[6]) << 16 | Int(message[7]) << 24
        #expect(length == message.count - 8)
        #expect(message.count % 8 == 0)
    }

    @Test("the builder aligns scalars, vectors and strings as the flatbuffers verifier requires")
    func alignment() throws {
        let flatbuffer = ArrowSchemaEncoder.flatbuffer(for: ArrowSchemaEncodingTests.everyType())
        let reader = FlatBufferReader(flatbuffer, context: "test")
        let message = try reader.rootTable()
        #expect(message.position % 8 == 0)  // holds an 8-byte bodyLength
        let bodyLength = try #require(try message.fieldPosition(ArrowFlatbuf.MessageSlot.bodyLength, size: 8))
        #expect(bodyLength % 8 == 0)
        #expect(message.vtable % 2 == 0)
        let schema = try #require(try message.table(ArrowFlatbuf.MessageSlot.header))
        let fields = try #require(try schema.vector(ArrowFlatbuf.SchemaSlot.fields, elementSize: 4))
        #expect((fields.start - 4) % 4 == 0)
        for index in 0..<fields.count {
            let field = try fields.table(at: index)
            #expect(field.position % 4 == 0)
            if let name = try field.fieldPosition(ArrowFlatbuf.FieldSlot.name, size: 4) {
                #expect(try reader.followOffset(at: name) % 4 == 0)
            }
        }
    }

    /// Writes what Swift encodes for the Python cross-check (scripts/check_swift_encoded_schemas.py):
    /// `ARROW_SCHEMA_DUMP=/tmp/swift_schemas.tsv swift test --filter ArrowSchemaEncodingTests`.
    @Test("dump encoded schemas for the pyarrow cross-check", .enabled(if: ProcessInfo.processInfo.environment["ARROW_SCHEMA_DUMP"] != nil))
    func dumpForPyarrow() throws {
        let path = try #require(ProcessInfo.processInfo.environment["ARROW_SCHEMA_DUMP"])
        var lines: [String] = []
        for fixture in ArrowSchemaFixtures.all {
            lines.append("fixture\t\(fixture.name)\t\(fixture.base64)\t\(fixture.expected.ipcSchemaBase64())")
        }
        let everyType = ArrowSchemaEncodingTests.everyType()
        lines.append("everyType\teveryType\t\(everyType.ipcSchemaBase64())")
        for field in everyType.fields {
            lines.append("description\t\(field.name)\t\(field.typeDescription)\t\(field.nullable)")
        }
        try lines.joined(separator: "\n").appending("\n").write(toFile: path, atomically: true, encoding: .utf8)
    }
}

