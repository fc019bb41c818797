/// A dense, row-major tensor: shape, element type and storage (owned or borrowed).
///
/// Tensors are values that share storage; the engine never writes into a tensor it did not create.
public struct Tensor: Sendable {
    public let shape: [Int]
    public let dtype: DType
    public let storage: TensorStorage

    public var elementCount: Int { shape.reduce(1, *) }
    public var byteCount: Int { elementCount * dtype.byteSize }

    public init(shape: [Int], dtype: DType, storage: TensorStorage) throws {
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw InferenceError(.shapeMismatch, "negative dimension in shape \(shape)")
        }
        var count = 1
        for dim in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: dim)
            guard !overflow else { throw InferenceError(.shapeMismatch, "shape \(shape) has more than Int.max elements") }
            count = product
        }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: dtype.byteSize)
        guard !overflow, bytes <= storage.byteCount else {
            throw InferenceError(.shapeMismatch, "shape \(shape) of \(dtype) needs more than the \(storage.byteCount) bytes given")
        }
        self.shape = shape
        self.dtype = dtype
        self.storage = storage
    }

    /// A zero-filled float32 tensor.
    public static func zeros(_ shape: [Int]) throws -> Tensor {
        let count = shape.reduce(1, *)
        return try Tensor(shape: shape, dtype: .float32, storage: TensorStorage(zeroedByteCount: count * 4))
    }

    /// A float32 tensor holding `values` (row-major).
    public init(shape: [Int], values: [Float]) throws {
        guard shape.reduce(1, *) == values.count else {
            throw InferenceError(.shapeMismatch, "\(values.count) values do not fill shape \(shape)")
        }
        let storage = try TensorStorage(zeroedByteCount: values.count * 4)
        values.withUnsafeBytes { source in
            if let base = source.baseAddress { storage.bytes.copyMemory(from: base, byteCount: source.count) }
        }
        try self.init(shape: shape, dtype: .float32, storage: storage)
    }

    /// The elements of a float32 tensor; throws for other dtypes.
    public func withFloats<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) throws -> R {
        guard dtype == .float32 else {
            throw InferenceError(.dtypeMismatch, "expected a float32 tensor, found \(dtype)")
        }
        // Invariant: storage holds at least elementCount floats (checked in init), aligned (owned storage is
        // 64-byte aligned; borrowed float32 storage is checked by whoever borrows it).
        let floats = UnsafeBufferPointer(start: storage.bytes.assumingMemoryBound(to: Float.self), count: elementCount)
        return try body(floats)
    }

    /// The elements as float32 values (a copy; converts float16 and bfloat16 exactly).
    public func floats() throws -> [Float] {
        let count = elementCount
        let raw = UnsafeRawBufferPointer(start: storage.bytes, count: count * dtype.byteSize)
        switch dtype {
        case .float32:
            return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
                // Invariant: raw holds count × 4 bytes; copyMemory has no alignment requirement.
                if let base = buffer.baseAddress, count > 0 { UnsafeMutableRawPointer(base).copyMemory(from: storage.bytes, byteCount: count * 4) }
                initialized = count
            }
        case .bfloat16:
            return (0..<count).map { HalfFloats.bfloat16ToFloat(raw.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self)) }
        case .float16:
            return (0..<count).map { HalfFloats.float16ToFloat(raw.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self)) }
        default:
            throw InferenceError(.dtypeMismatch, "cannot read \(dtype) elements as float32")
        }
    }

    /// This tensor as an owned float32 tensor: itself when it already is one and is 4-byte aligned.
    public func asFloat32() throws -> Tensor {
        if dtype == .float32, Int(bitPattern: storage.bytes) % 4 == 0 { return self }
        return try Tensor(shape: shape, values: floats())
    }

    /// The same bytes seen with another shape of as many elements.
    public func reshaped(_ newShape: [Int]) throws -> Tensor {
        guard newShape.reduce(1, *) == elementCount else {
            throw InferenceError(.shapeMismatch, "cannot reshape \(shape) to \(newShape)")
        }
        return try Tensor(shape: newShape, dtype: dtype, storage: storage)
    }
}
