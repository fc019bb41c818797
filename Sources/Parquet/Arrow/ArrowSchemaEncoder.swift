/// Encodes an `ArrowSchema` as a flatbuffer `Message` (metadata version V5) whose header is a
/// `Schema`, laid out so that Arrow's flatbuffer verifier accepts it.
enum ArrowSchemaEncoder {
    typealias Slot = ArrowFlatbuf

    static func flatbuffer(for schema: ArrowSchema) -> [UInt8] {
        var builder = FlatBufferBuilder()
        let root = builder.startRoot()
        let message = builder.table([
            (Slot.MessageSlot.version, .int16(Slot.MetadataVersion.v5)),
            (Slot.MessageSlot.headerType, .uint8(Slot.MessageHeader.schema)),
            (Slot.MessageSlot.header, .reference),
            (Slot.MessageSlot.bodyLength, .int64(0)),
        ])
        builder.patchReference(at: root, to: message.position)
        let header = writeSchema(schema, into: &builder)
        patch(message.references, Slot.MessageSlot.header, to: header, in: &builder)
        return builder.bytes
    }

    private static func patch(_ references: [Int: Int], _ slot: Int, to target: Int, in builder: inout FlatBufferBuilder) {
        if let field = references[slot] {
            builder.patchReference(at: field, to: target)
        }
    }

    private static func writeSchema(_ schema: ArrowSchema, into builder: inout FlatBufferBuilder) -> Int {
        var fields: [(slot: Int, value: FlatBufferBuilder.Field)] = [
            (Slot.SchemaSlot.endianness, .int16(schema.endianness == .little ? 0 : 1)),
            (Slot.SchemaSlot.fields, .reference),
        ]
        if !schema.metadata.isEmpty {
            fields.append((Slot.SchemaSlot.customMetadata, .reference))
        }
        let table = builder.table(fields)
        patch(table.references, Slot.SchemaSlot.fields, to: writeFields(schema.fields, into: &builder), in: &builder)
        if !schema.metadata.isEmpty {
            patch(table.references, Slot.SchemaSlot.customMetadata,
                  to: writeKeyValues(schema.metadata, into: &builder), in: &builder)
        }
        return table.position
    }

    private static func writeFields(_ fields: [ArrowField], into builder: inout FlatBufferBuilder) -> Int {
        let vector = builder.referenceVector(count: fields.count)
        for (element, field) in zip(vector.elements, fields) {
            builder.patchReference(at: element, to: writeField(field, into: &builder))
        }
        return vector.position
    }

    private static func writeKeyValues(_ entries: [ArrowKeyValue], into builder: inout FlatBufferBuilder) -> Int {
        let vector = builder.referenceVector(count: entries.count)
        for (element, entry) in zip(vector.elements, entries) {
            let table = builder.table([(Slot.KeyValueSlot.key, .reference), (Slot.KeyValueSlot.value, .reference)])
            builder.patchReference(at: element, to: table.position)
            patch(table.references, Slot.KeyValueSlot.key, to: builder.string(Array(entry.key.utf8)), in: &builder)
            patch(table.references, Slot.KeyValueSlot.value, to: builder.string(entry.valueBytes), in: &builder)
        }
        return vector.position
    }

    private static func writeField(_ field: ArrowField, into builder: inout FlatBufferBuilder) -> Int {
        // Arrow stores a dictionary-encoded field as its value type plus a DictionaryEncoding.
        var valueType = field.type
        var dictionary: (id: Int64, indexBitWidth: Int, indexSigned: Bool, ordered: Bool)?
        while case .dictionary(let id, let indexBitWidth, let indexSigned, let ordered, let inner) = valueType {
            dictionary = dictionary ?? (id, indexBitWidth, indexSigned, ordered)
            valueType = inner
        }
        var fields: [(slot: Int, value: FlatBufferBuilder.Field)] = [
            (Slot.FieldSlot.name, .reference),
            (Slot.FieldSlot.nullable, .bool(field.nullable)),
            (Slot.FieldSlot.typeType, .uint8(typeID(of: valueType))),
            (Slot.FieldSlot.type, .reference),
            // Arrow's reader requires the children vector even when it is empty.
            (Slot.FieldSlot.children, .reference),
        ]
        if dictionary != nil {
            fields.append((Slot.FieldSlot.dictionary, .reference))
        }
        if !field.metadata.isEmpty {
            fields.append((Slot.FieldSlot.customMetadata, .reference))
        }
        let table = builder.table(fields)
        patch(table.references, Slot.FieldSlot.name, to: builder.string(Array(field.name.utf8)), in: &builder)
        patch(table.references, Slot.FieldSlot.type, to: writeTypeTable(valueType, into: &builder), in: &builder)
        if let dictionary {
            let encoding = builder.table([
                (Slot.DictionaryEncodingSlot.id, .int64(dictionary.id)),
                (Slot.DictionaryEncodingSlot.indexType, .reference),
                (Slot.DictionaryEncodingSlot.isOrdered, .bool(dictionary.ordered)),
            ])
            let index = writeTypeTable(.int(bitWidth: dictionary.indexBitWidth, signed: dictionary.indexSigned), into: &builder)
            patch(encoding.references, Slot.DictionaryEncodingSlot.indexType, to: index, in: &builder)
            patch(table.references, Slot.FieldSlot.dictionary, to: encoding.position, in: &builder)
        }
        patch(table.references, Slot.FieldSlot.children, to: writeFields(field.children, into: &builder), in: &builder)
        if !field.metadata.isEmpty {
            patch(table.references, Slot.FieldSlot.customMetadata,
                  to: writeKeyValues(field.metadata, into: &builder), in: &builder)
        }
        return table.position
    }

