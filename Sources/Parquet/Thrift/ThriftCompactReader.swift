/// Wire types of the Thrift compact protocol.
enum ThriftType: UInt8 {
    case stop = 0, boolTrue = 1, boolFalse = 2, byte = 3, i16 = 4, i32 = 5, i64 = 6
    case double = 7, binary = 8, list = 9, set = 10, map = 11, structure = 12
}

struct ThriftField {
    let id: Int16
    let type: ThriftType
}

/// Reads Thrift compact-protocol structures from a bounded byte buffer. Every read checks bounds, every
/// length is validated against the bytes left, and nesting is limited, so hostile input only throws.
struct ThriftCompactReader {
    private let buffer: UnsafeRawBufferPointer
    private(set) var position: Int
    private var lastFieldIDs: [Int16] = []
    /// Structs and containers open now; every kind counts, or lists of lists would recurse unbounded.
    private var depth = 0
    static let maxDepth = 64

    init(_ buffer: UnsafeRawBufferPointer, position: Int = 0) {
        self.buffer = buffer
        self.position = position
    }

    var remaining: Int { buffer.count - position }

    // MARK: structs and fields

    mutating func beginStruct() throws {
        try enterNesting()
        lastFieldIDs.append(0)
    }

    mutating func endStruct() {
        lastFieldIDs.removeLast()
        depth -= 1
    }

    private mutating func enterNesting() throws {
        guard depth < Self.maxDepth else {
            throw ParquetError.corruptMetadata("thrift values nested deeper than \(Self.maxDepth) at byte \(position)")
        }
        depth += 1
    }

    /// The next field header of the current struct, or nil at its stop byte.
    mutating func nextField() throws -> ThriftField? {
        let header = try readByte()
        if header == 0 { return nil }
        guard let type = ThriftType(rawValue: header & 0x0F) else {
            throw ParquetError.corruptMetadata("unknown thrift type \(header & 0x0F) at byte \(position - 1)")
        }
        let delta = Int16(header >> 4)
        let id: Int16
        if delta != 0 {
            id = (lastFieldIDs.last ?? 0) &+ delta
        } else {
            id = Int16(truncatingIfNeeded: try readZigZag())
        }
        lastFieldIDs[lastFieldIDs.count - 1] = id
        return ThriftField(id: id, type: type)
    }

    /// Decodes a whole struct, calling `body` for each field; `body` must consume the field or skip it.
    mutating func readStruct(_ body: (inout ThriftCompactReader, ThriftField) throws -> Void) throws {
        try beginStruct()
        while let field = try nextField() {
            try body(&self, field)
        }
        endStruct()
    }

    // MARK: scalars

    mutating func readBool(_ field: ThriftField) throws -> Bool {
        switch field.type {
        case .boolTrue: return true
        case .boolFalse: return false
        default: throw mismatch(field, expected: "bool")
        }
    }

    mutating func readI8(_ field: ThriftField) throws -> Int8 {
        guard field.type == .byte else { throw mismatch(field, expected: "byte") }
        return Int8(bitPattern: try readByte())
    }

    mutating func readI16(_ field: ThriftField) throws -> Int16 {
        guard field.type == .i16 else { throw mismatch(field, expected: "i16") }
        let value = try readZigZag()
        guard let narrow = Int16(exactly: value) else { throw outOfRange(field, value) }
        return narrow
    }

    mutating func readI32(_ field: ThriftField) throws -> Int32 {
        guard field.type == .i32 else { throw mismatch(field, expected: "i32") }
        let value = try readZigZag()
        guard let narrow = Int32(exactly: value) else { throw outOfRange(field, value) }
        return narrow
    }

    mutating func readI64(_ field: ThriftField) throws -> Int64 {
        guard field.type == .i64 else { throw mismatch(field, expected: "i64") }
        return try readZigZag()
    }

    mutating func readBinary(_ field: ThriftField) throws -> [UInt8] {
        guard field.type == .binary else { throw mismatch(field, expected: "binary") }
        return try readBinaryValue()
    }

    mutating func readString(_ field: ThriftField) throws -> String {
        String(decoding: try readBinary(field), as: UTF8.self)
    }

    // MARK: containers

    /// Reads a list header and checks its element type; returns the element count.
    mutating func readListHeader(_ field: ThriftField, elementType expected: ThriftType) throws -> Int {
        guard field.type == .list || field.type == .set else { throw mismatch(field, expected: "list") }
        let (count, elementType) = try readListHeaderRaw()
        // Booleans in lists are written as single bytes with type 1 or 2 by different writers.
        let compatible = elementType == expected
            || (expected == .boolTrue && (elementType == .boolFalse || elementType == .boolTrue))
        guard count == 0 || compatible else {
            throw ParquetError.corruptMetadata("field \(field.id): list of \(elementType) where \(expected) was expected")
        }
        return count
    }

