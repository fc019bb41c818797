import Foundation
import Testing
@testable import Parquet

@Suite("ARROW:schema decoding")
struct ArrowSchemaDecodingTests {
    @Test("decodes what pyarrow wrote into the model pyarrow reads", arguments: ArrowSchemaFixtures.all.map(\.name))
    func decodesFixture(name: String) throws {
        let fixture = try #require(ArrowSchemaFixtures.all.first { $0.name == name })
        let schema = try ArrowSchema(ipcSchemaBase64: fixture.base64)
        #expect(schema.fields.count == fixture.expected.fields.count)
        for (decoded, expected) in zip(schema.fields, fixture.expected.fields) {
            #expect(decoded == expected, "field \(expected.name)")
        }
        #expect(schema.metadata == fixture.expected.metadata)
        #expect(schema.endianness == .little)
        #expect(schema == fixture.expected)
    }

    @Test("prints types as pyarrow does", arguments: ArrowSchemaFixtures.all.map(\.name))
    func describesLikePyarrow(name: String) throws {
        let fixture = try #require(ArrowSchemaFixtures.all.first { $0.name == name })
        let schema = try ArrowSchema(ipcSchemaBase64: fixture.base64)
        #expect(schema.fields.map(\.typeDescription) == fixture.pyarrowTypeDescriptions)
    }

    @Test("spot checks of the wide schema")
    func wideSpotChecks() throws {
        let schema = try ArrowSchema(ipcSchemaBase64: ArrowSchemaFixtures.wide().base64)
        #expect(schema.metadataValue("created_by_test") == "arrow helper")
        #expect(schema.metadataValue("empty") == "")
        #expect(schema.metadataValue("absent") == nil)

        let flag = try #require(schema.field(named: "bool_col"))
        #expect(flag.nullable == false)
        #expect(flag.metadataValue("comment") == "ünïcode ✓ \"quoted\" \\ back")
        #expect(flag.description == "bool_col: bool not null")

        #expect(schema.field(named: "ts_us_utc")?.type == .timestamp(.microsecond, timezone: "UTC"))
        #expect(schema.field(named: "ts_s")?.type == .timestamp(.second, timezone: nil))
        #expect(schema.field(named: "time64ns")?.type == .time(.nanosecond, bitWidth: 64))
        #expect(schema.field(named: "date32")?.type == .date(.day))
        #expect(schema.field(named: "dec256")?.type == .decimal(precision: 40, scale: 5, bitWidth: 256))
        #expect(schema.field(named: "fsb7")?.type == .fixedSizeBinary(byteWidth: 7))

        let tensor = try #require(schema.field(named: "fixed_tensor"))
        #expect(tensor.type == .fixedSizeList(listSize: 6))
        #expect(tensor.children.map(\.type) == [.int(bitWidth: 8, signed: false)])
        #expect(tensor.typeDescription == "fixed_size_list<item: uint8>[6]")

        let map = try #require(schema.field(named: "map_col"))
        #expect(map.type == .map(keysSorted: false))
        #expect(map.children.first?.name == "entries")
        #expect(map.children.first?.children.map(\.name) == ["key", "value"])

        // Arrow numbers dictionaries in field order.
        if case .dictionary(let id, 16, false, true, .utf8)? = schema.field(named: "dict_ordered")?.type {
            #expect(id == 1)
        } else {
            Issue.record("dict_ordered is not an ordered uint16 dictionary of strings")
        }
    }

    @Test("legacy framing without the continuation marker")
    func legacyFraming() throws {
        let bytes = try #require(Data(base64Encoded: ArrowSchemaFixtures.legacy().base64))
        #expect(Array(bytes.prefix(4)) != [0xFF, 0xFF, 0xFF, 0xFF])
        let schema = try ArrowSchema(ipcSchemaMessage: [UInt8](bytes))
        #expect(schema.fields.map(\.name) == ["id", "pixels"])
    }

    @Test("base64 without its = padding is accepted")
    func unpaddedBase64() throws {
        let fixture = ArrowSchemaFixtures.exotic()
        let trimmed = String(fixture.base64.reversed().drop { $0 == "=" }.reversed())
        #expect(try ArrowSchema(ipcSchemaBase64: trimmed) == fixture.expected)
    }

