import Foundation
import Inference
import SwiftProtobuf

/// An ONNX CNN classifier imported into Sluice's graph IR: the graph (per-sample shapes, one input, one
/// output) and the input/output contracts the model declares.
public struct ONNXModel: Sendable {
    public let graph: Graph
    public let input: ONNXTensorInfo
    public let output: ONNXTensorInfo
    /// The default domain's opset the model was exported for.
    public let opset: Int

    /// The opsets of the default domain the importer knows: 11 (the oldest torch exporters still write) up to
    /// the newest exporters' (torch 1.13 writes up to 17; later ones 18–21).
    public static let supportedOpsets = 11...21
    /// Protobuf itself cannot describe a message above 2 GiB: larger weights must be external data.
    public static let maximumFileSize = 2 << 30

    /// Reads, checks and lowers the model at `path`. Unsupported operators and missing values are reported
    /// before any tensor's data is read.
    public static func load(path: String) throws -> ONNXModel {
        let url = URL(fileURLWithPath: path)
        let size: Int
        do {
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            size = (attributes[.size] as? NSNumber)?.intValue ?? 0
        } catch {
            throw ONNXError(.io, file: path, "cannot read the model: \(error.localizedDescription)")
        }
        guard size <= maximumFileSize else {
            throw ONNXError(.malformed, file: path, "\(size) bytes: larger than protobuf's 2 GiB; store weights as external data")
        }
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw ONNXError(.io, file: path, "cannot read the model: \(error.localizedDescription)")
        }
        let directory = url.deletingLastPathComponent().standardizedFileURL.resolvingSymlinksInPath()
        return try load(data: data, file: path, directory: directory)
    }

    /// Lowers a model held in memory; external data, if any, is read from `directory`.
    public static func load(data: Data, file: String = "<memory>", directory: URL? = nil) throws -> ONNXModel {
        let proto: Onnx_ModelProto
        do {
            proto = try Onnx_ModelProto(serializedBytes: data)
        } catch {
            throw ONNXError(.malformed, file: file, "not an ONNX model (protobuf: \(error))")
        }
        let opset = try defaultOpset(proto, file: file)
        try GraphCheck(file: file, opset: opset).check(proto.graph)
        var importer = Importer(file: file, opset: opset, reader: TensorReader(file: file, directory: directory))
        return try importer.run(proto.graph)
    }

    static func defaultOpset(_ proto: Onnx_ModelProto, file: String) throws -> Int {
        guard let entry = proto.opsetImport.first(where: { $0.domain.isEmpty || $0.domain == "ai.onnx" }) else {
            throw ONNXError(.malformed, file: file, "no opset of the default domain is imported")
        }
        let version = Int(clamping: entry.version)
        guard supportedOpsets.contains(version) else {
            throw ONNXError(.unsupportedOpset, file: file, opset: version,
                            "opset \(version) is outside \(supportedOpsets.lowerBound)...\(supportedOpsets.upperBound)")
        }
        return version
    }
}

/// The checks made before any tensor data is read: every operator is one the importer lowers, and every
/// name a node reads is defined before it (a graph input, an initializer or an earlier node's output).
struct GraphCheck {
    let file: String
    let opset: Int

    /// What the importer lowers (of the default domain). The shape operators at the end are folded: they
    /// appear where exporters compute padding or shapes (`x.view(x.size(0), -1)` becomes Shape, Gather,
    /// Unsqueeze, Concat and Reshape).
    static let operators: Set<String> = [
        "Conv", "BatchNormalization", "Relu", "Clip", "Sigmoid", "HardSigmoid", "HardSwish", "LeakyRelu",
        "Add", "Sub", "Mul", "Div", "GlobalAveragePool", "AveragePool", "MaxPool", "ReduceMean", "Gemm", "MatMul",
        "Flatten", "Reshape", "Squeeze", "Unsqueeze", "Concat", "Pad", "Softmax", "Identity", "Dropout", "Constant",
        "ConstantOfShape", "Slice", "Transpose", "Cast", "Shape", "Gather",
    ]

    func check(_ graph: Onnx_GraphProto) throws {
        var defined = Set(graph.input.map(\.name))
        defined.formUnion(graph.initializer.map(\.name))
        for node in graph.node {
            guard node.domain.isEmpty || node.domain == "ai.onnx" else {
                throw ONNXError(.unsupportedOperator, file: file, node: node.name, op: "\(node.domain).\(node.opType)",
                                opset: opset, "operators of domain '\(node.domain)' are not supported")
            }
            guard Self.operators.contains(node.opType) else {
                throw ONNXError(.unsupportedOperator, file: file, node: node.name, op: node.opType, opset: opset,
                                "operator \(node.opType) is not supported")
            }
            for input in node.input where !input.isEmpty && !defined.contains(input) {
                throw ONNXError(.missingValue, file: file, node: node.name, op: node.opType, opset: opset,
                                "reads '\(input)', which no initializer, graph input or earlier node defines")
            }
            defined.formUnion(node.output)
        }
        guard graph.output.count == 1, let output = graph.output.first else {
            throw ONNXError(.unsupportedAttribute, file: file, "the graph has \(graph.output.count) outputs; a classifier has one")
        }
        guard defined.contains(output.name) else {
            throw ONNXError(.missingValue, file: file, "the graph's output '\(output.name)' is never computed")
        }
    }
}