    mutating func readList<T>(_ field: ThriftField, of type: ThriftType,
                              _ element: (inout ThriftCompactReader) throws -> T) throws -> [T] {
        let count = try readListHeader(field, elementType: type)
        try enterNesting()
        var result: [T] = []
        result.reserveCapacity(min(count, remaining))
        for _ in 0..<count {
            result.append(try element(&self))
        }
        depth -= 1
        return result
    }

    mutating func readI32List(_ field: ThriftField) throws -> [Int32] {
        try readList(field, of: .i32) { reader in
            let value = try reader.readZigZag()
            guard let narrow = Int32(exactly: value) else { throw reader.outOfRange(field, value) }
            return narrow
        }
    }

    mutating func readStringList(_ field: ThriftField) throws -> [String] {
        try readList(field, of: .binary) { String(decoding: try $0.readBinaryValue(), as: UTF8.self) }
    }

    mutating func readStructField<T>(_ field: ThriftField, _ decode: (inout ThriftCompactReader) throws -> T) throws -> T {
        guard field.type == .structure else { throw mismatch(field, expected: "struct") }
        return try decode(&self)
    }

    mutating func readStructList<T>(_ field: ThriftField, _ decode: (inout ThriftCompactReader) throws -> T) throws -> [T] {
        try readList(field, of: .structure, decode)
    }

    /// Skips a value of any type, including nested containers (bounded by the nesting limit).
    mutating func skip(_ type: ThriftType) throws {
        switch type {
        case .stop: throw ParquetError.corruptMetadata("unexpected stop type")
        case .boolTrue, .boolFalse: return
        case .byte: _ = try readByte()
        case .i16, .i32, .i64: _ = try readVarint()
        case .double: try advance(8)
        case .binary: try advance(try readLength())
        case .list, .set:
            let (count, elementType) = try readListHeaderRaw()
            try enterNesting()
            try skipElements(count, of: elementType)
            depth -= 1
        case .map:
            let count = try readLength()
            guard count > 0 else { return }
            let types = try readByte()
            guard let keyType = ThriftType(rawValue: types >> 4), let valueType = ThriftType(rawValue: types & 0x0F) else {
                throw ParquetError.corruptMetadata("bad map element types \(types)")
            }
            try enterNesting()
            for _ in 0..<count {
                try skipElement(keyType)
                try skipElement(valueType)
            }
            depth -= 1
        case .structure:
            try beginStruct()
            while let field = try nextField() { try skip(field.type) }
            endStruct()
        }
    }

    mutating func skip(_ field: ThriftField) throws { try skip(field.type) }

    // MARK: primitives

    mutating func readByte() throws -> UInt8 {
        guard position < buffer.count else { throw ParquetError.truncated("thrift data ends at byte \(position)") }
        let byte = buffer[position]
        position += 1
        return byte
    }

    mutating func readVarint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let byte = try readByte()
            guard shift < 64 else { throw ParquetError.corruptMetadata("varint longer than 10 bytes at byte \(position)") }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
    }

    mutating func readZigZag() throws -> Int64 {
        let raw = try readVarint()
        return Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
    }

    private mutating func readLength() throws -> Int {
        let raw = try readVarint()
        guard raw <= UInt64(remaining) else {
            throw ParquetError.truncated("thrift length \(raw) exceeds the \(remaining) bytes left")
        }
        return Int(raw)
    }

    private mutating func readBinaryValue() throws -> [UInt8] {
        let length = try readLength()
        let bytes = Array(buffer[position..<position + length])
        position += length
        return bytes
    }

    private mutating func readListHeaderRaw() throws -> (Int, ThriftType) {
        let header = try readByte()
        guard let elementType = ThriftType(rawValue: header & 0x0F) else {
            throw ParquetError.corruptMetadata("unknown list element type \(header & 0x0F)")
        }
        var count = Int(header >> 4)
        if count == 15 { count = try readLength() }
        // Every element takes at least one byte except booleans in some writers; bound by bytes left.
        guard count <= remaining else {
            throw ParquetError.truncated("thrift list of \(count) elements exceeds the \(remaining) bytes left")
        }
        return (count, elementType)
    }

    private mutating func skipElements(_ count: Int, of type: ThriftType) throws {
        for _ in 0..<count { try skipElement(type) }
    }

    /// Container elements: booleans are one byte each, unlike struct fields.
    private mutating func skipElement(_ type: ThriftType) throws {
        if type == .boolTrue || type == .boolFalse { _ = try readByte() } else { try skip(type) }
    }

    private mutating func advance(_ count: Int) throws {
        guard count <= remaining else { throw ParquetError.truncated("thrift value of \(count) bytes exceeds the \(remaining) bytes left") }
        position += count
    }

    private func mismatch(_ field: ThriftField, expected: String) -> ParquetError {
        ParquetError.corruptMetadata("thrift field \(field.id) has wire type \(field.type), expected \(expected)")
    }

    fileprivate func outOfRange(_ field: ThriftField, _ value: Int64) -> ParquetError {
        ParquetError.corruptMetadata("thrift field \(field.id) value \(value) is out of range")
    }
}
