import ByteIO

/// Every failure the Parquet module reports. Low-level decoders throw an error without a location;
/// the reader adds the file, row group, column and page as the error travels up (`located(...)`).
public struct ParquetError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable {
        /// The byte source failed (open, read, permissions).
        case io
        /// The file or a structure inside it ends before it should.
        case truncated
        /// The file does not start and end with `PAR1`.
        case badMagic
        /// Thrift metadata (footer or page header) that cannot be decoded.
        case corruptMetadata
        /// A page whose contents contradict its header (levels, values, sizes, CRC).
        case corruptPage
        /// A codec failed, or produced a different size than the page header promised.
        case decompression
        /// A valid feature this reader does not implement (a codec, an encoding, encryption).
        case unsupported
        /// The schema and the data disagree (types, levels, a column that is not there).
        case schemaMismatch
        /// The caller asked for something impossible (bad argument, wrong column kind).
        case invalidArgument
        /// The pages hold a different number of rows or values than the footer declares.
        case rowCountMismatch
        /// A count or size the file declares exceeds what it can hold or a configured `ReadLimits` bound.
        case limitExceeded
    }

    /// Where in a file an error happened. Every field is optional: each layer fills what it knows.
    public struct Location: Sendable, Equatable {
        public var file: String?
        public var rowGroup: Int?
        public var column: String?
        public var page: Int?
        public var row: Int?
        public var byteOffset: Int64?

        public init(file: String? = nil, rowGroup: Int? = nil, column: String? = nil,
                    page: Int? = nil, row: Int? = nil, byteOffset: Int64? = nil) {
            self.file = file
            self.rowGroup = rowGroup
            self.column = column
            self.page = page
            self.row = row
            self.byteOffset = byteOffset
        }

        var isEmpty: Bool { self == Location() }

        /// Fills the fields that are still empty from `outer`.
        func merged(with outer: Location) -> Location {
            Location(file: file ?? outer.file, rowGroup: rowGroup ?? outer.rowGroup,
                     column: column ?? outer.column, page: page ?? outer.page,
                     row: row ?? outer.row, byteOffset: byteOffset ?? outer.byteOffset)
        }
    }

    public var kind: Kind
    public var message: String
    public var location: Location

    public init(_ kind: Kind, _ message: String, at location: Location = Location()) {
        self.kind = kind
        self.message = message
        self.location = location
    }

    public var description: String {
        var parts: [String] = []
        if let file = location.file { parts.append(file) }
        if let rowGroup = location.rowGroup { parts.append("row group \(rowGroup)") }
        if let column = location.column { parts.append("column '\(column)'") }
        if let page = location.page { parts.append("page \(page)") }
        if let row = location.row { parts.append("row \(row)") }
        if let offset = location.byteOffset { parts.append("byte \(offset)") }
        let prefix = parts.isEmpty ? "" : parts.joined(separator: ", ") + ": "
        return "\(prefix)\(kind.rawValue): \(message)"
    }

    /// The same error with the empty location fields filled from `outer`.
    public func located(_ outer: Location) -> ParquetError {
        var copy = self
        copy.location = location.merged(with: outer)
        return copy
    }

    static func truncated(_ message: String) -> ParquetError { ParquetError(.truncated, message) }
    static func corruptPage(_ message: String) -> ParquetError { ParquetError(.corruptPage, message) }
    static func corruptMetadata(_ message: String) -> ParquetError { ParquetError(.corruptMetadata, message) }
    static func unsupported(_ message: String) -> ParquetError { ParquetError(.unsupported, message) }
}

extension ParquetError {
    /// A source's failure as the reader reports it: a range outside the source means a size or offset in
    /// the file was wrong, so the file is truncated.
    init(_ error: ByteIOError) {
        self.init(error.kind == .outOfRange ? .truncated : .io, error.message, at: .init(file: error.name, byteOffset: error.offset))
    }
}

/// Runs `body`, attaching `location` to any error it throws (a non-Parquet error becomes `.io`).
@inline(__always)
func withLocation<T>(_ location: @autoclosure () -> ParquetError.Location, _ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as ParquetError {
        throw error.located(location())
    } catch let error as ByteIOError {
        throw ParquetError(error).located(location())
    } catch {
        throw ParquetError(.io, "\(error)", at: location())
    }
}
