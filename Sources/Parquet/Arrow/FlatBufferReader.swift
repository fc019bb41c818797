/// A bounds-checked reader of a flatbuffer (https://flatbuffers.dev/internals/).
///
/// Every read checks its range first and throws `ParquetError(.corruptMetadata, ...)` when the
/// bytes point outside the buffer, so a malformed or hostile buffer cannot crash the reader.
/// Offsets (`uoffset_t`) are unsigned and point forward, so references can never form a cycle;
/// the decoder above still bounds its recursion depth and the number of tables it visits, because
/// distinct references may point at one shared table.
struct FlatBufferReader: Sendable {
    let bytes: [UInt8]
    /// Prefixed to every error message ("ARROW:schema").
    let context: String

    init(_ bytes: [UInt8], context: String) {
        self.bytes = bytes
        self.context = context
    }

    func error(_ message: String) -> ParquetError {
        ParquetError(.corruptMetadata, "\(context): \(message)")
    }

    /// Throws unless `count` bytes starting at `position` lie inside the buffer.
    func checkRange(_ position: Int, _ count: Int, _ what: @autoclosure () -> String) throws {
        guard position >= 0, count >= 0, position <= bytes.count, count <= bytes.count - position else {
            throw error("\(what()) at byte \(position) (\(count) bytes) lies outside the \(bytes.count)-byte flatbuffer")
        }
    }

    /// Little-endian unsigned integer of `size` bytes; the range must have been checked.
    private func loadUnsigned(_ position: Int, _ size: Int) -> UInt64 {
        var value: UInt64 = 0
        for index in 0..<size {
            value |= UInt64(bytes[position + index]) << (8 * UInt64(index))
        }
        return value
    }

    func uint8(at position: Int) throws -> UInt8 {
        try checkRange(position, 1, "a byte")
        return bytes[position]
    }

    func uint16(at position: Int) throws -> UInt16 {
        try checkRange(position, 2, "a 16-bit value")
        return UInt16(truncatingIfNeeded: loadUnsigned(position, 2))
    }

    func int16(at position: Int) throws -> Int16 {
        Int16(bitPattern: try uint16(at: position))
    }

    func uint32(at position: Int) throws -> UInt32 {
        try checkRange(position, 4, "a 32-bit value")
        return UInt32(truncatingIfNeeded: loadUnsigned(position, 4))
    }

    func int32(at position: Int) throws -> Int32 {
        Int32(bitPattern: try uint32(at: position))
    }

    func int64(at position: Int) throws -> Int64 {
        try checkRange(position, 8, "a 64-bit value")
        return Int64(bitPattern: loadUnsigned(position, 8))
    }

    /// Follows the `uoffset_t` stored at `position` to the object it points at.
    func followOffset(at position: Int) throws -> Int {
        let offset = Int(try uint32(at: position))
        let target = position + offset
        guard target < bytes.count else {
            throw error("offset \(offset) at byte \(position) points past the end of the \(bytes.count)-byte flatbuffer")
        }
        return target
    }

    /// The root table: the buffer starts with a `uoffset_t` to it.
    func rootTable() throws -> FlatTable {
        try table(at: try followOffset(at: 0))
    }

    /// The table whose first byte (its `soffset_t` to the vtable) is at `position`.
    func table(at position: Int) throws -> FlatTable {
        let vtableDistance = Int(try int32(at: position))
        let vtable = position - vtableDistance
        try checkRange(vtable, 4, "the vtable of the table at byte \(position)")
        let vtableSize = Int(try uint16(at: vtable))
        let tableSize = Int(try uint16(at: vtable + 2))
        guard vtableSize >= 4, vtableSize % 2 == 0 else {
            throw error("the vtable at byte \(vtable) has an invalid size \(vtableSize)")
        }
        try checkRange(vtable, vtableSize, "the vtable of the table at byte \(position)")
        guard tableSize >= 4 else {
            throw error("the table at byte \(position) has an invalid inline size \(tableSize)")
        }
        try checkRange(position, tableSize, "the table")
        return FlatTable(reader: self, position: position, vtable: vtable,
                         slotCount: (vtableSize - 4) / 2, size: tableSize)
    }

