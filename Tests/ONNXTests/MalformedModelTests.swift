import Foundation
import Inference
import SwiftProtobuf
import Testing
@testable import ONNX

/// Every way a model can be wrong gives a typed error that names the file, the node, the operator and its
/// opset where they apply. Each model is the committed tiny export, altered here.
struct MalformedModelTests {
    static func load(_ proto: Onnx_ModelProto, in directory: URL? = nil, name: String = "model.onnx") throws -> ONNXModel {
        let dir = try directory ?? ONNXFixtures.temporaryDirectory()
        let url = dir.appendingPathComponent(name)
        try proto.serializedData().write(to: url)
        return try ONNXModel.load(path: url.path)
    }

    static func error(_ body: () throws -> Void) -> ONNXError? {
        do {
            try body()
            return nil
        } catch let error as ONNXError {
            return error
        } catch {
            Issue.record("not an ONNXError: \(error)")
            return nil
        }
    }

    @Test func truncatedProtobufIsMalformed() throws {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: ONNXFixtures.path("tiny_opset17.onnx")))
        let dir = try ONNXFixtures.temporaryDirectory()
        let url = dir.appendingPathComponent("truncated.onnx")
        try bytes.prefix(bytes.count / 2).write(to: url)
        let e = Self.error { _ = try ONNXModel.load(path: url.path) }
        #expect(e?.kind == .malformed)
        #expect(e?.file == url.path)
        #expect(e?.description.contains("not an ONNX model") == true)
    }

    @Test func missingFileIsIO() {
        let e = Self.error { _ = try ONNXModel.load(path: "/nonexistent/model.onnx") }
        #expect(e?.kind == .io)
    }

    @Test func missingInitializerNamesTheNode() throws {
        var proto = try ONNXFixtures.tinyProto()
        proto.graph.initializer.removeAll { $0.name == "se_reduce.weight" }
        let e = Self.error { _ = try Self.load(proto) }
        #expect(e?.kind == .missingValue)
        #expect(e?.node == "/se_reduce/Conv")
        #expect(e?.op == "Conv")
        #expect(e?.opset == 17)
        #expect(e?.message.contains("se_reduce.weight") == true)
    }

    /// The operator is reported before any data is read: the model's external data file does not exist.
    @Test func unsupportedOperatorIsReportedBeforeDataIsRead() throws {
        var proto = try ONNXFixtures.tinyProto()
        let index = try #require(proto.graph.node.firstIndex { $0.opType == "LeakyRelu" })
        proto.graph.node[index].opType = "Erf"
        for i in proto.graph.initializer.indices {
            proto.graph.initializer[i].rawData = Data()
            proto.graph.initializer[i].dataLocation = .external
            proto.graph.initializer[i].externalData = [.with { $0.key = "location"; $0.value = "absent.bin" }]
        }
        let e = Self.error { _ = try Self.load(proto) }
        #expect(e?.kind == .unsupportedOperator)
        #expect(e?.node == "/LeakyRelu")
        #expect(e?.op == "Erf")
        #expect(e?.opset == 17)
        #expect(e?.description.contains("node '/LeakyRelu' (Erf, opset 17)") == true)
    }

    @Test func foreignDomainIsUnsupported() throws {
        var proto = try ONNXFixtures.tinyProto()
        let index = try #require(proto.graph.node.firstIndex { $0.opType == "Relu" })
        proto.graph.node[index].domain = "com.microsoft"
        let e = Self.error { _ = try Self.load(proto) }
        #expect(e?.kind == .unsupportedOperator)
        #expect(e?.op == "com.microsoft.Relu")
    }

    @Test(arguments: [9, 30])
    func opsetOutsideTheSupportedRangeIsRefused(version: Int) throws {
        var proto = try ONNXFixtures.tinyProto()
        proto.opsetImport = [.with { $0.domain = ""; $0.version = Int64(version) }]
        let e = Self.error { _ = try Self.load(proto) }
        #expect(e?.kind == .unsupportedOpset)
        #expect(e?.opset == version)
    }

    /// A convolution weight with the wrong number of input channels for its input.
    @Test func shapeMismatchNamesTheNode() throws {
        var proto = try ONNXFixtures.tinyProto()
        let name = try #require(proto.graph.node.first { $0.name == "/se_expand/Conv" }?.input[1])
        let index = try #require(proto.graph.initializer.firstIndex { $0.name == name })
        // [8, 4, 1, 1] → [4, 8, 1, 1]: as many values, channels that do not fit the 4-channel input.
        proto.graph.initializer[index].dims = [4, 8, 1, 1]
        let e = Self.error { _ = try Self.load(proto) }
        #expect(e?.kind == .shapeMismatch)
        #expect(e?.node == "/se_expand/Conv")
    }

    /// An input of 4 channels where the first convolution takes 3.
    @Test func inputShapeThatDoesNotFitTheWeights() throws {
        var proto = try ONNXFixtures.tinyProto()
        proto.graph.input[0].type.tensorType.shape.dim[1].dimValue = 4
        let e = Self.error { _ = try Self.load(proto) }
        #expect(e?.kind == .shapeMismatch)
        #expect(e?.node == "/stem/stem.0/Conv")
    }

    @Test func rawDataShorterThanItsDimsIsMalformed() throws {
        var proto = try ONNXFixtures.tinyProto()
        let index = try #require(proto.graph.initializer.firstIndex { $0.name == "fc1.weight" })
        proto.graph.initializer[index].rawData = proto.graph.initializer[index].rawData.prefix(10)
        let e = Self.error { _ = try Self.load(proto) }
        #expect(e?.kind == .malformed)
        #expect(e?.message.contains("fc1.weight") == true)
    }

    /// Every initializer's bytes moved to one file beside the model: same results.
    @Test func externalDataBesideTheModelLoads() throws {
        let dir = try ONNXFixtures.temporaryDirectory()
        let proto = try Self.externalised(try ONNXFixtures.tinyProto(), location: "weights.bin", writeTo: dir.appendingPathComponent("weights.bin"))
        let model = try Self.load(proto, in: dir)
        let (delta, largest) = try ONNXFixtures.compare(model, input: ONNXFixtures.path("tiny_input.npy"),
                                                        reference: ONNXFixtures.path("tiny_opset17_ort.npy"))
        #expect(delta <= 1e-4 * largest)
    }

    @Test(arguments: ["../outside.bin", "/tmp/outside.bin", "sub/../../outside.bin"])
    func externalDataOutsideTheModelFolderIsRefused(location: String) throws {
        let parent = try ONNXFixtures.temporaryDirectory()
        let dir = parent.appendingPathComponent("model")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let proto = try Self.externalised(try ONNXFixtures.tinyProto(), location: location,
                                          writeTo: parent.appendingPathComponent("outside.bin"))
        try? FileManager.default.copyItem(at: parent.appendingPathComponent("outside.bin"), to: URL(fileURLWithPath: "/tmp/outside.bin"))
        let e = Self.error { _ = try Self.load(proto, in: dir) }
        #expect(e?.kind == .externalDataOutsideModel)
        #expect(e?.description.contains(location) == true)
    }

    /// A symbolic link inside the folder that points outside it is refused too.
    @Test func externalDataThroughASymlinkOutsideIsRefused() throws {
        let parent = try ONNXFixtures.temporaryDirectory()
        let dir = parent.appendingPathComponent("model")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let proto = try Self.externalised(try ONNXFixtures.tinyProto(), location: "link.bin",
                                          writeTo: parent.appendingPathComponent("outside.bin"))
        try FileManager.default.createSymbolicLink(at: dir.appendingPathComponent("link.bin"),
                                                   withDestinationURL: parent.appendingPathComponent("outside.bin"))
        let e = Self.error { _ = try Self.load(proto, in: dir) }
        #expect(e?.kind == .externalDataOutsideModel)
    }

    @Test func externalDataBeyondTheFileIsMalformed() throws {
        let dir = try ONNXFixtures.temporaryDirectory()
        var proto = try Self.externalised(try ONNXFixtures.tinyProto(), location: "weights.bin", writeTo: dir.appendingPathComponent("weights.bin"))
        let index = try #require(proto.graph.initializer.firstIndex { $0.name == "fc1.weight" })
        proto.graph.initializer[index].externalData = [.with { $0.key = "location"; $0.value = "weights.bin" },
                                                       .with { $0.key = "offset"; $0.value = "100000000" }]
        let e = Self.error { _ = try Self.load(proto, in: dir) }
        #expect(e?.kind == .malformed)
        #expect(e?.message.contains("beyond") == true)
    }

    /// Moves every initializer's raw bytes to `writeTo`, referenced as `location`.
    static func externalised(_ proto: Onnx_ModelProto, location: String, writeTo url: URL) throws -> Onnx_ModelProto {
        var proto = proto
        var blob = Data()
        for i in proto.graph.initializer.indices where !proto.graph.initializer[i].rawData.isEmpty {
            let raw = proto.graph.initializer[i].rawData
            proto.graph.initializer[i].externalData = [
                .with { $0.key = "location"; $0.value = location },
                .with { $0.key = "offset"; $0.value = String(blob.count) },
                .with { $0.key = "length"; $0.value = String(raw.count) },
            ]
            proto.graph.initializer[i].dataLocation = .external
            proto.graph.initializer[i].rawData = Data()
            blob.append(raw)
        }
        try blob.write(to: url)
        return proto
    }
}

