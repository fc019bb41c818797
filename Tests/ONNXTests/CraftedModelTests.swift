import Foundation
import Inference
import SwiftProtobuf
import Testing
@testable import ONNX

/// Minimal models built here, one node or two, for the importer's lowering rules and its errors.
struct CraftedModelTests {
    /// A model with input "x" of shape [N, 3, 8, 8], the given nodes and initializers, and output `output`.
    static func model(_ nodes: [Onnx_NodeProto], initializers: [Onnx_TensorProto] = [], output: String = "y",
                      opset: Int64 = 17) -> Onnx_ModelProto {
        .with { m in
            m.irVersion = 8
            m.opsetImport = [.with { $0.domain = ""; $0.version = opset }]
            m.graph = .with { g in
                g.name = "crafted"
                g.node = nodes
                g.initializer = initializers
                g.input = [.with { v in
                    v.name = "x"
                    v.type = .with { t in
                        t.tensorType = .with { tt in
                            tt.elemType = 1
                            tt.shape = .with { s in
                                s.dim = [.with { $0.dimParam = "N" }] + [3, 8, 8].map { d in .with { $0.dimValue = Int64(d) } }
                            }
                        }
                    }
                }]
                g.output = [.with { $0.name = output }]
            }
        }
    }

    static func node(_ op: String, _ inputs: [String], _ output: String = "y", name: String? = nil,
                     attributes: [Onnx_AttributeProto] = []) -> Onnx_NodeProto {
        .with { n in
            n.opType = op
            n.name = name ?? op.lowercased()
            n.input = inputs
            n.output = [output]
            n.attribute = attributes
        }
    }

    static func ints(_ name: String, _ values: [Int64]) -> Onnx_AttributeProto {
        .with { $0.name = name; $0.ints = values; $0.type = .ints }
    }

    static func string(_ name: String, _ value: String) -> Onnx_AttributeProto {
        .with { $0.name = name; $0.s = Data(value.utf8); $0.type = .string }
    }

    static func int64s(_ name: String, _ values: [Int64]) -> Onnx_TensorProto {
        .with { t in t.name = name; t.dataType = 7; t.dims = [Int64(values.count)]; t.int64Data = values }
    }

    static func floats(_ name: String, _ shape: [Int64], _ values: [Float]) -> Onnx_TensorProto {
        .with { t in t.name = name; t.dataType = 1; t.dims = shape; t.floatData = values }
    }

    static func load(_ proto: Onnx_ModelProto) throws -> ONNXModel {
        try ONNXModel.load(data: proto.serializedData(), file: "crafted.onnx")
    }

    static func error(_ proto: Onnx_ModelProto) -> ONNXError? {
        do {
            _ = try load(proto)
            return nil
        } catch {
            return error as? ONNXError
        }
    }

    @Test func reflectPaddingIsAnUnsupportedAttribute() {
        let proto = Self.model([Self.node("Pad", ["x", "pads"], attributes: [Self.string("mode", "reflect")])],
                               initializers: [Self.int64s("pads", [0, 0, 1, 1, 0, 0, 1, 1])])
        let e = Self.error(proto)
        #expect(e?.kind == .unsupportedAttribute)
        #expect(e?.node == "pad")
        #expect(e?.op == "Pad")
        #expect(e?.description.contains("reflect") == true)
    }

    @Test func padFeedingSomethingOtherThanAConvIsRefused() {
        let proto = Self.model([Self.node("Pad", ["x", "pads"], "p"), Self.node("Relu", ["p"], name: "after")],
                               initializers: [Self.int64s("pads", [0, 0, 1, 1, 0, 0, 1, 1])])
        let e = Self.error(proto)
        #expect(e?.kind == .unsupportedAttribute)
        #expect(e?.node == "after")
    }

    @Test func constantMinusActivationIsRefused() {
        let proto = Self.model([Self.node("Sub", ["c", "x"])], initializers: [Self.floats("c", [1], [1])])
        let e = Self.error(proto)
        #expect(e?.kind == .unsupportedAttribute)
        #expect(e?.node == "sub")
    }

    @Test func constantThatVariesAlongTheBatchIsRefused() {
        let proto = Self.model([Self.node("Mul", ["x", "c"])], initializers: [Self.floats("c", [2, 3, 1, 1], [1, 2, 3, 4, 5, 6])])
        let e = Self.error(proto)
        #expect(e?.kind == .shapeMismatch)
    }

