/// The resource policy of the reader, in one place. Every count and size a file declares (row and value
/// counts, chunk, page and dictionary sizes, level and index counts, DELTA headers, tensor rows) is checked
/// against what the file or page can hold and against these limits before anything is allocated; a
/// breach throws `.limitExceeded`. Lower them to fit a memory budget (`init(memoryBudget:)`).
public struct ReadLimits: Sendable, Equatable {
    /// Largest page, stored or uncompressed.
    public var maxPageBytes = 1 << 30
    /// Largest memory decoded from one page: its levels, dictionary indices and values (or one dictionary).
    public var maxDecodedPageBytes = 1 << 30
    /// Largest tensor row (elements × element width).
    public var maxTensorRowBytes = 1 << 30

    public init() {}

    /// Limits for a budget of `bytes` in all: no single page, decoded page or tensor row may take more
    /// than a quarter of it (the reader holds about one of each at a time, plus the caller's batch).
    public init(memoryBudget bytes: Int) {
        let share = max(1 << 20, bytes / 4)
        maxPageBytes = min(maxPageBytes, share)
        maxDecodedPageBytes = min(maxDecodedPageBytes, share)
        maxTensorRowBytes = min(maxTensorRowBytes, share)
    }

    public static let `default` = ReadLimits()

    /// `count` entries of `bytesPerEntry` each, decoded from one page, must fit `maxDecodedPageBytes`.
    func checkPageEntries(_ count: Int, bytesPerEntry: Int, what: String) throws {
        let (total, overflow) = count.multipliedReportingOverflow(by: bytesPerEntry)
        guard count >= 0, !overflow, total <= maxDecodedPageBytes else {
            throw ParquetError(.limitExceeded, "\(what): \(count) values of about \(bytesPerEntry) bytes each exceed the \(maxDecodedPageBytes)-byte limit for one page (ReadLimits.maxDecodedPageBytes)")
        }
    }

    /// A page's declared stored and uncompressed sizes must fit `maxPageBytes`.
    func checkPageSize(_ size: Int, what: String) throws {
        guard size >= 0, size <= maxPageBytes else {
            throw ParquetError(.limitExceeded, "\(what) of \(size) bytes exceeds the \(maxPageBytes)-byte page limit (ReadLimits.maxPageBytes)")
        }
    }
}

extension PhysicalType {
    /// Memory one decoded value takes in `ColumnValues`, beyond variable-length bytes (an offset for
    /// binary types), or a dictionary index (4) if larger: what a page's value count costs before any byte is read.
    var decodedBytesPerValue: Int {
        switch self {
        case .boolean: 4
        case .int32, .float: 4
        case .int64, .double: 8
        case .int96: 12 + 8
        case .byteArray, .fixedLenByteArray: 8 + 8
        }
    }
}