    private static func typeID(of type: ArrowType) -> UInt8 {
        typealias ID = ArrowFlatbuf.TypeID
        switch type {
        case .null: return ID.null
        case .bool: return ID.bool
        case .int: return ID.int
        case .floatingPoint: return ID.floatingPoint
        case .binary: return ID.binary
        case .largeBinary: return ID.largeBinary
        case .utf8: return ID.utf8
        case .largeUtf8: return ID.largeUtf8
        case .fixedSizeBinary: return ID.fixedSizeBinary
        case .decimal: return ID.decimal
        case .date: return ID.date
        case .time: return ID.time
        case .timestamp: return ID.timestamp
        case .duration: return ID.duration
        case .interval: return ID.interval
        case .list: return ID.list
        case .largeList: return ID.largeList
        case .fixedSizeList: return ID.fixedSizeList
        case .structType: return ID.structType
        case .map: return ID.map
        case .union: return ID.union
        case .binaryView: return ID.binaryView
        case .utf8View: return ID.utf8View
        case .listView: return ID.listView
        case .largeListView: return ID.largeListView
        case .runEndEncoded: return ID.runEndEncoded
        case .dictionary(_, _, _, _, let valueType): return typeID(of: valueType)
        case .unknown(let typeID): return UInt8(clamping: typeID)
        }
    }

    /// Writes the table of the `Type` union member for `type`; returns its position.
    private static func writeTypeTable(_ type: ArrowType, into builder: inout FlatBufferBuilder) -> Int {
        typealias S = ArrowFlatbuf
        func int32(_ value: Int) -> FlatBufferBuilder.Field { .int32(Int32(clamping: value)) }
        switch type {
        case .int(let bitWidth, let signed):
            return builder.table([(S.IntSlot.bitWidth, int32(bitWidth)), (S.IntSlot.isSigned, .bool(signed))]).position
        case .floatingPoint(let precision):
            return builder.table([(S.FloatingPointSlot.precision, .int16(precision.flatbufferValue))]).position
        case .fixedSizeBinary(let byteWidth):
            return builder.table([(S.FixedSizeBinarySlot.byteWidth, int32(byteWidth))]).position
        case .decimal(let precision, let scale, let bitWidth):
            return builder.table([(S.DecimalSlot.precision, int32(precision)), (S.DecimalSlot.scale, int32(scale)),
                                  (S.DecimalSlot.bitWidth, int32(bitWidth))]).position
        case .date(let unit):
            return builder.table([(S.DateSlot.unit, .int16(unit.flatbufferValue))]).position
        case .time(let unit, let bitWidth):
            return builder.table([(S.TimeSlot.unit, .int16(unit.flatbufferValue)), (S.TimeSlot.bitWidth, int32(bitWidth))]).position
        case .timestamp(let unit, let timezone):
            guard let timezone else {
                return builder.table([(S.TimestampSlot.unit, .int16(unit.flatbufferValue))]).position
            }
            let table = builder.table([(S.TimestampSlot.unit, .int16(unit.flatbufferValue)), (S.TimestampSlot.timezone, .reference)])
            patch(table.references, S.TimestampSlot.timezone, to: builder.string(Array(timezone.utf8)), in: &builder)
            return table.position
        case .duration(let unit):
            return builder.table([(S.DurationSlot.unit, .int16(unit.flatbufferValue))]).position
        case .interval(let unit):
            return builder.table([(S.IntervalSlot.unit, .int16(unit.flatbufferValue))]).position
        case .fixedSizeList(let listSize):
            return builder.table([(S.FixedSizeListSlot.listSize, int32(listSize))]).position
        case .map(let keysSorted):
            return builder.table([(S.MapSlot.keysSorted, .bool(keysSorted))]).position
        case .union(let mode, let typeIds):
            guard let typeIds else {
                return builder.table([(S.UnionSlot.mode, .int16(mode.flatbufferValue))]).position
            }
            let table = builder.table([(S.UnionSlot.mode, .int16(mode.flatbufferValue)), (S.UnionSlot.typeIds, .reference)])
            patch(table.references, S.UnionSlot.typeIds,
                  to: builder.int32Vector(typeIds.map { Int32(clamping: $0) }), in: &builder)
            return table.position
        case .dictionary(_, _, _, _, let valueType):
            return writeTypeTable(valueType, into: &builder)
        case .null, .bool, .binary, .largeBinary, .utf8, .largeUtf8, .list, .largeList, .structType,
             .binaryView, .utf8View, .listView, .largeListView, .runEndEncoded, .unknown:
            return builder.table([]).position
        }
    }
}
