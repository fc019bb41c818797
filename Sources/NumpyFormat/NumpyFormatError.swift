/// Why bytes are not a `.npy` array Sluice can read; the callers add the file's name.
public struct NumpyFormatError: Error, CustomStringConvertible, Equatable {
    public enum Kind: Sendable, Equatable {
        case notNumpy, truncated, corrupt, unsupported, shapeMismatch
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
