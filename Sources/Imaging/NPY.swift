import Foundation

/// NumPy's `.npy` format: a magic string, a header that is a Python dict literal (dtype, order, shape),
/// then the raw array data. Written exactly as `numpy.save` writes it (format 1.0, the header padded to a
/// multiple of 64 bytes with room to grow the first axis), so our files and numpy's are byte-identical.
public enum NPY {
    public enum DType: String, Sendable, CaseIterable {
        case float32 = "<f4"
        case float16 = "<f2"
        case uint8 = "|u1"

        public var size: Int {
            switch self {
            case .float32: 4
            case .float16: 2
            case .uint8: 1
            }
        }
    }

    /// An array read from a `.npy` file: C-order data of `shape`.
    public struct Array: Sendable, Equatable {
        public var dtype: DType
        public var shape: [Int]
        public var data: [UInt8]

        /// Elements in the array (its shape was checked when it was decoded).
        public var count: Int { NPY.elementCount(shape) ?? 0 }

        /// The values as floats (float32 or float16 arrays).
        public func floats() throws -> [Float] {
            switch dtype {
            case .float32:
                guard data.count / 4 >= count else { throw ImagingError(.shapeMismatch, "\(data.count) bytes do not hold \(shape) float32") }
                return data.withUnsafeBytes { raw in (0..<count).map { raw.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) } }
            case .float16:
                guard data.count / 2 >= count else { throw ImagingError(.shapeMismatch, "\(data.count) bytes do not hold \(shape) float16") }
                return data.withUnsafeBytes { raw in (0..<count).map { Float(Float16(bitPattern: raw.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self))) } }
            case .uint8:
                throw ImagingError(.invalidArgument, "a uint8 array has no float values")
            }
        }
    }

    public static let magic: [UInt8] = [0x93] + Swift.Array("NUMPY".utf8)

    /// The header (magic, version, length, dict, padding) of an array of `shape`.
    public static func header(dtype: DType, shape: [Int]) -> [UInt8] {
        let dims = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var dict = "{'descr': '\(dtype.rawValue)', 'fortran_order': False, 'shape': \(dims), }"
        // numpy leaves room to grow the first axis to 21 digits.
        if let first = shape.first { dict += String(repeating: " ", count: max(0, 21 - String(first).count)) }
        let unpadded = magic.count + 2 + 2 + dict.utf8.count + 1
        let padding = (64 - unpadded % 64) % 64
        let length = dict.utf8.count + padding + 1
        var bytes = magic + [1, 0, UInt8(length & 0xFF), UInt8(length >> 8)]
        bytes += Swift.Array(dict.utf8) + [UInt8](repeating: 0x20, count: padding) + [0x0A]
        return bytes
    }

    /// The longest header read (numpy's own `max_header_size` default is 10,000 bytes).
    public static let maxHeaderLength = 1 << 16
    /// The most dimensions an array may have (numpy 2's `NPY_MAXDIMS`).
    public static let maxDimensions = 64

    /// Elements in an array of `shape`, or nil when a dimension is negative or the product overflows
    /// (a zero dimension anywhere makes the array empty only if no earlier product overflowed).
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

    /// The `.npy` bytes of `data`, which must hold exactly the array's bytes (little-endian, C order).
    public static func encode(_ data: UnsafeRawBufferPointer, dtype: DType, shape: [Int]) throws -> [UInt8] {
        guard shape.count <= maxDimensions, let count = elementCount(shape),
              count.multipliedReportingOverflow(by: dtype.size) == (data.count, false) else {
            throw ImagingError(.invalidArgument, "\(data.count) bytes are not a \(dtype) array of shape \(shape)")
        }
        return header(dtype: dtype, shape: shape) + Swift.Array(data)
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

    /// Parses `.npy` bytes (format 1.x, 2.x or 3.x, C order, one of `DType`). The header is checked against
    /// the bytes before anything is copied: its length, the shape (at most `maxDimensions` non-negative
    /// integers whose product fits), and the data, which must be exactly what the shape needs.
    public static func decode(_ bytes: [UInt8]) throws -> Array {
        guard bytes.count >= 10, Swift.Array(bytes[0..<6]) == magic else {
            throw ImagingError(.corrupt, "not a .npy file (no \\x93NUMPY magic)")
        }
        let major = bytes[6]
        guard (1...3).contains(major) else {
            throw ImagingError(.unsupported, ".npy format version \(major).\(bytes[7])")
        }
        let headerStart = major == 1 ? 10 : 12
        guard bytes.count >= headerStart else {
            throw ImagingError(.truncated, ".npy file of \(bytes.count) bytes ends inside its \(headerStart)-byte preamble")
        }
        let length = major == 1
            ? Int(bytes[8]) | Int(bytes[9]) << 8
            : Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
        guard length <= maxHeaderLength else {
            throw ImagingError(.corrupt, ".npy header length \(length) at byte 8 is over the limit of \(maxHeaderLength) bytes")
        }
        guard length <= bytes.count - headerStart else {
            throw ImagingError(.truncated, ".npy header of \(length) bytes runs past the end of the \(bytes.count)-byte file")
        }
        let dict = String(decoding: bytes[headerStart..<headerStart + length], as: UTF8.self)
        guard let descr = value(of: "descr", in: dict)?.trimmingCharacters(in: CharacterSet(charactersIn: "'\"")),
              let dtype = DType(rawValue: descr == "<u1" ? "|u1" : descr) else {
            throw ImagingError(.unsupported, ".npy dtype in header \(dict.trimmingCharacters(in: .whitespacesAndNewlines)) (float32, float16 and uint8 are read)")
        }
        guard value(of: "fortran_order", in: dict) == "False" else {
            throw ImagingError(.unsupported, "Fortran-order .npy arrays")
        }
        guard let shapeText = value(of: "shape", in: dict) else {
            throw ImagingError(.corrupt, ".npy header has no shape: \(dict)")
        }
        let dims = shapeText.trimmingCharacters(in: CharacterSet(charactersIn: "()"))
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard dims.count <= maxDimensions else {
            throw ImagingError(.corrupt, ".npy shape has \(dims.count) dimensions, more than \(maxDimensions)")
        }
        let shape = try dims.map { text -> Int in
            guard let n = Int(text), n >= 0 else {
                throw ImagingError(.corrupt, ".npy shape \(shapeText): '\(text.prefix(40))' is not a non-negative integer")
            }
            return n
        }
        let dataStart = headerStart + length
        let available = bytes.count - dataStart
        guard let count = elementCount(shape) else {
            throw ImagingError(.shapeMismatch, ".npy shape \(shape) has more than Int.max elements")
        }
        let (needed, overflow) = count.multipliedReportingOverflow(by: dtype.size)
        guard !overflow, needed == available else {
            throw ImagingError(.shapeMismatch, ".npy data of \(available) bytes (from byte \(dataStart)) does not hold a \(dtype) array of shape \(shape)"
                + " (\(overflow ? "more than Int.max" : String(needed)) bytes)")
        }
        return Array(dtype: dtype, shape: shape, data: Swift.Array(bytes[dataStart...]))
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

    /// The text after `'key':` in a Python dict literal, up to the next top-level comma.
    private static func value(of key: String, in dict: String) -> String? {
        guard let range = dict.range(of: "'\(key)':") else { return nil }
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
