/// Walks the pages of one column chunk, reading the chunk from its source in bounded windows, so a
/// chunk of any size is read with a few large requests and at most one window plus one page in memory.
struct PageStream {
    static let windowSize = 4 << 20

    private let source: any ByteRangeSource
    private let chunkEnd: Int64
    private let limits: ReadLimits
    private var window = WindowBuffer()
    private var windowStart: Int64
    /// File offset of the next page header.
    private(set) var position: Int64

    init(source: any ByteRangeSource, start: Int64, length: Int64, limits: ReadLimits = .default) {
        self.source = source
        self.limits = limits
        self.chunkEnd = start + length
        self.windowStart = start
        self.position = start
    }

    var isAtEnd: Bool { position >= chunkEnd }

    /// Parses the next page header and hands `body` the page's stored (possibly compressed) bytes.
    /// The bytes are valid only during the call.
    mutating func nextPage<T>(_ body: (PageHeader, UnsafeRawBufferPointer) throws -> T) throws -> T {
        let headerOffset = position
        let header: PageHeader
        do {
            header = try readHeader()
        } catch let error as ParquetError {
            throw error.located(.init(byteOffset: headerOffset))
        }
        let size = Int(header.compressedPageSize)
        try limits.checkPageSize(size, what: "stored page")
        try limits.checkPageSize(Int(header.uncompressedPageSize), what: "uncompressed page")
        guard Int64(size) <= chunkEnd - position else {
            throw ParquetError.truncated("page of \(size) bytes runs past the end of its column chunk (\(chunkEnd - position) bytes left)")
        }
        try ensure(size)
        let offset = Int(position - windowStart)
        position += Int64(size)
        return try body(header, UnsafeRawBufferPointer(rebasing: window.bytes[offset..<offset + size]))
    }

    /// After the values a chunk declares: the rest of the chunk (normally nothing) must hold no data page
    /// with values, or the pages hold more than the metadata declares.
    mutating func checkNoFurtherValues(declared: Int) throws {
        while !isAtEnd {
            let extra = try nextPage { header, _ in
                switch header.type {
                case .dataPage: Int(header.dataPageHeader?.numValues ?? 0)
                case .dataPageV2: Int(header.dataPageHeaderV2?.numValues ?? 0)
                case .dictionaryPage, .indexPage: 0
                }
            }
            guard extra == 0 else {
                throw ParquetError(.rowCountMismatch, "the column chunk's pages hold more than the \(declared) values its metadata declares (\(extra) more in a further page)")
            }
        }
    }

    private mutating func readHeader() throws -> PageHeader {
        var attempt = min(Int64(256), chunkEnd - position)
        while true {
            try ensure(Int(attempt))
            let offset = Int(position - windowStart)
            let available = window.bytes.count - offset
            do {
                var reader = ThriftCompactReader(UnsafeRawBufferPointer(rebasing: window.bytes[offset..<offset + available]))
                let header = try PageHeader(thrift: &reader)
                position += Int64(reader.position)
                return header
            } catch let error as ParquetError where error.kind == .truncated {
                // The header may be longer than the bytes we looked at (large statistics): look further.
                let left = chunkEnd - position
                guard Int64(available) < left, attempt < Int64(limits.maxPageBytes) else {
                    throw ParquetError.corruptMetadata("page header at byte \(position) cannot be decoded: \(error.message)")
                }
                attempt = min(left, attempt * 16)
            }
        }
    }

    /// Makes `count` bytes from `position` available in the window.
    private mutating func ensure(_ count: Int) throws {
        if position >= windowStart, position + Int64(count) <= windowStart + Int64(window.bytes.count) { return }
        let length = Int(min(chunkEnd - position, Int64(max(count, Self.windowSize))))
        guard length >= count else {
            throw ParquetError.truncated("column chunk ends \(count - length) bytes early")
        }
        do {
            try source.read(offset: position, into: window.resize(length))
        } catch let error as ByteIOError {
            throw ParquetError(error)
        }
        windowStart = position
    }
}

/// The window's memory, kept across refills so a long chunk costs no allocation or page faults per window.
/// (A class: the bytes it hands out stay valid while the page stream lives and does not refill.)
final class WindowBuffer {
    private var storage = UnsafeMutableRawBufferPointer(start: nil, count: 0)
    private(set) var bytes = UnsafeRawBufferPointer(start: nil, count: 0)

    /// Makes room for `count` bytes (keeping the allocation when it is large enough) and returns them.
    func resize(_ count: Int) -> UnsafeMutableRawBufferPointer {
        if storage.count < count {
            storage.deallocate()
            storage = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 64)
        }
        let region = UnsafeMutableRawBufferPointer(rebasing: storage[0..<count])
        bytes = UnsafeRawBufferPointer(region)
        return region
    }

    deinit { storage.deallocate() }
}
