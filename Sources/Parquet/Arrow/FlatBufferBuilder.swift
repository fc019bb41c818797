/// Writes a flatbuffer front to back.
///
/// The usual flatbuffers builder writes back to front; this one writes a table first and the
/// objects it references afterwards, patching each `uoffset_t` once its target exists (offsets
/// are unsigned, so every target must come after the field that references it). Each vtable is
/// written just before its table. Every scalar is aligned to its size, vectors and strings to 4,
/// relative to the start of the buffer, which is what the flatbuffers verifier checks.
struct FlatBufferBuilder {
    private(set) var bytes: [UInt8] = []

    /// An inline field of a table: a scalar, or a reference whose target is written later.
    enum Field {
        case uint8(UInt8)
        case bool(Bool)
        case int16(Int16)
        case int32(Int32)
        case int64(Int64)
        case reference

        var size: Int {
            switch self {
            case .uint8, .bool: return 1
            case .int16: return 2
            case .int32, .reference: return 4
            case .int64: return 8
            }
        }
    }

    /// Starts the buffer with the root `uoffset_t`; returns its position for `patchReference`.
    mutating func startRoot() -> Int {
        let at = bytes.count
        appendLittleEndian(UInt32(0), size: 4)
        return at
    }

    /// Writes a vtable and a table holding `fields` (slot number, value). Returns the position
    /// of the table and, by slot, the positions of its `.reference` fields to patch.
    mutating func table(_ fields: [(slot: Int, value: Field)]) -> (position: Int, references: [Int: Int]) {
        // Inline layout: the soffset_t first, then the fields by decreasing size so that each
        // one is aligned to its size without padding.
        let ordered = fields.sorted { $0.value.size > $1.value.size }
        var inlineOffsets: [Int: Int] = [:]
        var inlineSize = 4
        for field in ordered {
            inlineSize = roundUp(inlineSize, to: field.value.size)
            inlineOffsets[field.slot] = inlineSize
            inlineSize += field.value.size
        }
        let tableAlignment = ordered.first.map { max(4, $0.value.size) } ?? 4
        let slotCount = (fields.map(\.slot).max() ?? -1) + 1

        pad(to: 2)
        let vtable = bytes.count
        appendLittleEndian(UInt16(4 + 2 * slotCount), size: 2)
        appendLittleEndian(UInt16(inlineSize), size: 2)
        for slot in 0..<slotCount {
            appendLittleEndian(UInt16(inlineOffsets[slot] ?? 0), size: 2)
        }

        pad(to: tableAlignment)
        let table = bytes.count
        appendLittleEndian(UInt32(bitPattern: Int32(table - vtable)), size: 4)
        bytes.append(contentsOf: repeatElement(0, count: inlineSize - 4))
        var references: [Int: Int] = [:]
        for field in fields {
            guard let offset = inlineOffsets[field.slot] else { continue }
            let at = table + offset
            switch field.value {
            case .uint8(let value): store(UInt64(value), at: at, size: 1)
            case .bool(let value): store(value ? 1 : 0, at: at, size: 1)
            case .int16(let value): store(UInt64(UInt16(bitPattern: value)), at: at, size: 2)
            case .int32(let value): store(UInt64(UInt32(bitPattern: value)), at: at, size: 4)
            case .int64(let value): store(UInt64(bitPattern: value), at: at, size: 8)
            case .reference: references[field.slot] = at
            }
        }
        return (table, references)
    }

    /// Writes a string (length, bytes, NUL terminator); returns its position.
    mutating func string(_ value: [UInt8]) -> Int {
        pad(to: 4)
        let at = bytes.count
        appendLittleEndian(UInt32(value.count), size: 4)
        bytes.append(contentsOf: value)
        bytes.append(0)
        return at
    }

    /// Writes a vector of 32-bit integers; returns its position.
    mutating func int32Vector(_ values: [Int32]) -> Int {
        pad(to: 4)
        let at = bytes.count
        appendLittleEndian(UInt32(values.count), size: 4)
        for value in values {
            appendLittleEndian(UInt32(bitPattern: value), size: 4)
        }
        return at
    }

    /// Writes a vector of `count` references; returns its position and the element positions
    /// to patch once the referenced tables are written.
    mutating func referenceVector(count: Int) -> (position: Int, elements: [Int]) {
        pad(to: 4)
        let at = bytes.count
        appendLittleEndian(UInt32(count), size: 4)
        let elements = (0..<count).map { at + 4 + 4 * $0 }
        bytes.append(contentsOf: repeatElement(0, count: 4 * count))
        return (at, elements)
    }

    /// Points the reference stored at `field` to the object at `target` (written after it).
    mutating func patchReference(at field: Int, to target: Int) {
        store(UInt64(target - field), at: field, size: 4)
    }

    mutating func pad(to alignment: Int) {
        bytes.append(contentsOf: repeatElement(0, count: roundUp(bytes.count, to: alignment) - bytes.count))
    }

    private mutating func appendLittleEndian<T: FixedWidthInteger>(_ value: T, size: Int) {
        for index in 0..<size {
            bytes.append(UInt8(truncatingIfNeeded: UInt64(value) >> (8 * UInt64(index))))
        }
    }

    private mutating func store(_ value: UInt64, at position: Int, size: Int) {
        for index in 0..<size {
            bytes[position + index] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(index)))
        }
    }

    private func roundUp(_ value: Int, to alignment: Int) -> Int {
        (value + alignment - 1) / alignment * alignment
    }
}
