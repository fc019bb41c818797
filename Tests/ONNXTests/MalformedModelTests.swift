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
