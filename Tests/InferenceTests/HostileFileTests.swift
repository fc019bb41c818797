import Foundation
import Testing
@testable import Inference

/// Model and array files whose headers lie: each gives a typed error naming the tensor and the reason.
struct HostileSafetensorsTests {
    static func error(header: String, items: [SafetensorsWriter.Item] = [SafetensorsWriter.f32("a", [4], [1, 2, 3, 4])]) throws -> InferenceError? {
        let path = try SafetensorsWriter.write(SafetensorsWriter.data(items, headerOverride: header))
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            _ = try SafetensorsFile(path: path)
            return nil
        } catch let error as InferenceError {
            return error
        }
    }

    @Test(arguments: [
        (#"{"a":{"dtype":"F99","shape":[4],"data_offsets":[0,16]}}"#, "tensor 'a' has unknown dtype 'F99'"),
        (#"{"a":{"dtype":"F32","shape":[-4],"data_offsets":[0,16]}}"#, "tensor 'a' has a bad shape: dimension 0"),
        (#"{"a":{"dtype":"F32","shape":[true],"data_offsets":[0,16]}}"#, "tensor 'a' has a bad shape: dimension 0"),
        (#"{"a":{"dtype":"F32","shape":[2, 1.5],"data_offsets":[0,16]}}"#, "tensor 'a' has a bad shape: dimension 1"),
        (#"{"a":{"dtype":"F32","shape":["4"],"data_offsets":[0,16]}}"#, "tensor 'a' has a bad shape"),
        (#"{"a":{"dtype":"F32","shape":[4],"data_offsets":[-16,0]}}"#, "tensor 'a' has bad data_offsets"),
        (#"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,1e300]}}"#, "tensor 'a' has bad data_offsets"),
        (#"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,18446744073709551615]}}"#, "tensor 'a' has bad data_offsets"),
        (#"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16,32]}}"#, "tensor 'a' lacks dtype, shape or data_offsets"),
        (#"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,4000]}}"#, "run past the 16-byte data section"),
        (#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,16]}}"#, "tensor 'a' is [3] of F32 (3 × 4 bytes) but its data_offsets span 16 bytes"),
        (#"{"a":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,16]}}"#, "tensor 'a' shape [4294967296, 4294967296, 16] overflows"),
        (#"{"a":{"dtype":"F32","shape":[2305843009213693952],"data_offsets":[0,16]}}"#, "(2305843009213693952 × 4 bytes)"),
        (#"{"a":{"dtype":"U8","shape":[16],"data_offsets":[0,16]},"b":{"dtype":"U8","shape":[0],"data_offsets":[16,16]},"c":{"dtype":"U8","shape":[4],"data_offsets":[4,8]}}"#,
         "tensors 'a' and 'c' overlap (bytes"),
        ("[1,2,3]", "header is not a JSON object"),
        (#"{"__metadata__":[1]}"#, "__metadata__ is not an object"),
        (#"{"a":"#, "header is not valid JSON"),
    ])
    func hostileHeader(_ header: String, _ phrase: String) throws {
        let error = try Self.error(header: header)
        #expect(error?.kind == .malformedFile && error?.message.contains(phrase) == true, "\(header): \(String(describing: error))")
    }

    @Test func tooManyDimensions() throws {
        let shape = "[" + Array(repeating: "1", count: 100).joined(separator: ",") + "]"
        let error = try Self.error(header: #"{"a":{"dtype":"F32","shape":"# + shape + #","data_offsets":[0,4]}}"#)
        #expect(error?.message.contains("100 dimensions, more than 64") == true, "\(String(describing: error))")
    }

    /// A header nested 200,000 deep would recurse in the JSON parser; it is refused by a flat scan first.
    @Test func deeplyNestedHeader() throws {
        let header = #"{"a":"# + String(repeating: "[", count: 200_000) + String(repeating: "]", count: 200_000) + "}"
        let error = try Self.error(header: header)
        #expect(error?.message.contains("deeper than 64 levels") == true, "\(String(describing: error))")
        // Brackets inside strings do not count.
        #expect(SafetensorsFile.nestingBeyond(64, Data((#"{"a[[[[":"\"[[[[["}"#).utf8)) == nil)
    }

    @Test func longNamesAreShortenedInMessages() throws {
        let name = String(repeating: "x", count: 5000)
        let error = try Self.error(header: #"{""# + name + #"":{"dtype":"F99","shape":[4],"data_offsets":[0,16]}}"#)
        #expect(error?.message.contains("(5000 bytes)") == true && (error?.message.count ?? .max) < 400, "\(String(describing: error))")
    }

    @Test func absurdHeaderLength() throws {
        var data = SafetensorsWriter.data([SafetensorsWriter.f32("a", [4], [1, 2, 3, 4])])
        data.replaceSubrange(0..<8, with: withUnsafeBytes(of: UInt64.max.littleEndian, Array.init))
        let path = try SafetensorsWriter.write(data)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let error = #expect(throws: InferenceError.self) { try SafetensorsFile(path: path) }
        #expect(error?.message.contains("exceeds the 100000000-byte limit") == true, "\(String(describing: error))")
    }

    /// Zero-size tensors may sit anywhere (even inside another's bytes); the file still loads.
    @Test func emptyTensorsDoNotOverlap() throws {
        let header = #"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"e":{"dtype":"F32","shape":[0],"data_offsets":[8,8]}}"#
        #expect(try Self.error(header: header) == nil)
    }
}

struct HostileNumpyTests {
    /// A format 1.0 (or 2.0) `.npy` with `dict` as its header, `data` after it.
    static func npy(_ dict: String, data: [UInt8] = [], major: UInt8 = 1, declaredLength: Int? = nil) -> Data {
        let header = Array(dict.utf8)
        let length = declaredLength ?? header.count
        let preamble: [UInt8] = major == 1
            ? [UInt8(length & 0xFF), UInt8(length >> 8 & 0xFF)]
            : [UInt8(length & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length >> 16 & 0xFF), UInt8(length >> 24 & 0xFF)]
        return Data([0x93] + Array("NUMPY".utf8) + [major, 0] + preamble + header + data)
    }

    @Test(arguments: [
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4), }", "has more than Int.max elements"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904,), }", "needs 4611686018427387904 × 4 bytes (more than Int.max bytes); the file has 8"),
        ("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }", "needs 4 × 8 bytes; the file has 8"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 0.5), }", "'0.5' is not a non-negative integer"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }", "'-2' is not a non-negative integer"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (" + String(repeating: "1, ", count: 70) + "), }", "70 dimensions, more than 64"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (1, }", "unterminated shape"),
        ("{'descr': '<f4', 'fortran_order': False, }", "has no 'shape'"),
    ])
    func hostileHeader(_ dict: String, _ phrase: String) {
        let error = #expect(throws: InferenceError.self) { try NumpyFile.parse(Self.npy(dict, data: [UInt8](repeating: 0, count: 8)), name: "x.npy") }
        #expect(error?.kind == .malformedFile && error?.message.contains(phrase) == true && error?.message.hasPrefix("x.npy: ") == true,
                "\(dict): \(String(describing: error))")
    }

    @Test func headerLength() {
        let dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }"
        let past = #expect(throws: InferenceError.self) { try NumpyFile.parse(Self.npy(dict, data: [0, 0, 0, 0], declaredLength: 65_000)) }
        #expect(past?.message.contains("runs past the end") == true, "\(String(describing: past))")
        let huge = #expect(throws: InferenceError.self) { try NumpyFile.parse(Self.npy(dict, major: 2, declaredLength: 0x7FFF_FFFF)) }
        #expect(huge?.message.contains("over the limit of 65536") == true, "\(String(describing: huge))")
        let binary = #expect(throws: InferenceError.self) { try NumpyFile.parse(Self.npy("\u{FF}", data: [0xFF, 0xFE])) }
        #expect(binary?.kind == .malformedFile)
        var invalidUTF8 = Self.npy("ab")
        invalidUTF8[10] = 0xC3
        invalidUTF8[11] = 0x28
        let notText = #expect(throws: InferenceError.self) { try NumpyFile.parse(invalidUTF8) }
        #expect(notText?.message.contains("is not UTF-8 text") == true, "\(String(describing: notText))")
    }

    @Test func emptyAndValidArrays() throws {
        let empty = try NumpyFile.parse(Self.npy("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 4611686018427387904), }"))
        #expect(empty.elementCount == 0)
        let one = try NumpyFile.parse(Self.npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", data: [0, 0, 128, 63, 0, 0, 0, 64]))
        #expect(try one.floats() == [1, 2])
    }

    /// Devices and directories are refused, not read until memory runs out.
    @Test func notRegularFiles() throws {
        for path in ["/dev/zero", FileManager.default.temporaryDirectory.path] {
            let error = #expect(throws: InferenceError.self) { try NumpyFile.read(path: path) }
            #expect(error?.kind == .io && error?.message.contains("not a regular file") == true, "\(path): \(String(describing: error))")
        }
        let safetensors = #expect(throws: InferenceError.self) { try SafetensorsFile(path: "/dev/zero") }
        #expect(safetensors?.message.contains("not a regular file") == true)
    }

    @Test func readsFromAMapping() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-\(UUID().uuidString).npy").path
        try Self.npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", data: [0, 0, 128, 63, 0, 0, 0, 64]).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try NumpyFile.read(path: path).floats() == [1, 2])
        let missing = #expect(throws: InferenceError.self) { try NumpyFile.read(path: path + ".missing") }
        #expect(missing?.kind == .io)
    }

    /// A tensor's shape must not wrap around to fit its storage.
    @Test func tensorShapeOverflow() throws {
        let storage = try TensorStorage(zeroedByteCount: 16)
        let error = #expect(throws: InferenceError.self) { try Tensor(shape: [1 << 32, 1 << 32], dtype: .float32, storage: storage) }
        #expect(error?.message.contains("more than Int.max elements") == true, "\(String(describing: error))")
    }
}
