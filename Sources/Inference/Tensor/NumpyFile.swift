import Foundation
import NumpyFormat

/// Reads NumPy `.npy` arrays (through the one codec, `NumpyFormat`) into tensors: what `sluice predict`
/// takes as already-preprocessed input and what calibration samples are.
public enum NumpyFile {
    /// Maps the file (a regular file only: a device or pipe could be read forever) and copies out the array.
    public static func read(path: String) throws -> Tensor {
        let file = try MappedFile(path: path)
        return try withExtendedLifetime(file) { try parse(file.bytes, name: path) }
    }

    public static func parse(_ data: Data, name: String = "array") throws -> Tensor {
        try data.withUnsafeBytes { try parse($0, name: name) }
    }

    static func parse(_ file: UnsafeRawBufferPointer, name: String) throws -> Tensor {
        let header: NumpyArrayHeader
        do {
            header = try NumpyArrayHeader.parse(file)
        } catch {
            throw InferenceError(error.kind == .unsupported ? .unsupported : .malformedFile, "\(name): \(error.message)")
        }
        guard let dtype = DType(rawValue: header.dtype.rawValue) else {
            throw InferenceError(.dtypeMismatch, "\(name): .npy dtype \(header.dtype) has no tensor type")
        }
        let storage = try TensorStorage(zeroedByteCount: header.dataByteCount)
        if let base = file.baseAddress, header.dataByteCount > 0 {
            storage.bytes.copyMemory(from: base + header.dataOffset, byteCount: header.dataByteCount)
        }
        return try Tensor(shape: header.shape, dtype: dtype, storage: storage)
    }
}
