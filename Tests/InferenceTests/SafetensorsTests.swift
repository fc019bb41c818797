import Foundation
import Testing
@testable import Inference

/// Writes safetensors files from the format's definition, to make good and bad files for the tests.
enum SafetensorsWriter {
    struct Item {
        let name: String
        let dtype: String
        let shape: [Int]
        let bytes: [UInt8]
    }

    static func f32(_ name: String, _ shape: [Int], _ values: [Float]) -> Item {
        Item(name: name, dtype: "F32", shape: shape, bytes: values.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian, Array.init) })
    }

    /// `headerOverride` replaces the computed header text (to make liars).
    static func data(_ items: [Item], headerOverride: String? = nil) -> Data {
        var entries: [String] = []
        var offset = 0
        for item in items {
            entries.append("\"\(item.name)\":{\"dtype\":\"\(item.dtype)\",\"shape\":[\(item.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(offset + item.bytes.count)]}")
            offset += item.bytes.count
        }
        var header = Array((headerOverride ?? "{" + entries.joined(separator: ",") + "}").utf8)
        while header.count % 8 != 0 { header.append(0x20) }
        var out = Data(withUnsafeBytes(of: UInt64(header.count).littleEndian, Array.init))
        out.append(contentsOf: header)
        for item in items { out.append(contentsOf: item.bytes) }
        return out
    }

    static func write(_ data: Data) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-\(UUID().uuidString).safetensors").path
        try data.write(to: URL(fileURLWithPath: path))
        return path
    }
}

struct SafetensorsTests {
    struct Expected: Decodable {
        let shape: [Int]
        let values: [Float]
    }

    /// A file written by the fixture script (Python, from the format's definition): F32, F16 and BF16
    /// widen exactly; the I64 tensor is listed but is not a float.
    @Test func readsTheFixture() throws {
        let file = try SafetensorsFile(path: EngineFixtures.path("tiny.safetensors"))
        let expected = try JSONDecoder().decode([String: Expected].self,
                                                from: Data(contentsOf: URL(fileURLWithPath: EngineFixtures.path("tiny_expected.json"))))
        #expect(file.metadata["format"] == "pt")
        #expect(Set(file.entries.keys) == Set(expected.keys).union(["counter"]))
        for (name, want) in expected {
            let tensor = try file.tensor(named: name, shape: want.shape, role: .batchNormBias)
            #expect(tensor.dtype == .float32)
            #expect(try tensor.floats() == want.values, "\(name)")
        }
        #expect(file.entries["counter"]?.dtype == .int64)
        #expect(file.entries["half.values"]?.dtype == .float16)
    }

    @Test func missingKeyWrongShapeWrongDtype() throws {
        let file = try SafetensorsFile(path: EngineFixtures.path("tiny.safetensors"))
        let missing = #expect(throws: InferenceError.self) { try file.tensor(named: "fc.weight", shape: [1000, 512], role: .linearWeight) }
        #expect(missing?.kind == .missingWeight)
        #expect(missing?.message.contains("fc.weight") == true)
        let shape = #expect(throws: InferenceError.self) { try file.tensor(named: "conv.weight", shape: [2, 1, 3, 3], role: .convolutionWeight) }
        #expect(shape?.kind == .shapeMismatch)
        #expect(shape?.message.contains("[2, 1, 2, 2]") == true)
        let dtype = #expect(throws: InferenceError.self) { try file.tensor(named: "counter", shape: [1], role: .batchNormBias) }
        #expect(dtype?.kind == .dtypeMismatch)
    }

    /// A model whose file lacks a key names the key.
    @Test func modelWithMissingKey() throws {
        let path = try SafetensorsWriter.write(SafetensorsWriter.data([SafetensorsWriter.f32("conv1.weight", [64, 3, 7, 7], .init(repeating: 0, count: 64 * 147))]))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let error = #expect(throws: InferenceError.self) { try ModelZoo.graph("resnet18", weightsPath: path) }
        #expect(error?.kind == .missingWeight)
        #expect(error?.message.contains("bn1.weight") == true)
    }

