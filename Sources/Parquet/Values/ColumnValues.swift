/// The non-null values of one leaf column (a page, a dictionary, or a whole column chunk), in their physical form.
public enum ColumnValues: Sendable, Equatable {
    case boolean([Bool])
    case int32([Int32])
    case int64([Int64])
    /// 12-byte values: nanoseconds of the day (8 bytes LE) then the Julian day (4 bytes LE).
    case int96(BinaryValues)
    case float([Float])
    case double([Double])
    case byteArray(BinaryValues)
    case fixedLenByteArray(BinaryValues)

    public static func empty(_ type: PhysicalType) -> ColumnValues {
        switch type {
        case .boolean: .boolean([])
        case .int32: .int32([])
        case .int64: .int64([])
        case .int96: .int96(BinaryValues())
        case .float: .float([])
        case .double: .double([])
        case .byteArray: .byteArray(BinaryValues())
        case .fixedLenByteArray: .fixedLenByteArray(BinaryValues())
        }
    }

    public var count: Int {
        switch self {
        case let .boolean(v): v.count
        case let .int32(v): v.count
        case let .int64(v): v.count
        case let .float(v): v.count
        case let .double(v): v.count
        case let .int96(v), let .byteArray(v), let .fixedLenByteArray(v): v.count
        }
    }

    /// Appends `other`, which must hold the same physical type.
    mutating func append(contentsOf other: ColumnValues) throws {
        guard other.kind == kind else {
            throw ParquetError(.schemaMismatch, "a page's values do not have the column's physical type")
        }
        switch other {
        case let .boolean(b): try updateBoolean { $0 += b }
        case let .int32(b): try updateInt32 { $0 += b }
        case let .int64(b): try updateInt64 { $0 += b }
        case let .float(b): try updateFloat { $0 += b }
        case let .double(b): try updateDouble { $0 += b }
        case let .int96(b), let .byteArray(b), let .fixedLenByteArray(b): try updateBinary { $0.append(contentsOf: b) }
        }
    }

    /// Room for `count` more values (and `bytes` more bytes of binary values).
    mutating func reserve(values count: Int, bytes: Int) {
        // (The update closures do not throw.)
        switch kind {
        case .boolean: try? updateBoolean { $0.reserveCapacity($0.count + count) }
        case .int32: try? updateInt32 { $0.reserveCapacity($0.count + count) }
        case .int64: try? updateInt64 { $0.reserveCapacity($0.count + count) }
        case .float: try? updateFloat { $0.reserveCapacity($0.count + count) }
        case .double: try? updateDouble { $0.reserveCapacity($0.count + count) }
        case .int96, .byteArray, .fixedLenByteArray:
            try? updateBinary { $0.reserveCapacity(values: $0.count + count, bytes: $0.bytes.count + bytes) }
        }
    }

    enum Kind { case boolean, int32, int64, int96, float, double, byteArray, fixedLenByteArray }

    var kind: Kind {
        switch self {
        case .boolean: .boolean
        case .int32: .int32
        case .int64: .int64
        case .int96: .int96
        case .float: .float
        case .double: .double
        case .byteArray: .byteArray
        case .fixedLenByteArray: .fixedLenByteArray
        }
    }

    // Each `update` takes the payload out of the enum (leaving a placeholder) so that `body` mutates the only
    // reference and arrays grow in place. (Binding the payload in a `switch self` case keeps the switch's
    // copy alive through the case body: every append would copy the whole column.)
    mutating func updateBoolean(_ body: (inout [Bool]) throws -> Void) throws {
        guard case var .boolean(a) = self else { return }
        self = .int32([])
        do { try body(&a) } catch { self = .boolean(a); throw error }
        self = .boolean(a)
    }

    mutating func updateInt32(_ body: (inout [Int32]) throws -> Void) throws {
        guard case var .int32(a) = self else { return }
        self = .boolean([])
        do { try body(&a) } catch { self = .int32(a); throw error }
        self = .int32(a)
    }

