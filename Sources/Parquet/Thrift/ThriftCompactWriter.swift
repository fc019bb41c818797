/// Writes Thrift compact-protocol structures. Fields must be written in increasing id order within a struct.
struct ThriftCompactWriter {
    private(set) var bytes: [UInt8] = []
    private var lastFieldIDs: [Int16] = [0]

    init() {}

    mutating func writeStruct(_ body: (inout ThriftCompactWriter) -> Void) {
        lastFieldIDs.append(0)
        body(&self)
        bytes.append(0)  // stop
        lastFieldIDs.removeLast()
    }

    mutating func field(_ id: Int16, _ type: ThriftType) {
        let last = lastFieldIDs[lastFieldIDs.count - 1]
        let delta = id - last
        if delta > 0 && delta <= 15 {
            bytes.append(UInt8(delta) << 4 | type.rawValue)
        } else {
            bytes.append(type.rawValue)
            writeZigZag(Int64(id))
        }
        lastFieldIDs[lastFieldIDs.count - 1] = id
    }

    mutating func writeBool(_ id: Int16, _ value: Bool) {
        field(id, value ? .boolTrue : .boolFalse)
    }

    mutating func writeI8(_ id: Int16, _ value: Int8) {
        field(id, .byte)
        bytes.append(UInt8(bitPattern: value))
    }

    mutating func writeI32(_ id: Int16, _ value: Int32) {
        field(id, .i32)
        writeZigZag(Int64(value))
    }

    mutating func writeI64(_ id: Int16, _ value: Int64) {
        field(id, .i64)
        writeZigZag(value)
    }

    mutating func writeBinary(_ id: Int16, _ value: [UInt8]) {
        field(id, .binary)
        writeBinaryValue(value)
    }

    mutating func writeString(_ id: Int16, _ value: String) {
        writeBinary(id, Array(value.utf8))
    }

    mutating func writeStructField(_ id: Int16, _ body: (inout ThriftCompactWriter) -> Void) {
        field(id, .structure)
        writeStruct(body)
    }

    mutating func writeI32List(_ id: Int16, _ values: [Int32]) {
        field(id, .list)
        writeListHeader(values.count, .i32)
        for value in values { writeZigZag(Int64(value)) }
    }

    mutating func writeStringList(_ id: Int16, _ values: [String]) {
        field(id, .list)
        writeListHeader(values.count, .binary)
        for value in values { writeBinaryValue(Array(value.utf8)) }
    }

    mutating func writeStructList<T>(_ id: Int16, _ values: [T], _ body: (inout ThriftCompactWriter, T) -> Void) {
        field(id, .list)
        writeListHeader(values.count, .structure)
        for value in values { writeStruct { body(&$0, value) } }
    }

    private mutating func writeListHeader(_ count: Int, _ type: ThriftType) {
        if count < 15 {
            bytes.append(UInt8(count) << 4 | type.rawValue)
        } else {
            bytes.append(0xF0 | type.rawValue)
            writeVarint(UInt64(count))
        }
    }

    private mutating func writeBinaryValue(_ value: [UInt8]) {
        writeVarint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    mutating func writeVarint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    mutating func writeZigZag(_ value: Int64) {
        writeVarint(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }
}