    /// The `[UInt8]` contents of the string (or `[ubyte]` vector) at `position`.
    func byteVector(at position: Int) throws -> [UInt8] {
        let count = Int(try uint32(at: position))
        try checkRange(position + 4, count, "a string of \(count) bytes")
        return Array(bytes[(position + 4)..<(position + 4 + count)])
    }

    /// The vector at `position` whose elements are `elementSize` bytes each.
    func vector(at position: Int, elementSize: Int) throws -> FlatVector {
        let count = Int(try uint32(at: position))
        guard count <= (bytes.count - position) / elementSize else {
            throw error("a vector of \(count) elements at byte \(position) runs past the end of the \(bytes.count)-byte flatbuffer")
        }
        try checkRange(position + 4, count * elementSize, "a vector of \(count) elements")
        return FlatVector(reader: self, start: position + 4, count: count, elementSize: elementSize)
    }
}

/// A table inside a `FlatBufferReader`: its fields are found through the vtable by slot number
/// (the field's position in the schema's table declaration, starting at 0).
struct FlatTable: Sendable {
    let reader: FlatBufferReader
    let position: Int
    let vtable: Int
    let slotCount: Int
    let size: Int

    /// The absolute position of the field in `slot`, or nil when the field is absent.
    /// Throws when the vtable places a field of `fieldSize` bytes outside the table.
    func fieldPosition(_ slot: Int, size fieldSize: Int) throws -> Int? {
        guard slot < slotCount else { return nil }
        let offset = Int(try reader.uint16(at: vtable + 4 + 2 * slot))
        if offset == 0 { return nil }
        guard offset >= 4, offset <= size - fieldSize else {
            throw reader.error("field \(slot) of the table at byte \(position) lies outside the table (offset \(offset), table size \(size))")
        }
        return position + offset
    }

    func bool(_ slot: Int, default defaultValue: Bool) throws -> Bool {
        guard let at = try fieldPosition(slot, size: 1) else { return defaultValue }
        return try reader.uint8(at: at) != 0
    }

    func uint8(_ slot: Int, default defaultValue: UInt8) throws -> UInt8 {
        guard let at = try fieldPosition(slot, size: 1) else { return defaultValue }
        return try reader.uint8(at: at)
    }

    func int16(_ slot: Int, default defaultValue: Int16) throws -> Int16 {
        guard let at = try fieldPosition(slot, size: 2) else { return defaultValue }
        return try reader.int16(at: at)
    }

    func int32(_ slot: Int, default defaultValue: Int32) throws -> Int32 {
        guard let at = try fieldPosition(slot, size: 4) else { return defaultValue }
        return try reader.int32(at: at)
    }

    func int64(_ slot: Int, default defaultValue: Int64) throws -> Int64 {
        guard let at = try fieldPosition(slot, size: 8) else { return defaultValue }
        return try reader.int64(at: at)
    }

    /// Where the object referenced by the offset field in `slot` starts, or nil when absent.
    private func referencePosition(_ slot: Int) throws -> Int? {
        guard let at = try fieldPosition(slot, size: 4) else { return nil }
        return try reader.followOffset(at: at)
    }

    /// The raw bytes of the string in `slot` (flatbuffer strings need not be valid UTF-8).
    func string(_ slot: Int) throws -> [UInt8]? {
        guard let at = try referencePosition(slot) else { return nil }
        return try reader.byteVector(at: at)
    }

    func table(_ slot: Int) throws -> FlatTable? {
        guard let at = try referencePosition(slot) else { return nil }
        return try reader.table(at: at)
    }

    func vector(_ slot: Int, elementSize: Int) throws -> FlatVector? {
        guard let at = try referencePosition(slot) else { return nil }
        return try reader.vector(at: at, elementSize: elementSize)
    }
}

/// A vector inside a `FlatBufferReader`; its element range was checked when it was created.
struct FlatVector: Sendable {
    let reader: FlatBufferReader
    let start: Int
    let count: Int
    let elementSize: Int

    func int32(at index: Int) throws -> Int32 {
        try reader.int32(at: start + index * elementSize)
    }

    /// The table referenced by the offset stored in element `index` of a vector of tables.
    func table(at index: Int) throws -> FlatTable {
        try reader.table(at: try reader.followOffset(at: start + index * elementSize))
    }
}
