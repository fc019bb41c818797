import Foundation

/// Reads NumPy `.npy` arrays (format versions 1–3): little-endian float32, float16, float64, int64,
/// int32 or uint8, C order. This is what `sluice predict` takes as already-preprocessed input.
public enum NumpyFile {
    /// The longest header read (numpy's own `max_header_size` default is 10,000 bytes).
    public static let maxHeaderLength = 1 << 16
    /// The most dimensions an array may have (numpy 2's `NPY_MAXDIMS`).
    public static let maxDimensions = 64

    /// Maps the file (a regular file only: a device or pipe could be read forever) and copies out the array.
    public static func read(path: String) throws -> Tensor {
        let file = try MappedFile(path: path)
        return try withExtendedLifetime(file) {
            guard let base = file.bytes.baseAddress else { return try parse(Data(), name: path) }
            // Invariant: the mapping outlives `data`, which is only read inside this closure.
            let data = Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: base), count: file.bytes.count, deallocator: .none)
            return try parse(data, name: path)
        }
    }

    public static func parse(_ data: Data, name: String = "array") throws -> Tensor {
        let bytes = [UInt8](data.prefix(12))
        guard bytes.count >= 10, bytes[0] == 0x93, bytes[1...5].elementsEqual("NUMPY".utf8) else {
            throw InferenceError(.malformedFile, "\(name): not a .npy file (no \\x93NUMPY magic)")
        }
        let major = bytes[6]
        let headerLength: Int
        let headerStart: Int
        switch major {
        case 1:
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw InferenceError(.malformedFile, "\(name): truncated .npy header") }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            headerStart = 12
        default:
            throw InferenceError(.unsupported, "\(name): .npy format version \(major) is not supported")
        }
        guard headerLength <= maxHeaderLength else {
            throw InferenceError(.malformedFile, "\(name): .npy header length \(headerLength) at byte 8 is over the limit of \(maxHeaderLength) bytes")
        }
        guard headerLength <= data.count - headerStart else {
            throw InferenceError(.malformedFile, "\(name): the .npy header of \(headerLength) bytes runs past the end of the \(data.count)-byte file")
        }
        guard let header = String(data: data.subdata(in: headerStart..<headerStart + headerLength), encoding: .utf8) else {
            throw InferenceError(.malformedFile, "\(name): the .npy header (bytes \(headerStart)..<\(headerStart + headerLength)) is not UTF-8 text")
        }
        let descr = try field("descr", in: header, name: name)
        let fortran = try field("fortran_order", in: header, name: name)
        let shapeText = try field("shape", in: header, name: name)
        guard fortran == "False" else {
            throw InferenceError(.unsupported, "\(name): Fortran-ordered arrays are not supported; save with np.ascontiguousarray")
        }
        let dtype: DType
        switch descr.trimmingCharacters(in: CharacterSet(charactersIn: "'\"")) {
        case "<f4": dtype = .float32
        case "<f2": dtype = .float16
        case "<f8": dtype = .float64
        case "<i8": dtype = .int64
        case "<i4": dtype = .int32
        case "|u1", "<u1": dtype = .uint8
        case let other:
            throw InferenceError(.dtypeMismatch, "\(name): .npy dtype \(other) is not supported (float32, float16, float64, int64, int32, uint8)")
        }
        let dims = shapeText.trimmingCharacters(in: CharacterSet(charactersIn: "()"))
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard dims.count <= maxDimensions else {
            throw InferenceError(.malformedFile, "\(name): .npy shape has \(dims.count) dimensions, more than \(maxDimensions)")
        }
        var shape: [Int] = []
        var count = 1, overflow = false
        for dim in dims {
            guard let value = Int(dim), value >= 0 else {
                throw InferenceError(.malformedFile, "\(name): bad .npy shape \(shapeText.prefix(200)): '\(dim.prefix(40))' is not a non-negative integer")
            }
            shape.append(value)
            let (product, o) = count.multipliedReportingOverflow(by: value)
            overflow = overflow || o
            count = product
        }
        let start = headerStart + headerLength
        let available = data.count - start
        guard !overflow else {
            throw InferenceError(.malformedFile, "\(name): .npy shape \(shape) has more than Int.max elements")
        }
        guard count <= available / dtype.byteSize else {
            throw InferenceError(.malformedFile, "\(name): shape \(shape) of \(dtype) needs \(count) × \(dtype.byteSize) bytes; the file has \(available) after its header (byte \(start))")
        }
        let storage = try TensorStorage(zeroedByteCount: count * dtype.byteSize)
        data.withUnsafeBytes { raw in
            if let base = raw.baseAddress { storage.bytes.copyMemory(from: base + start, byteCount: count * dtype.byteSize) }
        }
        return try Tensor(shape: shape, dtype: dtype, storage: storage)
    }

    /// The text of `'key': value` in a .npy header dictionary.
    private static func field(_ key: String, in header: String, name: String) throws -> String {
        guard let keyRange = header.range(of: "'\(key)'") ?? header.range(of: "\"\(key)\""),
              let colon = header[keyRange.upperBound...].firstIndex(of: ":")
        else {
            throw InferenceError(.malformedFile, "\(name): .npy header has no '\(key)'")
        }
        var rest = header[header.index(after: colon)...].drop(while: { $0 == " " })
        if rest.first == "(" {
            guard let close = rest.firstIndex(of: ")") else {
                throw InferenceError(.malformedFile, "\(name): unterminated shape in .npy header")
            }
            return String(rest[...close])
        }
        if let end = rest.firstIndex(where: { $0 == "," || $0 == "}" }) { rest = rest[..<end] }
        return rest.trimmingCharacters(in: .whitespaces)
    }
}
