import Foundation

/// A memory-mapped safetensors file: an 8-byte little-endian header length, a JSON header naming each
/// tensor's dtype, shape and [begin, end) byte offsets into the data that follows, then the data.
///
/// Every offset is checked against the file before any tensor is touched; aligned float32 tensors are
/// borrowed from the mapping, others are copied.
///
/// To export torchvision's pretrained weights:
///
///     from torchvision.models import resnet50, ResNet50_Weights; import safetensors.torch
///     safetensors.torch.save_file(resnet50(weights=ResNet50_Weights.DEFAULT).state_dict(), "resnet50.safetensors")
public final class SafetensorsFile: WeightSource, @unchecked Sendable {
    public struct Entry: Sendable, Equatable {
        public let dtype: DType
        public let shape: [Int]
        /// Offsets into the file (not the data section).
        public let byteRange: Range<Int>
    }

    public let path: String
    public let entries: [String: Entry]
    public let metadata: [String: String]
    private let file: MappedFile

    /// The largest header accepted (the reference implementation's limit).
    static let maximumHeaderLength = 100_000_000

    public convenience init(path: String) throws {
        try self.init(file: MappedFile(path: path))
    }

    init(file: MappedFile) throws {
        self.file = file
        self.path = file.path
        let bytes = file.bytes
        let path = file.path
        func malformed(_ why: String) -> InferenceError { InferenceError(.malformedFile, "\(path): \(why)") }

        guard bytes.count >= 8 else { throw malformed("\(bytes.count) bytes is too short for a safetensors header") }
        let declared = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
        guard declared <= UInt64(Self.maximumHeaderLength) else {
            throw malformed("header length \(declared) exceeds the \(Self.maximumHeaderLength)-byte limit")
        }
        let headerLength = Int(declared)
        guard headerLength <= bytes.count - 8 else {
            throw malformed("header length \(headerLength) runs past the end of the \(bytes.count)-byte file (truncated?)")
        }
        let dataStart = 8 + headerLength
        let headerData = Data(bytes[8..<dataStart])
        if let depth = Self.nestingBeyond(Self.maximumNesting, headerData) {
            throw malformed("header nests JSON deeper than \(Self.maximumNesting) levels (at byte \(8 + depth))")
        }
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: headerData)
        } catch {
            throw malformed("header is not valid JSON")
        }
        guard let header = json as? [String: Any] else { throw malformed("header is not a JSON object") }

        var entries: [String: Entry] = [:]
        var metadata: [String: String] = [:]
        for (name, value) in header {
            if name == "__metadata__" {
                guard let meta = value as? [String: Any] else { throw malformed("__metadata__ is not an object") }
                for (key, v) in meta { metadata[key] = (v as? String) ?? "\(v)" }
                continue
            }
            let tensor = Self.quoted(name)
            guard let info = value as? [String: Any],
                  let dtypeName = info["dtype"] as? String,
                  let shapeValues = info["shape"] as? [Any],
                  let offsetValues = info["data_offsets"] as? [Any], offsetValues.count == 2
            else { throw malformed("tensor \(tensor) lacks dtype, shape or data_offsets") }
            guard let dtype = DType(safetensorsName: dtypeName) else {
                throw malformed("tensor \(tensor) has unknown dtype \(Self.quoted(dtypeName))")
            }
            guard shapeValues.count <= Self.maximumDimensions else {
                throw malformed("tensor \(tensor) has \(shapeValues.count) dimensions, more than \(Self.maximumDimensions)")
            }
            let shape = try shapeValues.enumerated().map { i, v -> Int in
                guard let n = Self.integer(v), n >= 0 else {
                    throw malformed("tensor \(tensor) has a bad shape: dimension \(i) (\(Self.quoted("\(v)"))) is not a non-negative integer")
                }
                return n
            }
            guard let begin = Self.integer(offsetValues[0]), let end = Self.integer(offsetValues[1]),
                  begin >= 0, begin <= end
            else {
                throw malformed("tensor \(tensor) has bad data_offsets \(Self.quoted("\(offsetValues)")): need two integers 0 ≤ begin ≤ end")
            }
            guard end <= bytes.count - dataStart else {
                throw malformed("tensor \(tensor) data_offsets [\(begin), \(end)) run past the \(bytes.count - dataStart)-byte data section (truncated file or lying header)")
            }
            var count = 1
            for dim in shape {
                let (product, overflow) = count.multipliedReportingOverflow(by: dim)
                guard !overflow else { throw malformed("tensor \(tensor) shape \(shape) overflows") }
                count = product
            }
            guard count.multipliedReportingOverflow(by: dtype.byteSize) == (end - begin, false) else {
                throw malformed("tensor \(tensor) is \(shape) of \(dtypeName) (\(count) × \(dtype.byteSize) bytes) but its data_offsets span \(end - begin) bytes")
            }
            entries[name] = Entry(dtype: dtype, shape: shape, byteRange: (dataStart + begin)..<(dataStart + end))
        }
        // Tensors must not overlap (the format requires a contiguous, non-overlapping layout). In order of
        // start, a tensor overlaps an earlier one exactly when it starts before the furthest end so far.
        let ranges = entries.filter { !$0.value.byteRange.isEmpty }
            .sorted { ($0.value.byteRange.lowerBound, $0.key) < ($1.value.byteRange.lowerBound, $1.key) }
        var furthest: (name: String, end: Int)?
        for (name, entry) in ranges {
            if let furthest, entry.byteRange.lowerBound < furthest.end {
                throw malformed("tensors \(Self.quoted(furthest.name)) and \(Self.quoted(name)) overlap (bytes \(entry.byteRange.lowerBound)..<\(min(furthest.end, entry.byteRange.upperBound)) of the file)")
            }
            if entry.byteRange.upperBound > furthest?.end ?? 0 { furthest = (name, entry.byteRange.upperBound) }
        }
        self.entries = entries
        self.metadata = metadata
    }

    /// The tensor as stored (borrowed from the mapping).
    public func rawTensor(named name: String) throws -> Tensor {
        guard let entry = entries[name] else {
            throw InferenceError(.missingWeight, "\(path): no tensor named '\(name)'")
        }
        // Invariant: byteRange lies inside the mapping (checked in init).
        guard let mapping = file.bytes.baseAddress else {
            throw InferenceError(.malformedFile, "\(path): '\(name)' has no data (empty file)")
        }
        let base = UnsafeMutableRawPointer(mutating: mapping) + entry.byteRange.lowerBound
        let storage = TensorStorage(borrowing: base, byteCount: entry.byteRange.count, owner: file)
        return try Tensor(shape: entry.shape, dtype: entry.dtype, storage: storage)
    }

    /// The float32 tensor `name` of `shape`: float16 and bfloat16 are widened exactly; other dtypes, a
    /// missing name or another shape are errors.
    public func tensor(named name: String, shape: [Int], role: ParameterRole) throws -> Tensor {
        guard let entry = entries[name] else {
            throw InferenceError(.missingWeight, "\(path): the model needs '\(name)' \(shape), which the file does not have")
        }
        guard entry.shape == shape else {
            throw InferenceError(.shapeMismatch, "\(path): '\(name)' has shape \(entry.shape), the model needs \(shape)")
        }
        guard [.float32, .float16, .bfloat16].contains(entry.dtype) else {
            throw InferenceError(.dtypeMismatch, "\(path): '\(name)' is \(entry.dtype.safetensorsName), the model needs a float (F32, F16 or BF16)")
        }
        return try rawTensor(named: name).asFloat32()
    }

    /// A JSON number that is an integer (not a boolean, not a fraction, within ±9e15).
    private static func integer(_ value: Any) -> Int? {
        // `is Bool` holds for the numbers 0 and 1 too (NSNumber bridging); JSON's true and false have a class of their own.
        if type(of: value) == jsonBooleanType { return nil }
        if let n = value as? Int { return n }
        if let d = value as? Double, d == d.rounded(), abs(d) < 9e15 { return Int(d) }
        return nil
    }

    private static let jsonBooleanType: Any.Type = type(of: NSNumber(value: true) as Any)

    /// The most dimensions a tensor may have.
    static let maximumDimensions = 64
    /// The deepest JSON nesting accepted (a valid header nests 3 levels).
    static let maximumNesting = 64

    /// The offset at which `json` first nests brackets deeper than `limit`, counted outside strings, or nil.
    /// Checked before parsing, so a hostile header cannot exhaust the parser's stack.
    static func nestingBeyond(_ limit: Int, _ json: Data) -> Int? {
        var depth = 0, inString = false, escaped = false
        for (offset, byte) in json.enumerated() {
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                if depth > limit { return offset }
            case UInt8(ascii: "]"), UInt8(ascii: "}"): depth -= 1
            default: break
            }
        }
        return nil
    }

    /// A tensor name or string from the header for a message: quoted, at most 80 characters.
    static func quoted(_ text: String) -> String {
        text.count <= 80 ? "'\(text)'" : "'\(text.prefix(80))…' (\(text.utf8.count) bytes)"
    }
}
