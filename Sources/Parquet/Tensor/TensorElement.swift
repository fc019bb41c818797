/// The element type of a tensor column as it is laid out in memory (one of NumPy's fixed-width dtypes).
public enum TensorElement: String, Sendable, CaseIterable, CustomStringConvertible {
    case uint8, int8, uint16, int16, uint32, int32, uint64, int64, float32, float64

    public var description: String { rawValue }

    public var byteWidth: Int {
        switch self {
        case .uint8, .int8: 1
        case .uint16, .int16: 2
        case .uint32, .int32, .float32: 4
        case .uint64, .int64, .float64: 8
        }
    }

    /// The Parquet physical type that stores this element.
    public var physicalType: PhysicalType {
        switch self {
        case .uint8, .int8, .uint16, .int16, .uint32, .int32: .int32
        case .uint64, .int64: .int64
        case .float32: .float
        case .float64: .double
        }
    }

    /// The integer element of a bit width (8, 16, 32 or 64) and signedness.
    public init?(integerBits bits: Int, signed: Bool) {
        switch (bits, signed) {
        case (8, false): self = .uint8
        case (8, true): self = .int8
        case (16, false): self = .uint16
        case (16, true): self = .int16
        case (32, false): self = .uint32
        case (32, true): self = .int32
        case (64, false): self = .uint64
        case (64, true): self = .int64
        default: return nil
        }
    }

    public init?(arrow type: ArrowType) {
        switch type {
        case let .int(bits, signed):
            self.init(integerBits: bits, signed: signed)
        case .floatingPoint(.single): self = .float32
        case .floatingPoint(.double): self = .float64
        default: return nil
        }
    }

    var arrowType: ArrowType {
        switch self {
        case .uint8: .int(bitWidth: 8, signed: false)
        case .int8: .int(bitWidth: 8, signed: true)
        case .uint16: .int(bitWidth: 16, signed: false)
        case .int16: .int(bitWidth: 16, signed: true)
        case .uint32: .int(bitWidth: 32, signed: false)
        case .int32: .int(bitWidth: 32, signed: true)
        case .uint64: .int(bitWidth: 64, signed: false)
        case .int64: .int(bitWidth: 64, signed: true)
        case .float32: .floatingPoint(.single)
        case .float64: .floatingPoint(.double)
        }
    }

    /// The Parquet annotation a writer puts on the leaf (integers narrower than their physical type).
    var logicalType: LogicalType? {
        switch self {
        case .uint8: .integer(bitWidth: 8, isSigned: false)
        case .int8: .integer(bitWidth: 8, isSigned: true)
        case .uint16: .integer(bitWidth: 16, isSigned: false)
        case .int16: .integer(bitWidth: 16, isSigned: true)
        case .uint32: .integer(bitWidth: 32, isSigned: false)
        case .uint64: .integer(bitWidth: 64, isSigned: false)
        case .int32, .int64, .float32, .float64: nil
        }
    }

    var convertedType: ConvertedType? {
        switch self {
        case .uint8: .uint8
        case .int8: .int8
        case .uint16: .uint16
        case .int16: .int16
        case .uint32: .uint32
        case .uint64: .uint64
        case .int32, .int64, .float32, .float64: nil
        }
    }

    /// Writes `values` (of this element's physical type) as elements at `destination`, checking that
    /// narrowed integers fit (a uint8 column holding 300 is corrupt).
    func store(_ values: ColumnValues, into destination: UnsafeMutableRawPointer) throws {
        switch (self, values) {
        case let (.uint8, .int32(v)): try narrow(v, UInt8.self, destination)
        case let (.int8, .int32(v)): try narrow(v, Int8.self, destination)
        case let (.uint16, .int32(v)): try narrow(v, UInt16.self, destination)
        case let (.int16, .int32(v)): try narrow(v, Int16.self, destination)
        case let (.uint32, .int32(v)), let (.int32, .int32(v)): copyBytes(v, destination)
        case let (.uint64, .int64(v)), let (.int64, .int64(v)): copyBytes(v, destination)
        case let (.float32, .float(v)): copyBytes(v, destination)
        case let (.float64, .double(v)): copyBytes(v, destination)
        default:
            throw ParquetError(.schemaMismatch, "tensor elements of type \(self) cannot be stored in \(values)")
        }
    }

    private func copyBytes<T>(_ values: [T], _ destination: UnsafeMutableRawPointer) {
        values.withUnsafeBytes { bytes in
            if let base = bytes.baseAddress { destination.copyMemory(from: base, byteCount: bytes.count) }
        }
    }

    private func narrow<T: FixedWidthInteger>(_ values: [Int32], _: T.Type, _ destination: UnsafeMutableRawPointer) throws {
        let out = destination.assumingMemoryBound(to: T.self)
        for (i, value) in values.enumerated() {
            guard let narrowed = T(exactly: value) else {
                throw ParquetError.corruptPage("tensor element \(value) does not fit in \(self)")
            }
            out[i] = narrowed
        }
    }
}