    @Test("rejects invalid base64")
    func invalidBase64() {
        expectArrowSchemaCorrupt { _ = try ArrowSchema(ipcSchemaBase64: "not base64 at all!") }
        expectArrowSchemaCorrupt { _ = try ArrowSchema(ipcSchemaBase64: "") }
    }

    @Test("rejects a RecordBatch message")
    func wrongMessageType() {
        let error = expectArrowSchemaCorrupt { _ = try ArrowSchema(ipcSchemaBase64: ArrowSchemaFixtures.recordBatchMessage) }
        #expect(error?.message.contains("RecordBatch") == true)
    }

    @Test("rejects truncated messages and lengths that overrun")
    func truncatedMessages() throws {
        let bytes = try #require(Data(base64Encoded: ArrowSchemaFixtures.wide().base64)).map { $0 }
        expectArrowSchemaCorrupt { _ = try ArrowSchema(ipcSchemaMessage: []) }
        expectArrowSchemaCorrupt { _ = try ArrowSchema(ipcSchemaMessage: Array(bytes.prefix(6))) }
        expectArrowSchemaCorrupt { _ = try ArrowSchema(ipcSchemaMessage: Array(bytes.prefix(bytes.count / 2))) }
        // The end-of-stream marker: a zero length.
        expectArrowSchemaCorrupt { _ = try ArrowSchema(ipcSchemaMessage: [0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0]) }
        // A negative length.
        expectArrowSchemaCorrupt { _ = try ArrowSchema(ipcSchemaMessage: [0xFF, 0xFF, 0xFF, 0xFF, 0xF0, 0xFF, 0xFF, 0xFF, 0, 0]) }
    }

    @Test("rejects a root offset, vtable or table outside the buffer")
    func outOfBoundsStructure() throws {
        let bytes = try #require(Data(base64Encoded: ArrowSchemaFixtures.legacy().base64)).map { $0 }
        let flatbufferStart = 4  // legacy framing: length, then the flatbuffer
        var rootPastEnd = bytes
        rootPastEnd.replaceSubrange(flatbufferStart..<(flatbufferStart + 4), with: [0xF0, 0xFF, 0xFF, 0x7F])
        expectArrowSchemaCorrupt { _ = try ArrowSchema(ipcSchemaMessage: rootPastEnd) }

        // Point the root table's soffset far before the buffer start.
        let root = Int(bytes[flatbufferStart]) | Int(bytes[flatbufferStart + 1]) << 8
        var vtableBeforeStart = bytes
        vtableBeforeStart.replaceSubrange((flatbufferStart + root)..<(flatbufferStart + root + 4), with: [0x00, 0x00, 0x00, 0x70])
        expectArrowSchemaCorrupt { _ = try ArrowSchema(ipcSchemaMessage: vtableBeforeStart) }

        // A vtable claiming more slots than the buffer holds.
        let soffset = Int(Int32(bitPattern: UInt32(bytes[flatbufferStart + root]) | UInt32(bytes[flatbufferStart + root + 1]) << 8
            | UInt32(bytes[flatbufferStart + root + 2]) << 16 | UInt32(bytes[flatbufferStart + root + 3]) << 24))
        let vtable = flatbufferStart + root - soffset
        var hugeVtable = bytes
        hugeVtable[vtable] = 0xFE
        hugeVtable[vtable + 1] = 0xFF
        expectArrowSchemaCorrupt { _ = try ArrowSchema(ipcSchemaMessage: hugeVtable) }

        // A vtable placing a field beyond the table's inline size.
        var fieldOutside = bytes
        fieldOutside[vtable + 4] = 0xF0  // slot 0 (version) offset
        fieldOutside[vtable + 5] = 0x00
        expectArrowSchemaCorrupt { _ = try ArrowSchema(ipcSchemaMessage: fieldOutside) }
    }

