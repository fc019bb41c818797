/// How a list column stores one tensor element in Parquet (the leaf's physical type and annotation),
/// which may differ from the `TensorElement` the reader delivers: integer pixels of any width are
/// narrowed to uint8 (range-checked), float16 and float64 are widened or narrowed to float32.
public enum TensorStorage: String, Sendable, CaseIterable, CustomStringConvertible {
    case uint8, int8, uint16, int16, uint32, int32, uint64, int64, float16, float32, float64

    public var description: String { rawValue }

    /// The storage of a numeric leaf column, nil for anything else (strings, booleans, decimals, …).
    public init?(leaf: ColumnDescriptor) {
        switch leaf.physicalType {
        case .int32:
            if case let .integer(bits, signed)? = leaf.element.logicalType {
                // An INT32 column holds integers of 32 bits at most.
                guard bits <= 32, let element = TensorElement(integerBits: Int(bits), signed: signed),
                      let storage = TensorStorage(rawValue: element.rawValue) else { return nil }
                self = storage
                return
            }
            switch leaf.element.convertedType {
            case .uint8?: self = .uint8
            case .int8?: self = .int8
            case .uint16?: self = .uint16
            case .int16?: self = .int16
            case .uint32?: self = .uint32
            case nil, .int32?: self = .int32
            default: return nil
            }
        case .int64:
            if case .integer(64, false)? = leaf.element.logicalType { self = .uint64 }
            else if leaf.element.convertedType == .uint64 { self = .uint64 }
            else if leaf.element.logicalType == nil || leaf.element.logicalType == .integer(bitWidth: 64, isSigned: true) { self = .int64 }
            else { return nil }
        case .float: self = .float32
        case .double: self = .float64
        case .fixedLenByteArray:
            guard leaf.element.logicalType == .float16, leaf.typeLength == 2 else { return nil }
            self = .float16
        default: return nil
        }
    }

    public var isFloatingPoint: Bool { self == .float16 || self == .float32 || self == .float64 }

    /// The element that holds these values unchanged (nil for float16, which is read as float32).
    public var exactElement: TensorElement? { TensorElement(rawValue: rawValue) }

    /// What an untagged list column of this storage is read as: integers are pixels (uint8, range-checked),
    /// floats are already-preprocessed values (float32).
    public var defaultElement: TensorElement { isFloatingPoint ? .float32 : .uint8 }

    /// Whether the reader can deliver this storage as `element`.
    public func canRead(as element: TensorElement) -> Bool {
        if element == exactElement { return true }
        switch element {
        case .uint8: return !isFloatingPoint && self != .uint64 && self != .int64
        case .float32: return isFloatingPoint
        default: return false
        }
    }
}

/// A value that does not fit the element it is read as: `index` counts the values handed to the conversion.
struct TensorRangeError: Error {
    let index: Int
    let value: String
}

enum TensorConversion {
    /// Converts `count` PLAIN-encoded values of `storage` at `source` into elements at `destination`, in
    /// one pass with the range check folded in (one comparison after the loop, not a branch per value).
    /// Returns false when this pair has no direct kernel (the caller decodes values first).
    static func plain(_ source: UnsafeRawBufferPointer, count: Int, storage: TensorStorage, element: TensorElement,
                      into destination: UnsafeMutableRawPointer) throws -> Bool {
        guard count > 0 else { return true }
        let physicalWidth: Int
        switch storage {
        case .float16: physicalWidth = 2
        case .uint64, .int64, .float64: physicalWidth = 8
        default: physicalWidth = 4
        }
        let (needed, overflow) = count.multipliedReportingOverflow(by: physicalWidth)
        guard !overflow, needed <= source.count, let base = source.baseAddress else {
            throw ParquetError.truncated("PLAIN values: \(count) values of \(physicalWidth) bytes need \(count &* physicalWidth) bytes, the page holds \(source.count)")
        }
        switch (storage, element) {
        case (.float32, .float32), (.float64, .float64), (.int32, .int32), (.uint32, .uint32), (.int64, .int64), (.uint64, .uint64):
            destination.copyMemory(from: base, byteCount: needed)
        case (_, .uint8) where physicalWidth == 4:
            try narrowToBytes(base, count: count, destination.assumingMemoryBound(to: UInt8.self))
        case (.float64, .float32):
            let out = destination.assumingMemoryBound(to: Float.self)
            for i in 0..<count { out[i] = Float(base.loadUnaligned(fromByteOffset: i * 8, as: Double.self)) }
        case (.float16, .float32):
            let out = destination.assumingMemoryBound(to: Float.self)
            for i in 0..<count {
                out[i] = ParquetValue.widen(float16: base.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self))
            }
        default:
            return false
        }
        return true
    }

    /// Little-endian int32 values → uint8, refusing any outside 0...255 (the first one found is named).
    static func narrowToBytes(_ source: UnsafeRawPointer, count: Int, _ out: UnsafeMutablePointer<UInt8>) throws {
        var outside: UInt32 = 0
        for i in 0..<count {
            let value = UInt32(littleEndian: source.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self))
            outside |= value & 0xFFFF_FF00
            out[i] = UInt8(truncatingIfNeeded: value)
        }
        guard outside == 0 else {
            for i in 0..<count {
                let value = Int32(littleEndian: source.loadUnaligned(fromByteOffset: i * 4, as: Int32.self))
                if value < 0 || value > 255 { throw TensorRangeError(index: i, value: String(value)) }
            }
            return
        }
    }

    /// Decoded values (any encoding) converted into elements at `destination`.
    static func store(_ values: ColumnValues, storage: TensorStorage, as element: TensorElement,
                      into destination: UnsafeMutableRawPointer) throws {
        switch (element, values) {
        case let (.uint8, .int32(v)) where storage.exactElement != .uint8:
            try v.withUnsafeBytes { raw in
                if let base = raw.baseAddress { try narrowToBytes(base, count: v.count, destination.assumingMemoryBound(to: UInt8.self)) }
            }
        case let (.float32, .double(v)):
            let out = destination.assumingMemoryBound(to: Float.self)
            for (i, value) in v.enumerated() { out[i] = Float(value) }
        case let (.float32, .fixedLenByteArray(v)) where storage == .float16:
            guard v.bytes.count >= v.count * 2 else { throw ParquetError.corruptPage("float16 values are not 2 bytes each") }
            let out = destination.assumingMemoryBound(to: Float.self)
            for i in 0..<v.count {
                let at = v.offsets[i]
                out[i] = ParquetValue.widen(float16: UInt16(v.bytes[at]) | UInt16(v.bytes[at + 1]) << 8)
            }
        default:
            try element.store(values, into: destination)
        }
    }
}