    mutating func updateInt64(_ body: (inout [Int64]) throws -> Void) throws {
        guard case var .int64(a) = self else { return }
        self = .boolean([])
        do { try body(&a) } catch { self = .int64(a); throw error }
        self = .int64(a)
    }

    mutating func updateFloat(_ body: (inout [Float]) throws -> Void) throws {
        guard case var .float(a) = self else { return }
        self = .boolean([])
        do { try body(&a) } catch { self = .float(a); throw error }
        self = .float(a)
    }

    mutating func updateDouble(_ body: (inout [Double]) throws -> Void) throws {
        guard case var .double(a) = self else { return }
        self = .boolean([])
        do { try body(&a) } catch { self = .double(a); throw error }
        self = .double(a)
    }

    /// INT96, BYTE_ARRAY and FIXED_LEN_BYTE_ARRAY values.
    mutating func updateBinary(_ body: (inout BinaryValues) throws -> Void) throws {
        let wrap: (BinaryValues) -> ColumnValues
        var a: BinaryValues
        if case let .int96(v) = self { a = v; wrap = ColumnValues.int96 }
        else if case let .byteArray(v) = self { a = v; wrap = ColumnValues.byteArray }
        else if case let .fixedLenByteArray(v) = self { a = v; wrap = ColumnValues.fixedLenByteArray }
        else { return }
        self = .boolean([])
        do { try body(&a) } catch { self = wrap(a); throw error }
        self = wrap(a)
    }

    /// The values at `indices` (dictionary decoding); every index is checked against the dictionary's size,
    /// and the bytes gathered against `maxBytes` (a long dictionary value repeated can make a small page huge).
    func gather(_ indices: UnsafeBufferPointer<UInt32>, maxBytes: Int = ReadLimits.default.maxDecodedPageBytes) throws -> ColumnValues {
        let size = count
        for index in indices where Int(index) >= size {
            throw ParquetError.corruptPage("dictionary index \(index) is out of range for a dictionary of \(size) values")
        }
        switch self {
        case let .int96(v), let .byteArray(v), let .fixedLenByteArray(v):
            var total = 0
            for index in indices {
                total += v.offsets[Int(index) + 1] - v.offsets[Int(index)]
                guard total <= maxBytes else {
                    throw ParquetError(.limitExceeded, "\(indices.count) dictionary values gather more than \(maxBytes) bytes (ReadLimits.maxDecodedPageBytes)")
                }
            }
        default: break
        }
        switch self {
        case let .boolean(v): return .boolean(indices.map { v[Int($0)] })
        case let .int32(v): return .int32(indices.map { v[Int($0)] })
        case let .int64(v): return .int64(indices.map { v[Int($0)] })
        case let .float(v): return .float(indices.map { v[Int($0)] })
        case let .double(v): return .double(indices.map { v[Int($0)] })
        case let .int96(v): return .int96(v.gather(indices))
        case let .byteArray(v): return .byteArray(v.gather(indices))
        case let .fixedLenByteArray(v): return .fixedLenByteArray(v.gather(indices))
        }
    }
}

extension BinaryValues {
    mutating func append(contentsOf other: BinaryValues) {
        let base = offsets[offsets.count - 1]
        bytes.append(contentsOf: other.bytes)
        offsets.reserveCapacity(offsets.count + other.count)
        for i in 1..<other.offsets.count { offsets.append(base + other.offsets[i]) }
    }

    func gather(_ indices: UnsafeBufferPointer<UInt32>) -> BinaryValues {
        var result = BinaryValues()
        result.offsets.reserveCapacity(indices.count + 1)
        bytes.withUnsafeBytes { all in
            for index in indices {
                let i = Int(index)
                result.append(UnsafeRawBufferPointer(rebasing: all[offsets[i]..<offsets[i + 1]]))
            }
        }
        return result
    }
}
