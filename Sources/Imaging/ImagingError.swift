/// Every failure the Imaging module reports: what was wrong, in words, and (when the caller knows it) which
/// image it was (`source`: a file name or a record id).
public struct ImagingError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable {
        /// Zero bytes of input.
        case empty
        /// The bytes are neither JPEG nor PNG (the message says what they look like).
        case unknownFormat
        /// A valid image in an encoding this module does not decode (12-bit or lossless JPEG, DNL, ...).
        case unsupported
        /// The data ends before the image does.
        case truncated
        /// The data is malformed: a bad CRC, an impossible header, undecodable entropy-coded data.
        case corrupt
        /// The image declares a width or height of zero.
        case zeroSize
        /// The image has more pixels than the decoder's limit allows.
        case tooLarge
        /// A raw tensor whose byte count or shape does not describe an image.
        case shapeMismatch
        /// The caller asked for something impossible (a bad size, a slot of the wrong size).
        case invalidArgument
        /// A file could not be read or written.
        case io
    }

    public var kind: Kind
    public var message: String
    /// The image the error is about, when known (a path or a record id).
    public var source: String?

    public init(_ kind: Kind, _ message: String, source: String? = nil) {
        self.kind = kind
        self.message = message
        self.source = source
    }

    public var description: String {
        (source.map { "\($0): " } ?? "") + "\(kind.rawValue): \(message)"
    }

    /// The same error, naming `source` if it names nothing yet.
    public func from(_ source: String) -> ImagingError {
        var copy = self
        if copy.source == nil { copy.source = source }
        return copy
    }
}
