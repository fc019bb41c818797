/// Everything the Inference module can report: what went wrong, where, and why.
public struct InferenceError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Kind: String, Sendable {
        case missingWeight       // a parameter the model needs is not in the weights file
        case shapeMismatch       // a parameter or input has the wrong shape
        case dtypeMismatch       // a parameter or input has an unsupported element type
        case malformedFile       // a weights or array file whose bytes contradict its own header
        case io                  // the file system said no
        case invalidGraph        // a graph that cannot be executed as built
        case unsupported         // a valid request this engine does not implement
        case backend             // oneDNN refused or failed
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { "\(kind.rawValue): \(message)" }
}
