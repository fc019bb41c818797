/// Why a graph cannot be lowered to CUDA, found before any device work.
public struct CUDAPlanError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Reason: Sendable, Equatable {
        /// A node this lowering has no CUDA implementation for.
        case unsupportedNode(node: String, operation: String, why: String)
        case unsupportedPrecision(Precision, why: String)
        case invalidBatchSize(Int)
        /// The input normalisation does not fit the model's input.
        case invalidNormalization(why: String)
        /// A tensor or weight whose byte size (or a dimension cuDNN takes as a 32-bit int) overflows.
        case sizeOverflow(what: String)
    }

    public let reason: Reason

    public init(_ reason: Reason) { self.reason = reason }

    static func node(_ node: Node, _ why: String) -> CUDAPlanError {
        CUDAPlanError(.unsupportedNode(node: node.name, operation: node.operation.kindName, why: why))
    }

    public var description: String {
        switch reason {
        case .unsupportedNode(let node, let operation, let why):
            "CUDA lowering: node \(node) (\(operation)): \(why)"
        case .unsupportedPrecision(let precision, let why):
            "CUDA lowering: precision \(precision.rawValue): \(why)"
        case .invalidBatchSize(let size):
            "CUDA lowering: batch size \(size); it must be at least 1"
        case .invalidNormalization(let why):
            "CUDA lowering: input normalisation: \(why)"
        case .sizeOverflow(let what):
            "CUDA lowering: \(what) is too large"
        }
    }
}
