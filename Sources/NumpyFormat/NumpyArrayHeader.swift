import Foundation

/// NumPy's `.npy` format: a magic string, a header that is a Python dict literal (dtype, order, shape),
/// then the raw array data. The one codec of the format in Sluice: `sluice preprocess` (Imaging) and
/// `sluice predict` / calibration (Inference) read and write through it.
public struct NumpyArrayHeader: Sendable, Equatable {
    public var dtype: NumpyDType
    /// C-order dimensions; their product fits in `Int` (checked when parsed or made).
    public var shape: [Int]
    /// Where the array's data starts in the file.
    public var dataOffset: Int

    public static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)
    /// The longest header read (numpy's own `max_header_size` default is 10,000 bytes).
    public static let maxHeaderLength = 1 << 16
    /// The most dimensions an array may have (numpy 2's `NPY_MAXDIMS`).
    public static let maxDimensions = 64

    public var elementCount: Int { Self.elementCount(shape) ?? 0 }
    public var dataByteCount: Int { elementCount * dtype.size }

    /// Elements in an array of `shape`, or nil when a dimension is negative or the product overflows.
    public static func elementCount(_ shape: [Int]) -> Int? {
        var count = 1
        for dim in shape {
            guard dim >= 0 else { return nil }
            let (product, overflow) = count.multipliedReportingOverflow(by: dim)
            if overflow { return nil }
            count = product
        }
        return count
    }

    /// The data's size in bytes for `shape` of `dtype`, or nil when it does not fit in `Int`.
    public static func byteCount(dtype: NumpyDType, shape: [Int]) -> Int? {
        guard shape.count <= maxDimensions, let count = elementCount(shape) else { return nil }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: dtype.size)
        return overflow ? nil : bytes
    }

    /// The header bytes exactly as `numpy.save` writes them (format 1.0, padded to a multiple of 64 bytes
    /// with room to grow the first axis), so our files and numpy's are byte-identical.
    public static func encode(dtype: NumpyDType, shape: [Int]) -> [UInt8] {
        let dims = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var dict = "{'descr': '\(dtype.descr)', 'fortran_order': False, 'shape': \(dims), }"
        if let first = shape.first { dict += String(repeating: " ", count: max(0, 21 - String(first).count)) }
        let unpadded = magic.count + 2 + 2 + dict.utf8.count + 1
        let padding = (64 - unpadded % 64) % 64
        let length = dict.utf8.count + padding + 1
        var bytes = magic + [1, 0, UInt8(length & 0xFF), UInt8(length >> 8)]
        bytes += Array(dict.utf8) + [UInt8](repeating: 0x20, count: padding) + [0x0A]
        return bytes
    }

    /// Parses and checks the header of a `.npy` file whose bytes are `file` (format 1.x, 2.x or 3.x,
    /// C order): its length, the dtype, the shape (at most `maxDimensions` non-negative integers whose
    /// product fits) and the data, which must be exactly what the shape needs — before anything is copied.
    public static func parse(_ file: UnsafeRawBufferPointer) throws(NumpyFormatError) -> NumpyArrayHeader {
        guard file.count >= 10, file.prefix(6).elementsEqual(magic) else {
            throw NumpyFormatError(.notNumpy, "not a .npy file (no \\x93NUMPY magic)")
        }
        let major = file[6]
        guard (1...3).contains(major) else {
            throw NumpyFormatError(.unsupported, ".npy format version \(major).\(file[7])")
        }
        let headerStart = major == 1 ? 10 : 12
        guard file.count >= headerStart else {
            throw NumpyFormatError(.truncated, ".npy file of \(file.count) bytes ends inside its \(headerStart)-byte preamble")
        }
        let length = major == 1
            ? Int(file[8]) | Int(file[9]) << 8
            : Int(file[8]) | Int(file[9]) << 8 | Int(file[10]) << 16 | Int(file[11]) << 24
        guard length <= maxHeaderLength else {
            throw NumpyFormatError(.corrupt, ".npy header length \(length) at byte 8 is over the limit of \(maxHeaderLength) bytes")
        }
        guard length <= file.count - headerStart else {
            throw NumpyFormatError(.truncated, ".npy header of \(length) bytes runs past the end of the \(file.count)-byte file")
        }
        guard let dict = String(validating: UnsafeRawBufferPointer(rebasing: file[headerStart..<headerStart + length]), as: UTF8.self) else {
            throw NumpyFormatError(.corrupt, ".npy header (bytes \(headerStart)..<\(headerStart + length)) is not UTF-8 text")
        }
        guard let descrText = value(of: "descr", in: dict) else {
            throw NumpyFormatError(.corrupt, ".npy header has no 'descr': \(dict.prefix(200))")
        }
        let descr = descrText.trimmingCharacters(in: CharacterSet(charactersIn: "'\""))
        guard let dtype = NumpyDType(descr: descr) else {
            throw NumpyFormatError(.unsupported, ".npy dtype \(descr.prefix(40)) (\(NumpyDType.allCases.map { "\($0)" }.joined(separator: ", ")) are read)")
        }
        guard value(of: "fortran_order", in: dict) == "False" else {
            throw NumpyFormatError(.unsupported, "Fortran-order .npy arrays (save with np.ascontiguousarray)")
        }
        guard let shapeText = value(of: "shape", in: dict) else {
            throw NumpyFormatError(.corrupt, ".npy header has no 'shape': \(dict.prefix(200))")
        }
        guard shapeText.hasPrefix("("), shapeText.hasSuffix(")") else {
            throw NumpyFormatError(.corrupt, ".npy header has an unterminated shape \(shapeText.prefix(200))")
        }
        let dims = shapeText.trimmingCharacters(in: CharacterSet(charactersIn: "()")).split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard dims.count <= maxDimensions else {
            throw NumpyFormatError(.corrupt, ".npy shape has \(dims.count) dimensions, more than \(maxDimensions)")
        }
        var shape: [Int] = []
        for text in dims {
            guard let n = Int(text), n >= 0 else {
                throw NumpyFormatError(.corrupt, ".npy shape \(shapeText.prefix(200)): '\(text.prefix(40))' is not a non-negative integer")
            }
            shape.append(n)
        }
        let dataOffset = headerStart + length
        let available = file.count - dataOffset
        guard let count = elementCount(shape) else {
            throw NumpyFormatError(.shapeMismatch, ".npy shape \(shape) has more than Int.max elements")
        }
        let (needed, overflow) = count.multipliedReportingOverflow(by: dtype.size)
        guard !overflow, needed == available else {
            throw NumpyFormatError(.shapeMismatch, ".npy shape \(shape) of \(dtype) needs \(count) × \(dtype.size) bytes"
                + (overflow ? " (more than Int.max bytes)" : "")
                + "; the file has \(available) after its header (byte \(dataOffset)), which does not hold it")
        }
        return NumpyArrayHeader(dtype: dtype, shape: shape, dataOffset: dataOffset)
    }

    /// The text after `'key':` in a Python dict literal, up to the next top-level comma.
    private static func value(of key: String, in dict: String) -> String? {
        guard let range = dict.range(of: "'\(key)':") ?? dict.range(of: "\"\(key)\":") else { return nil }
        var depth = 0
        var result = ""
        for character in dict[range.upperBound...] {
            if character == "(" { depth += 1 }
            if character == ")" { depth -= 1 }
            if (character == "," && depth == 0) || character == "}" { break }
            result.append(character)
        }
        return result.trimmingCharacters(in: .whitespaces)
    }
}
