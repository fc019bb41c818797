/// A failure to read or write bytes: what, where (the source or sink's name and the byte offset) and why.
public struct ByteIOError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: String, Sendable {
        /// The system or the network failed (open, read, write, close).
        case io
        /// The bytes asked for lie outside the source (a length read from a file was wrong).
        case outOfRange
    }

    public var kind: Kind
    public var name: String
    public var offset: Int64?
    public var message: String

    public init(_ kind: Kind, _ message: String, name: String, offset: Int64? = nil) {
        self.kind = kind
        self.message = message
        self.name = name
        self.offset = offset
    }

    public var description: String {
        "\(name)" + (offset.map { " at byte \($0)" } ?? "") + ": \(message)"
    }
}
