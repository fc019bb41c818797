/// Decodes a flatbuffer `Message` holding a `Schema` (Arrow's Message.fbs / Schema.fbs) into an
/// `ArrowSchema`, validating what Arrow's own reader validates (children counts of nested types,
/// integer widths, enum values).
struct ArrowSchemaDecoder {
    private let reader: FlatBufferReader
    /// Distinct references may point at one shared table or string, so a small hostile buffer
    /// could expand into an enormous schema; these budgets bound the work by the buffer's size
    /// (a genuine buffer holds each table and string once).
    private var tablesLeft: Int
    private var bytesLeft: Int
    /// Deeper than anything Arrow's verifier (128 nested tables) accepts.
    static let maxFieldDepth = 128

    init(_ reader: FlatBufferReader) {
        self.reader = reader
        self.tablesLeft = reader.bytes.count / 4 + 16
        self.bytesLeft = reader.bytes.count
    }

    private func error(_ message: String) -> ParquetError {
        reader.error(message)
    }

    mutating func decodeMessage() throws -> ArrowSchema {
        let message = try reader.rootTable()
        let version = try message.int16(ArrowFlatbuf.MessageSlot.version, default: 0)
        guard version >= ArrowFlatbuf.MetadataVersion.v4 else {
            throw ParquetError(.unsupported, "\(reader.context): metadata version V\(Int(version) + 1) (Arrow before 0.8) is not supported")
        }
        let headerType = try message.uint8(ArrowFlatbuf.MessageSlot.headerType, default: 0)
        guard headerType == ArrowFlatbuf.MessageHeader.schema else {
            let names = ArrowFlatbuf.MessageHeader.names
            let name = Int(headerType) < names.count ? names[Int(headerType)] : "unknown (\(headerType))"
            throw error("the IPC message holds a \(name) header, not a Schema")
        }
        guard let schema = try message.table(ArrowFlatbuf.MessageSlot.header) else {
            throw error("the Schema message has no header table")
        }
        return try decodeSchema(schema)
    }

    private mutating func decodeSchema(_ table: FlatTable) throws -> ArrowSchema {
        let endianness: ArrowEndianness
        switch try table.int16(ArrowFlatbuf.SchemaSlot.endianness, default: 0) {
        case 0: endianness = .little
        case 1: endianness = .big
        case let other: throw error("invalid endianness \(other)")
        }
        var fields: [ArrowField] = []
        if let vector = try table.vector(ArrowFlatbuf.SchemaSlot.fields, elementSize: 4) {
            fields.reserveCapacity(vector.count)
            for index in 0..<vector.count {
                fields.append(try decodeField(try vector.table(at: index), depth: 1))
            }
        }
        let metadata = try decodeKeyValues(try table.vector(ArrowFlatbuf.SchemaSlot.customMetadata, elementSize: 4))
        return ArrowSchema(fields: fields, metadata: metadata, endianness: endianness)
    }

    private mutating func spendTable() throws {
        tablesLeft -= 1
        guard tablesLeft >= 0 else {
            throw error("more tables are referenced than a flatbuffer of \(reader.bytes.count) bytes can hold")
        }
    }

    private mutating func readString(_ table: FlatTable, _ slot: Int) throws -> [UInt8]? {
        guard let bytes = try table.string(slot) else { return nil }
        bytesLeft -= bytes.count
        guard bytesLeft >= 0 else {
            throw error("more string bytes are referenced than a flatbuffer of \(reader.bytes.count) bytes can hold")
        }
        return bytes
    }

    private mutating func decodeKeyValues(_ vector: FlatVector?) throws -> [ArrowKeyValue] {
        guard let vector else { return [] }
        var entries: [ArrowKeyValue] = []
        entries.reserveCapacity(vector.count)
        for index in 0..<vector.count {
            try spendTable()
            let entry = try vector.table(at: index)
            let key = try readString(entry, ArrowFlatbuf.KeyValueSlot.key) ?? []
            let value = try readString(entry, ArrowFlatbuf.KeyValueSlot.value) ?? []
            entries.append(ArrowKeyValue(key: String(decoding: key, as: UTF8.self), valueBytes: value))
        }
        return entries
    }

