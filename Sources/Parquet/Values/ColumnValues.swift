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
        switch (self, other) {
        case (.boolean(var a), .boolean(let b)): self = .boolean([]); a += b; self = .boolean(a)
        case (.int32(var a), .int32(let b)): self = .int32([]); a += b; self = .int32(a)
        case (.int64(var a), .int64(let b)): self = .int64([]); a += b; self = .int64(a)
        case (.float(var a), .float(let b)): self = .float([]); a += b; self = .float(a)
        case (.double(var a), .double(let b)): self = .double([]); a += b; self = .double(a)
        case (.int96(var a), .int96(let b)): self = .boolean([]); a.append(contentsOf: b); self = .int96(a)
        case (.byteArray(var a), .byteArray(let b)): self = .boolean([]); a.append(contentsOf: b); self = .byteArray(a)
        case (.fixedLenByteArray(var a), .fixedLenByteArray(let b)):
            self = .boolean([]); a.append(contentsOf: b); self = .fixedLenByteArray(a)
        default:
            throw ParquetError(.schemaMismatch, "a page's values do not have the column's physical type")
        }
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
