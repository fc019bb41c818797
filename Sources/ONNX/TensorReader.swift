import Foundation
import Inference

/// Turns `TensorProto`s into constants: inline data (raw bytes or typed fields) or external data in a file
/// beside the model. Every size comes from the tensor's own dims and is checked against the bytes present
/// before anything is allocated.
struct TensorReader {
    /// The model file, for messages.
    let file: String
    /// The model's folder (symlinks resolved); external data must lie inside it. Nil: none is allowed.
    let directory: URL?

    func constant(_ proto: Onnx_TensorProto, node: String? = nil) throws -> Constant {
        func fail(_ kind: ONNXError.Kind, _ why: String) -> ONNXError {
            ONNXError(kind, file: file, node: node, "tensor '\(proto.name)': \(why)")
        }
        var count = 1
        var shape: [Int] = []
        for dim in proto.dims {
            guard dim >= 0, let d = Int(exactly: dim) else { throw fail(.malformed, "negative dimension in \(proto.dims)") }
            let (product, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow else { throw fail(.malformed, "dims \(proto.dims) overflow") }
            count = product
            shape.append(d)
        }
        let elementSize: Int
        switch Int(proto.dataType) {
        case Onnx_TensorProto.DataType.float.rawValue, Onnx_TensorProto.DataType.int32.rawValue: elementSize = 4
        case Onnx_TensorProto.DataType.int64.rawValue, Onnx_TensorProto.DataType.double.rawValue: elementSize = 8
        default: throw fail(.dtypeMismatch, "element type \(proto.dataType) is not supported (float, double, int32, int64 are)")
        }
        let (byteCount, overflow) = count.multipliedReportingOverflow(by: elementSize)
        guard !overflow else { throw fail(.malformed, "dims \(proto.dims) overflow") }
        guard ConstantFolding.foldable(shape, elements: count) else {
            throw fail(.malformed, "an empty tensor with dims \(proto.dims): other dimensions than the empty one must stay within \(ConstantFolding.limit) elements")
        }

        let raw: Data?
        if proto.dataLocation == .external {
            raw = try externalBytes(proto, byteCount: byteCount, fail: fail)
        } else if !proto.rawData.isEmpty || count == 0 {
            guard proto.rawData.count == byteCount else {
                throw fail(.malformed, "raw_data has \(proto.rawData.count) bytes; dims \(proto.dims) need \(byteCount)")
            }
            raw = proto.rawData
        } else {
            raw = nil
        }

        switch Int(proto.dataType) {
        case Onnx_TensorProto.DataType.float.rawValue:
            if let raw {
                let storage = try TensorStorage(zeroedByteCount: byteCount)
                raw.withUnsafeBytes { if let base = $0.baseAddress, byteCount > 0 { storage.bytes.copyMemory(from: base, byteCount: byteCount) } }
                return .floats(try Tensor(shape: shape, dtype: .float32, storage: storage))
            }
            guard proto.floatData.count == count else {
                throw fail(.malformed, "float_data has \(proto.floatData.count) values; dims \(proto.dims) need \(count)")
            }
            return .floats(try Tensor(shape: shape, values: proto.floatData))
        case Onnx_TensorProto.DataType.double.rawValue:
            let values: [Double]
            if let raw {
                values = raw.withUnsafeBytes { b in (0..<count).map { b.loadUnaligned(fromByteOffset: $0 * 8, as: Double.self) } }
            } else {
                guard proto.doubleData.count == count else { throw fail(.malformed, "double_data has \(proto.doubleData.count) values; need \(count)") }
                values = proto.doubleData
            }
            return .floats(try Tensor(shape: shape, values: values.map { Float($0) }))
        case Onnx_TensorProto.DataType.int64.rawValue:
            if let raw {
                return .ints(shape: shape, values: raw.withUnsafeBytes { b in
                    (0..<count).map { Int(clamping: Int64(littleEndian: b.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self))) }
                })
            }
            guard proto.int64Data.count == count else { throw fail(.malformed, "int64_data has \(proto.int64Data.count) values; need \(count)") }
            return .ints(shape: shape, values: proto.int64Data.map(clampedInt))
        default: // int32
            if let raw {
                return .ints(shape: shape, values: raw.withUnsafeBytes { b in
                    (0..<count).map { Int(Int32(littleEndian: b.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self))) }
                })
            }
            guard proto.int32Data.count == count else { throw fail(.malformed, "int32_data has \(proto.int32Data.count) values; need \(count)") }
            return .ints(shape: shape, values: proto.int32Data.map { Int($0) })
        }
    }

    /// The bytes of an external-data tensor: `location` relative to the model's folder (and inside it),
    /// `offset` and `length` checked against the file's size before reading.
    private func externalBytes(_ proto: Onnx_TensorProto, byteCount: Int,
                               fail: (ONNXError.Kind, String) -> ONNXError) throws -> Data {
        var entries: [String: String] = [:]
        for entry in proto.externalData { entries[entry.key] = entry.value }
        guard let location = entries["location"], !location.isEmpty else { throw fail(.malformed, "external data without a location") }
        guard let directory else {
            throw fail(.externalDataOutsideModel, "external data '\(location)' but the model was not read from a folder")
        }
        let base = directory.path.hasSuffix("/") ? directory.path : directory.path + "/"
        let target = URL(fileURLWithPath: location, relativeTo: directory).standardizedFileURL.resolvingSymlinksInPath()
        guard !location.hasPrefix("/"), target.path.hasPrefix(base) else {
            throw fail(.externalDataOutsideModel, "external data '\(location)' lies outside the model's folder \(directory.path)")
        }
        func number(_ key: String) throws -> Int? {
            guard let text = entries[key] else { return nil }
            guard let value = Int(text), value >= 0 else { throw fail(.malformed, "external data \(key) '\(text)' is not a byte count") }
            return value
        }
        let offset = try number("offset") ?? 0
        let length = try number("length") ?? byteCount
        guard length == byteCount else {
            throw fail(.malformed, "external data length \(length) but dims \(proto.dims) need \(byteCount) bytes")
        }
        let attributes: [FileAttributeKey: Any]
        do { attributes = try FileManager.default.attributesOfItem(atPath: target.path) } catch {
            throw fail(.io, "cannot read external data '\(location)': \(error.localizedDescription)")
        }
        let size = (attributes[.size] as? NSNumber)?.intValue ?? 0
        let (end, overflow) = offset.addingReportingOverflow(length)
        guard !overflow, end <= size else {
            throw fail(.malformed, "external data '\(location)' bytes \(offset)..<\(offset &+ length) lie beyond its \(size) bytes")
        }
        do {
            let handle = try FileHandle(forReadingFrom: target)
            defer { try? handle.close() }
            try handle.seek(toOffset: UInt64(offset))
            let data = try handle.read(upToCount: length) ?? Data()
            guard data.count == length else { throw fail(.io, "external data '\(location)': read \(data.count) of \(length) bytes") }
            return data
        } catch let error as ONNXError {
            throw error
        } catch {
            throw fail(.io, "cannot read external data '\(location)': \(error.localizedDescription)")
        }
    }
}
