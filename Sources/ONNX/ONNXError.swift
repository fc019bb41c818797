/// Everything the ONNX importer can report: the file, the node (name, operator, opset) where it applies,
/// and why.
public struct ONNXError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Kind: String, Sendable {
        case io                       // the file system said no
        case malformed                // bytes that are not an ONNX model, or contradict themselves
        case unsupportedOpset         // the default domain's opset is outside what the importer knows
        case unsupportedOperator      // an operator (or domain) the importer does not lower
        case unsupportedAttribute     // a known operator used in a way the importer does not lower
        case missingValue             // a node reads a name nothing defines (e.g. a missing initializer)
        case externalDataOutsideModel // an external-data path that leaves the model's folder
        case shapeMismatch            // shapes that do not fit the operator or each other
        case dtypeMismatch            // an element type the operator cannot take
    }

    public let kind: Kind
    /// The model file.
    public let file: String
    /// The node's name and operator, when the error is about one node.
    public let node: String?
    public let op: String?
    public let opset: Int?
    public let message: String

    public init(_ kind: Kind, file: String, node: String? = nil, op: String? = nil, opset: Int? = nil, _ message: String) {
        self.kind = kind
        self.file = file
        self.node = node
        self.op = op
        self.opset = opset
        self.message = message
    }

    public var description: String {
        var where_ = file
        if let node { where_ += ": node '\(node)'" }
        if let op { where_ += " (\(op)\(opset.map { ", opset \($0)" } ?? ""))" }
        return "\(where_): \(kind.rawValue): \(message)"
    }
}