    private mutating func decodeField(_ table: FlatTable, depth: Int) throws -> ArrowField {
        guard depth <= ArrowSchemaDecoder.maxFieldDepth else {
            throw error("fields are nested more than \(ArrowSchemaDecoder.maxFieldDepth) deep")
        }
        try spendTable()
        let name = String(decoding: try readString(table, ArrowFlatbuf.FieldSlot.name) ?? [], as: UTF8.self)
        let nullable = try table.bool(ArrowFlatbuf.FieldSlot.nullable, default: false)
        let typeID = try table.uint8(ArrowFlatbuf.FieldSlot.typeType, default: 0)
        guard typeID != 0 else {
            throw error("field '\(name)' has no type")
        }
        var type = try decodeType(typeID, try table.table(ArrowFlatbuf.FieldSlot.type), field: name)
        if let dictionary = try table.table(ArrowFlatbuf.FieldSlot.dictionary) {
            type = try decodeDictionary(dictionary, valueType: type, field: name)
        }
        var children: [ArrowField] = []
        if let vector = try table.vector(ArrowFlatbuf.FieldSlot.children, elementSize: 4) {
            children.reserveCapacity(vector.count)
            for index in 0..<vector.count {
                children.append(try decodeField(try vector.table(at: index), depth: depth + 1))
            }
        }
        let metadata = try decodeKeyValues(try table.vector(ArrowFlatbuf.FieldSlot.customMetadata, elementSize: 4))
        let field = ArrowField(name: name, nullable: nullable, type: type, children: children, metadata: metadata)
        try checkChildren(of: field)
        return field
    }

    /// Nested types need a fixed number of children (as Arrow's reader requires).
    private func checkChildren(of field: ArrowField) throws {
        var type = field.type
        if case .dictionary(_, _, _, _, let valueType) = type { type = valueType }
        let expected: Int
        switch type {
        case .list, .largeList, .fixedSizeList, .listView, .largeListView, .map: expected = 1
        case .runEndEncoded: expected = 2
        case .union(_, let typeIds?):
            guard typeIds.count == field.children.count else {
                throw error("union field '\(field.name)' has \(field.children.count) children but \(typeIds.count) type ids")
            }
            return
        default: return
        }
        guard field.children.count == expected else {
            throw error("\(type) field '\(field.name)' has \(field.children.count) children, expected \(expected)")
        }
        if case .map = type {
            let entries = field.children[0]
            guard case .structType = entries.type, entries.children.count == 2 else {
                throw error("map field '\(field.name)' must have a struct child with 2 children (key, value)")
            }
        }
    }

    private func intParameters(_ table: FlatTable?, field: String) throws -> (bitWidth: Int, signed: Bool) {
        let bitWidth = Int(try table?.int32(ArrowFlatbuf.IntSlot.bitWidth, default: 0) ?? 0)
        let signed = try table?.bool(ArrowFlatbuf.IntSlot.isSigned, default: false) ?? false
        guard [8, 16, 32, 64].contains(bitWidth) else {
            throw error("field '\(field)' has an integer type of \(bitWidth) bits")
        }
        return (bitWidth, signed)
    }

    private func timeUnit(_ table: FlatTable?, _ slot: Int, default defaultValue: Int16, field: String) throws -> ArrowType.TimeUnit {
        let value = try table?.int16(slot, default: defaultValue) ?? defaultValue
        guard let unit = ArrowType.TimeUnit(flatbufferValue: value) else {
            throw error("field '\(field)' has an invalid time unit \(value)")
        }
        return unit
    }

    private func nonNegative(_ value: Int32, _ what: String, field: String) throws -> Int {
        guard value >= 0 else { throw error("field '\(field)' has a negative \(what) \(value)") }
        return Int(value)
    }