/// Found by reading the code the onnx-model fuzz target (Fuzz/Targets/onnx-model) exercises: constants
/// that hold no data but have huge dimensions. An empty tensor is 0 bytes whatever its other dimensions, so the
/// file does not bound them; folding then multiplied them (an overflow trap) or built index lists from them.
struct EmptyHugeConstantTests {
    /// The tiny model plus `extra` nodes after its last one (lowered, though nothing reads them).
    static func withNodes(_ extra: [Onnx_NodeProto], initializers: [Onnx_TensorProto] = []) throws -> Onnx_ModelProto {
        var proto = try ONNXFixtures.tinyProto()
        proto.graph.node += extra
        proto.graph.initializer += initializers
        return proto
    }

    static let huge: [Int64] = [0, 1 << 40, 1 << 40]

    @Test func emptyInitializerWithHugeDimensionsIsMalformed() throws {
        let empty = Onnx_TensorProto.with { $0.name = "empty"; $0.dataType = 1; $0.dims = Self.huge }
        let flatten = Onnx_NodeProto.with {
            $0.name = "/flatten_empty"; $0.opType = "Flatten"; $0.input = ["empty"]; $0.output = ["flat"]
            $0.attribute = [.with { $0.name = "axis"; $0.type = .int; $0.i = 1 }]
        }
        let e = MalformedModelTests.error { _ = try MalformedModelTests.load(try Self.withNodes([flatten], initializers: [empty])) }
        #expect(e?.kind == .malformed)
        #expect(e?.node == "/flatten_empty")
        #expect(e?.message.contains("tensor 'empty': an empty tensor with dims [0, 1099511627776, 1099511627776]") == true)
    }