    @Test func truncatedFiles() throws {
        let good = SafetensorsWriter.data([SafetensorsWriter.f32("a", [4], [1, 2, 3, 4]), SafetensorsWriter.f32("b", [2], [5, 6])])
        for length in [0, 5, 8, 20, good.count - 1] {
            let path = try SafetensorsWriter.write(good.prefix(length))
            defer { try? FileManager.default.removeItem(atPath: path) }
            let error = #expect(throws: InferenceError.self, "\(length) bytes") { try SafetensorsFile(path: path) }
            #expect(error?.kind == .malformedFile)
        }
        let path = try SafetensorsWriter.write(good)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try SafetensorsFile(path: path).tensor(named: "b", shape: [2], role: .batchNormBias).floats() == [5, 6])
    }

    @Test func headersThatLie() throws {
        let items = [SafetensorsWriter.f32("a", [4], [1, 2, 3, 4])]
        let liars = [
            ("past the end", #"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,4000]}}"#),
            ("size vs shape", #"{"a":{"dtype":"F32","shape":[5],"data_offsets":[0,16]}}"#),
            ("reversed", #"{"a":{"dtype":"F32","shape":[0],"data_offsets":[16,0]}}"#),
            ("negative", #"{"a":{"dtype":"F32","shape":[-4],"data_offsets":[0,16]}}"#),
            ("overlap", #"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}"#),
            ("unknown dtype", #"{"a":{"dtype":"F99","shape":[4],"data_offsets":[0,16]}}"#),
            ("no offsets", #"{"a":{"dtype":"F32","shape":[4]}}"#),
            ("overflowing shape", #"{"a":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,16]}}"#),
            ("not JSON", #"{"a":{"dtype":"F32""#),
            ("not an object", #"[1,2,3]"#),
        ]
        for (why, header) in liars {
            let path = try SafetensorsWriter.write(SafetensorsWriter.data(items, headerOverride: header))
            defer { try? FileManager.default.removeItem(atPath: path) }
            let error = #expect(throws: InferenceError.self, "\(why)") { try SafetensorsFile(path: path) }
            #expect(error?.kind == .malformedFile, "\(why)")
        }
        // A header length that points past the file.
        var huge = SafetensorsWriter.data(items)
        huge.replaceSubrange(0..<8, with: withUnsafeBytes(of: UInt64(1 << 40).littleEndian, Array.init))
        let path = try SafetensorsWriter.write(huge)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: InferenceError.self) { try SafetensorsFile(path: path) }
    }

    /// resnet18 with its seeded weights written to a safetensors file (with torchvision's extra
    /// `num_batches_tracked` entries) gives PyTorch's logits.
    @Test func resnet18FromSafetensorsMatchesPyTorch() throws {
        let seeded = SeededWeights(seed: try EngineFixtures.inputs().weight_seed)
        let recorder = RecordingWeights()
        _ = try ResNet.build(.resnet18, weights: recorder)
        var items: [SafetensorsWriter.Item] = []
        let graphRoles = try ResNetRoles.roles(.resnet18)
        for (name, shape) in recorder.recorded {
            let values = try seeded.tensor(named: name, shape: shape, role: graphRoles[name]!).floats()
            items.append(SafetensorsWriter.f32(name, shape, values))
            if name.hasSuffix("running_var") {
                let counter = String(name.dropLast("running_var".count)) + "num_batches_tracked"
                items.append(.init(name: counter, dtype: "I64", shape: [], bytes: withUnsafeBytes(of: Int64(0), Array.init)))
            }
        }
        let path = try SafetensorsWriter.write(SafetensorsWriter.data(items))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let graph = try ModelZoo.graph("resnet18", weightsPath: path)
        let model = try OneDNNBackend().compile(graph, batchSize: 4, precision: .fp32)
        let batch = try EngineFixtures.batch(for: "resnet18")
        let four = try Tensor(shape: [4, 3, 224, 224], values: Array(try batch.floats()[0..<(4 * 3 * 224 * 224)]))
        let logits = try model.run(four).floats()
        let expected = Array(try EngineFixtures.logits(for: "resnet18").floats()[0..<4000])
        let comparison = LogitComparison(actual: logits, expected: expected, classes: 1000)
        #expect(comparison.relativeError <= 1e-3)
        #expect(comparison.top5Matches == 4)
    }
}

/// The role the builder gives each parameter, recorded.
final class ResNetRoles: WeightSource {
    var roles: [String: ParameterRole] = [:]

    func tensor(named name: String, shape: [Int], role: ParameterRole) throws -> Tensor {
        roles[name] = role
        return try Tensor.zeros(shape)
    }

    static func roles(_ variant: ResNet.Variant) throws -> [String: ParameterRole] {
        let recorder = ResNetRoles()
        _ = try ResNet.build(variant, weights: recorder, inputSize: 64)
        return recorder.roles
    }
}