    /// The member of the `Type` union with id `typeID`; `table` is its (optional) table.
    private mutating func decodeType(_ typeID: UInt8, _ table: FlatTable?, field: String) throws -> ArrowType {
        typealias ID = ArrowFlatbuf.TypeID
        switch typeID {
        case ID.null: return .null
        case ID.int:
            let (bitWidth, signed) = try intParameters(table, field: field)
            return .int(bitWidth: bitWidth, signed: signed)
        case ID.floatingPoint:
            let value = try table?.int16(ArrowFlatbuf.FloatingPointSlot.precision, default: 0) ?? 0
            guard let precision = ArrowType.FloatPrecision(flatbufferValue: value) else {
                throw error("field '\(field)' has an invalid floating-point precision \(value)")
            }
            return .floatingPoint(precision)
        case ID.binary: return .binary
        case ID.utf8: return .utf8
        case ID.bool: return .bool
        case ID.decimal:
            let precision = Int(try table?.int32(ArrowFlatbuf.DecimalSlot.precision, default: 0) ?? 0)
            let scale = Int(try table?.int32(ArrowFlatbuf.DecimalSlot.scale, default: 0) ?? 0)
            let bitWidth = Int(try table?.int32(ArrowFlatbuf.DecimalSlot.bitWidth, default: 128) ?? 128)
            guard [32, 64, 128, 256].contains(bitWidth) else {
                throw error("field '\(field)' has a decimal of \(bitWidth) bits")
            }
            return .decimal(precision: precision, scale: scale, bitWidth: bitWidth)
        case ID.date:
            let value = try table?.int16(ArrowFlatbuf.DateSlot.unit, default: 1) ?? 1
            guard let unit = ArrowType.DateUnit(flatbufferValue: value) else {
                throw error("field '\(field)' has an invalid date unit \(value)")
            }
            return .date(unit)
        case ID.time:
            let unit = try timeUnit(table, ArrowFlatbuf.TimeSlot.unit, default: 1, field: field)
            let bitWidth = Int(try table?.int32(ArrowFlatbuf.TimeSlot.bitWidth, default: 32) ?? 32)
            guard bitWidth == 32 || bitWidth == 64 else {
                throw error("field '\(field)' has a time of \(bitWidth) bits")
            }
            return .time(unit, bitWidth: bitWidth)
        case ID.timestamp:
            let unit = try timeUnit(table, ArrowFlatbuf.TimestampSlot.unit, default: 0, field: field)
            var timezone: String?
            if let table, let bytes = try readString(table, ArrowFlatbuf.TimestampSlot.timezone) {
                timezone = String(decoding: bytes, as: UTF8.self)
            }
            return .timestamp(unit, timezone: timezone)
        case ID.interval:
            let value = try table?.int16(ArrowFlatbuf.IntervalSlot.unit, default: 0) ?? 0
            guard let unit = ArrowType.IntervalUnit(flatbufferValue: value) else {
                throw error("field '\(field)' has an invalid interval unit \(value)")
            }
            return .interval(unit)
        case ID.list: return .list
        case ID.structType: return .structType
        case ID.union:
            let value = try table?.int16(ArrowFlatbuf.UnionSlot.mode, default: 0) ?? 0
            guard let mode = ArrowType.UnionMode(flatbufferValue: value) else {
                throw error("field '\(field)' has an invalid union mode \(value)")
            }
            var typeIds: [Int]?
            if let vector = try table?.vector(ArrowFlatbuf.UnionSlot.typeIds, elementSize: 4) {
                bytesLeft -= 4 * vector.count
                guard bytesLeft >= 0 else {
                    throw error("more union type ids are referenced than a flatbuffer of \(reader.bytes.count) bytes can hold")
                }
                typeIds = try (0..<vector.count).map { Int(try vector.int32(at: $0)) }
            }
            return .union(mode: mode, typeIds: typeIds)
        case ID.fixedSizeBinary:
            let byteWidth = try table?.int32(ArrowFlatbuf.FixedSizeBinarySlot.byteWidth, default: 0) ?? 0
            return .fixedSizeBinary(byteWidth: try nonNegative(byteWidth, "byte width", field: field))
        case ID.fixedSizeList:
            let listSize = try table?.int32(ArrowFlatbuf.FixedSizeListSlot.listSize, default: 0) ?? 0
            return .fixedSizeList(listSize: try nonNegative(listSize, "list size", field: field))
        case ID.map:
            return .map(keysSorted: try table?.bool(ArrowFlatbuf.MapSlot.keysSorted, default: false) ?? false)
        case ID.duration:
            return .duration(try timeUnit(table, ArrowFlatbuf.DurationSlot.unit, default: 1, field: field))
        case ID.largeBinary: return .largeBinary
        case ID.largeUtf8: return .largeUtf8
        case ID.largeList: return .largeList
        case ID.runEndEncoded: return .runEndEncoded
        case ID.binaryView: return .binaryView
        case ID.utf8View: return .utf8View
        case ID.listView: return .listView
        case ID.largeListView: return .largeListView
        default: return .unknown(typeID: Int(typeID))
        }
    }

    private mutating func decodeDictionary(_ table: FlatTable, valueType: ArrowType, field: String) throws -> ArrowType {
        try spendTable()
        let id = try table.int64(ArrowFlatbuf.DictionaryEncodingSlot.id, default: 0)
        // An absent index type means signed 32-bit indices.
        var index = (bitWidth: 32, signed: true)
        if let indexTable = try table.table(ArrowFlatbuf.DictionaryEncodingSlot.indexType) {
            index = try intParameters(indexTable, field: field)
        }
        let ordered = try table.bool(ArrowFlatbuf.DictionaryEncodingSlot.isOrdered, default: false)
        return .dictionary(id: id, indexBitWidth: index.bitWidth, indexSigned: index.signed,
                           ordered: ordered, valueType: valueType)
    }
}