    /// SAME_UPPER with stride 2 on 8×8 and a 3×3 kernel pads nothing before and 1 after.
    @Test func sameUpperPaddingIsAsymmetric() throws {
        let weight = Self.floats("w", [2, 3, 3, 3], [Float](repeating: 0.5, count: 54))
        let proto = Self.model([Self.node("Conv", ["x", "w"], attributes: [Self.ints("strides", [2, 2]), Self.string("auto_pad", "SAME_UPPER")])],
                               initializers: [weight])
        let model = try Self.load(proto)
        guard case .conv2d(let conv) = model.graph.nodes.first?.operation else {
            Issue.record("no convolution")
            return
        }
        #expect(conv.padding == [0, 0])
        #expect(conv.trailingPadding == [1, 1])
        #expect(model.output.sampleShape == [2, 4, 4])
        // All-ones input: the first output's window lies inside; the last one's has a row and a column of padding.
        let compiled = try OneDNNBackend(threads: 1).compile(model.graph, batchSize: 1, precision: .fp32)
        let out = try compiled.run(try Tensor(shape: [1, 3, 8, 8], values: [Float](repeating: 1, count: 192))).floats()
        #expect(out[0] == 3 * 9 * 0.5)
        #expect(out[15] == 3 * 4 * 0.5)
    }

    @Test func reshapeToAnImpossibleShapeIsAShapeMismatch() {
        let proto = Self.model([Self.node("Reshape", ["x", "s"])], initializers: [Self.int64s("s", [0, 1 << 40, 1 << 40, -1])])
        #expect(Self.error(proto)?.kind == .shapeMismatch)
    }

    @Test func sliceWithAnExtremeStepIsRefused() {
        let nodes = [Self.node("Slice", ["d", "s", "e", "a", "st"], "k"), Self.node("Reshape", ["x", "k"])]
        let proto = Self.model(nodes, initializers: [Self.int64s("d", [0, 192]), Self.int64s("s", [0]), Self.int64s("e", [2]),
                                                     Self.int64s("a", [0]), Self.int64s("st", [Int64.min])])
        #expect(Self.error(proto)?.kind == .shapeMismatch)
    }

    /// Shape arithmetic on constants is folded: Slice, Concat and Reshape make the flattening target.
    @Test func constantShapeArithmeticIsFolded() throws {
        let nodes = [Self.node("Slice", ["d", "s", "e"], "k"), Self.node("Concat", ["k", "tail"], "shape", attributes: [
            .with { $0.name = "axis"; $0.i = 0; $0.type = .int },
        ]), Self.node("Reshape", ["x", "shape"])]
        let proto = Self.model(nodes, initializers: [Self.int64s("d", [0, 7, 9]), Self.int64s("s", [0]), Self.int64s("e", [1]),
                                                     Self.int64s("tail", [-1])])
        let model = try Self.load(proto)
        #expect(model.output.sampleShape == [192])
    }

    /// `x.view(x.size(0), -1)` as torch exports it with a dynamic batch: Shape, Gather, Unsqueeze, Concat, Reshape.
    static func viewBySize(scale: Bool) -> Onnx_ModelProto {
        var nodes = [Self.node("Shape", ["x"], "shape"), Self.node("Gather", ["shape", "zero"], "n"),
                     Self.node("Unsqueeze", ["n", "axes"], "n1")]
        if scale { nodes.append(Self.node("Mul", ["n1", "two"], "n2")) }
        nodes += [Self.node("Concat", [scale ? "n2" : "n1", "minus1"], "target", attributes: [.with { $0.name = "axis"; $0.i = 0; $0.type = .int }]),
                  Self.node("Reshape", ["x", "target"], name: "view")]
        let zero: Onnx_TensorProto = .with { t in t.name = "zero"; t.dataType = 7; t.int64Data = [0] }
        return Self.model(nodes, initializers: [zero, Self.int64s("axes", [0]), Self.int64s("minus1", [-1]), Self.int64s("two", [2])])
    }

    @Test func viewBySizeOfTheBatchFlattens() throws {
        let model = try Self.load(Self.viewBySize(scale: false))
        #expect(model.output.sampleShape == [192])
        let compiled = try OneDNNBackend(threads: 1).compile(model.graph, batchSize: 2, precision: .fp32)
        let values = (0..<384).map { Float($0) }
        #expect(try compiled.run(try Tensor(shape: [2, 3, 8, 8], values: values)).floats() == values)
    }

    /// Arithmetic on the run-time batch size is refused, not computed from a placeholder.
    @Test func arithmeticOnTheBatchSizeIsRefused() {
        let e = Self.error(Self.viewBySize(scale: true))
        #expect(e?.kind == .shapeMismatch)
        #expect(e?.node == "view")
    }

    @Test func multipleGraphInputsAreRefused() {
        var proto = Self.model([Self.node("Add", ["x", "z"])])
        proto.graph.input.append(proto.graph.input[0])
        proto.graph.input[1].name = "z"
        #expect(Self.error(proto)?.kind == .unsupportedAttribute)
    }
}