    @Test("rejects a metadata version before V4 as unsupported")
    func oldMetadataVersion() throws {
        var schemaMessage = ArrowSchema(fields: [ArrowField(name: "x", type: .bool)]).ipcSchemaMessage()
        let flatbuffer = Array(schemaMessage[8...])
        // Find the version field through the vtable and set it to V3 (2).
        let reader = FlatBufferReader(flatbuffer, context: "test")
        let message = try reader.rootTable()
        let versionAt = try #require(try message.fieldPosition(ArrowFlatbuf.MessageSlot.version, size: 2))
        schemaMessage[8 + versionAt] = 2
        schemaMessage[8 + versionAt + 1] = 0
        #expect(throws: ParquetError.self) { _ = try ArrowSchema(ipcSchemaMessage: schemaMessage) }
        do {
            _ = try ArrowSchema(ipcSchemaMessage: schemaMessage)
        } catch let error as ParquetError {
            #expect(error.kind == .unsupported)
        }
    }

    @Test("shared references cannot blow up the decoded schema")
    func sharedReferenceBomb() throws {
        // A field whose children vector lists the same child table many times, nested: a small
        // buffer that would expand exponentially if the decoder did not budget tables.
        var builder = FlatBufferBuilder()
        let root = builder.startRoot()
        let message = builder.table([(ArrowFlatbuf.MessageSlot.version, .int16(4)),
                                     (ArrowFlatbuf.MessageSlot.headerType, .uint8(1)),
                                     (ArrowFlatbuf.MessageSlot.header, .reference)])
        builder.patchReference(at: root, to: message.position)
        let schema = builder.table([(ArrowFlatbuf.SchemaSlot.fields, .reference)])
        builder.patchReference(at: try #require(message.references[ArrowFlatbuf.MessageSlot.header]), to: schema.position)
        var pending = try #require(schema.references[ArrowFlatbuf.SchemaSlot.fields])
        for _ in 0..<40 {
            let vector = builder.referenceVector(count: 16)
            builder.patchReference(at: pending, to: vector.position)
            let field = builder.table([(ArrowFlatbuf.FieldSlot.typeType, .uint8(ArrowFlatbuf.TypeID.structType)),
                                       (ArrowFlatbuf.FieldSlot.children, .reference)])
            for element in vector.elements {
                builder.patchReference(at: element, to: field.position)
            }
            pending = try #require(field.references[ArrowFlatbuf.FieldSlot.children])
        }
        let leaf = builder.referenceVector(count: 0)
        builder.patchReference(at: pending, to: leaf.position)
        let error = expectArrowSchemaCorrupt { _ = try ArrowSchema(ipcSchemaMessage: ArrowIPCSchemaMessage.frame(builder.bytes)) }
        #expect(error?.message.contains("more tables") == true)
    }

    @Test("rejects a field without a type and a list without its child")
    func structuralErrors() {
        let noType = ArrowSchema(fields: [ArrowField(name: "x", type: .unknown(typeID: 0))]).ipcSchemaMessage()
        let error = expectArrowSchemaCorrupt { _ = try ArrowSchema(ipcSchemaMessage: noType) }
        #expect(error?.message.contains("no type") == true)

        let childless = ArrowSchema(fields: [ArrowField(name: "l", type: .list)]).ipcSchemaMessage()
        expectArrowSchemaCorrupt { _ = try ArrowSchema(ipcSchemaMessage: childless) }

        let badInt = ArrowSchema(fields: [ArrowField(name: "i", type: .int(bitWidth: 12, signed: true))]).ipcSchemaMessage()
        expectArrowSchemaCorrupt { _ = try ArrowSchema(ipcSchemaMessage: badInt) }

        let badUnion = ArrowSchema(fields: [ArrowField(name: "u", type: .union(mode: .dense, typeIds: [1, 2]),
                                                       children: [ArrowField(name: "a", type: .bool)])]).ipcSchemaMessage()
        expectArrowSchemaCorrupt { _ = try ArrowSchema(ipcSchemaMessage: badUnion) }
    }
}

/// Runs `body`, expecting a `ParquetError(.corruptMetadata)` whose message starts with "ARROW:schema:".
@discardableResult
func expectArrowSchemaCorrupt(sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) -> ParquetError? {
    do {
        try body()
        Issue.record("expected a corruptMetadata error", sourceLocation: sourceLocation)
    } catch let error as ParquetError {
        #expect(error.kind == .corruptMetadata, "\(error)", sourceLocation: sourceLocation)
        #expect(error.message.hasPrefix("ARROW:schema: "), "\(error)", sourceLocation: sourceLocation)
        return error
    } catch {
        Issue.record("unexpected error type: \(error)", sourceLocation: sourceLocation)
    }
    return nil
}