    @Test func constantOfShapeWithAnEmptyHugeShapeIsRefused() throws {
        let shape = Onnx_NodeProto.with {
            $0.name = "/shape_const"; $0.opType = "Constant"; $0.output = ["shape"]
            $0.attribute = [.with { $0.name = "value_ints"; $0.type = .ints; $0.ints = Self.huge }]
        }
        let fill = Onnx_NodeProto.with { $0.name = "/fill"; $0.opType = "ConstantOfShape"; $0.input = ["shape"]; $0.output = ["filled"] }
        let flatten = Onnx_NodeProto.with {
            $0.name = "/flatten_filled"; $0.opType = "Flatten"; $0.input = ["filled"]; $0.output = ["flat"]
            $0.attribute = [.with { $0.name = "axis"; $0.type = .int; $0.i = 1 }]
        }
        let e = MalformedModelTests.error { _ = try MalformedModelTests.load(try Self.withNodes([shape, fill, flatten])) }
        #expect(e?.kind == .shapeMismatch)
        #expect(e?.node == "/fill")
        #expect(e?.op == "ConstantOfShape")
        #expect(e?.message.contains("shape [0, 1099511627776, 1099511627776] is too large") == true)
    }

    /// Gather whose result would hold far more elements than folding allows.
    @Test func gatherThatMakesAHugeConstantIsRefused() throws {
        let data = Onnx_TensorProto.with { $0.name = "table"; $0.dataType = 7; $0.dims = [2, 4096]; $0.int64Data = Array(repeating: 1, count: 8192) }
        let indices = Onnx_TensorProto.with { $0.name = "picks"; $0.dataType = 7; $0.dims = [8192]; $0.int64Data = Array(repeating: 0, count: 8192) }
        let gather = Onnx_NodeProto.with { $0.name = "/gather_big"; $0.opType = "Gather"; $0.input = ["table", "picks"]; $0.output = ["picked"] }
        let e = MalformedModelTests.error { _ = try MalformedModelTests.load(try Self.withNodes([gather], initializers: [data, indices])) }
        #expect(e?.kind == .shapeMismatch)
        #expect(e?.node == "/gather_big")
        #expect(e?.message.contains("makes [8192, 4096], too large to fold") == true)
    }
}

/// Activations that grow without bound: a Concat of a value with itself doubles its channels, and 61 of them
/// overflowed shape inference's sum (a trap). Each imported value is bounded, so the node that crosses the
/// bound is named.
struct GrowingActivationTests {
    @Test func concatenationsThatDoubleTheChannelsStopAtTheBound() throws {
        var proto = try ONNXFixtures.tinyProto()
        var previous = proto.graph.input[0].name
        for i in 1...62 {
            proto.graph.node.append(.with {
                $0.name = "/cat_\(i)"; $0.opType = "Concat"; $0.input = [previous, previous]; $0.output = ["cat_\(i)"]
                $0.attribute = [.with { $0.name = "axis"; $0.type = .int; $0.i = 1 }]
            })
            previous = "cat_\(i)"
        }
        let e = MalformedModelTests.error { _ = try MalformedModelTests.load(proto) }
        // [3, 32, 32] doubled 20 times: 3 · 2^20 · 1024 elements, the first over 2^31.
        #expect(e?.kind == .shapeMismatch)
        #expect(e?.node == "/cat_20")
        #expect(e?.message.contains("output [N] + [3145728, 32, 32] is larger than 2147483648 elements per sample") == true)
    }
}
