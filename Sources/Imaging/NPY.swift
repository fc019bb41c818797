import Foundation
import NumpyFormat

/// `.npy` arrays as `sluice preprocess` reads and writes them, through the one codec (`NumpyFormat`),
/// with its errors as `ImagingError`s.
public enum NPY {
    public typealias DType = NumpyDType

    /// An array read from a `.npy` file: C-order data of `shape`.
    public struct Array: Sendable, Equatable {
        public var dtype: DType
        public var shape: [Int]
        public var data: [UInt8]

        /// Elements in the array (its shape was checked when it was decoded).
        public var count: Int { NumpyArrayHeader.elementCount(shape) ?? 0 }
    }

    public static let magic = NumpyArrayHeader.magic
    public static let maxHeaderLength = NumpyArrayHeader.maxHeaderLength

    /// The `.npy` bytes of `data`, which must hold exactly the array's bytes (little-endian, C order).
    public static func encode(_ data: UnsafeRawBufferPointer, dtype: DType, shape: [Int]) throws -> [UInt8] {
        guard NumpyArrayHeader.byteCount(dtype: dtype, shape: shape) == data.count else {
            throw ImagingError(.invalidArgument, "\(data.count) bytes are not a \(dtype) array of shape \(shape)")
        }
        return NumpyArrayHeader.encode(dtype: dtype, shape: shape) + Swift.Array(data)
    }

    /// Writes `data` as a `.npy` file at `path`.
    public static func write(_ data: UnsafeRawBufferPointer, dtype: DType, shape: [Int], to path: String) throws {
        let bytes = try encode(data, dtype: dtype, shape: shape)
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw ImagingError(.io, "cannot write \(path): \(error.localizedDescription)")
        }
    }

    /// Parses `.npy` bytes; the header is checked against the bytes before anything is copied.
    public static func decode(_ bytes: [UInt8]) throws -> Array {
        do {
            let header = try bytes.withUnsafeBytes { try NumpyArrayHeader.parse($0) }
            return Array(dtype: header.dtype, shape: header.shape, data: Swift.Array(bytes[header.dataOffset...]))
        } catch let error as NumpyFormatError {
            throw ImagingError(error)
        }
    }

    /// Reads the `.npy` file at `path`, refusing files larger than `limits` allow a raw image tensor.
    public static func read(_ path: String, limits: ImageLimits = .default) throws -> Array {
        let bytes = try ImageFile.read(path, limits: limits)
        do {
            return try decode(bytes)
        } catch let error as ImagingError {
            throw error.from(path)
        }
    }
}

extension ImagingError {
    init(_ error: NumpyFormatError) {
        let kind: Kind = switch error.kind {
        case .notNumpy, .corrupt: .corrupt
        case .truncated: .truncated
        case .unsupported: .unsupported
        case .shapeMismatch: .shapeMismatch
        }
        self.init(kind, error.message)
    }
}
