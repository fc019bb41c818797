#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a file's bytes come from: a local file, an object store, memory. Readers (Parquet's) ask only
/// for the ranges they need, so a remote implementation pays for exactly those bytes. Implementations must
/// be safe to call from several threads at once.
public protocol ByteRangeSource: Sendable {
    /// A name for messages: a path or a URL (never credentials).
    var name: String { get }
    /// The total size in bytes.
    func size() throws -> Int64
    /// Exactly `count` bytes starting at `offset`; a short read is an error.
    func read(offset: Int64, count: Int) throws -> [UInt8]
    /// Fills `buffer` with the bytes starting at `offset` (lets readers reuse their buffers).
    func read(offset: Int64, into buffer: UnsafeMutableRawBufferPointer) throws
}

extension ByteRangeSource {
    public func read(offset: Int64, into buffer: UnsafeMutableRawBufferPointer) throws {
        let bytes = try read(offset: offset, count: buffer.count)
        bytes.withUnsafeBytes { buffer.copyMemory(from: $0) }
    }
}

/// A source that can be told what will be read next, so that it fetches those bytes while the caller is
/// busy with earlier ones. Hints are advisory: a source may ignore them (a local file does).
public protocol PrefetchingByteRangeSource: ByteRangeSource {
    /// Starts fetching `ranges` now (nearby ranges coalesced, large ones split, within the source's buffer
    /// budget). Later `read`s of these bytes are served from memory.
    func prefetch(_ ranges: [Range<Int64>])
    /// Drops fetched bytes that nobody has read yet.
    func discardBuffers()
}

/// A local file read with `pread`, so concurrent readers never share a file position.
public final class LocalFileSource: ByteRangeSource {
    public let name: String
    private let descriptor: Int32
    private let fileSize: Int64

    public init(path: String) throws {
        name = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw ByteIOError(.io, "cannot open: \(String(cString: strerror(errno)))", name: path)
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let message = String(cString: strerror(errno))
            close(fd)
            throw ByteIOError(.io, "cannot stat: \(message)", name: path)
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw ByteIOError(.io, "not a regular file", name: path)
        }
        descriptor = fd
        fileSize = Int64(info.st_size)
    }

    deinit { close(descriptor) }

    public func size() throws -> Int64 { fileSize }

    public func read(offset: Int64, count: Int) throws -> [UInt8] {
        try checkRange(offset, count)
        return try [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            try read(offset: offset, into: UnsafeMutableRawBufferPointer(buffer))
            initialized = count
        }
    }

    public func read(offset: Int64, into buffer: UnsafeMutableRawBufferPointer) throws {
        let count = buffer.count
        try checkRange(offset, count)
        var done = 0
        while done < count {
            let n = pread(descriptor, buffer.baseAddress! + done, count - done, off_t(offset) + off_t(done))
            if n > 0 {
                done += n
            } else if n < 0 && errno == EINTR {
                continue
            } else {
                let reason = n == 0 ? "the file ended early (was it truncated while reading?)" : String(cString: strerror(errno))
                throw ByteIOError(.io, "read of \(count) bytes failed: \(reason)", name: name, offset: offset)
            }
        }
    }

    private func checkRange(_ offset: Int64, _ count: Int) throws {
        guard offset >= 0, count >= 0, offset <= fileSize, Int64(count) <= fileSize - offset else {
            throw ByteIOError(.outOfRange, "range \(offset)..<\(offset &+ Int64(count)) lies outside the file's \(fileSize) bytes",
                              name: name, offset: offset)
        }
    }
}

/// Bytes already in memory (tests, small objects fetched whole).
public struct InMemorySource: ByteRangeSource {
    public let name: String
    public let bytes: [UInt8]

    public init(name: String = "<memory>", bytes: [UInt8]) {
        self.name = name
        self.bytes = bytes
    }

    public func size() throws -> Int64 { Int64(bytes.count) }

    public func read(offset: Int64, count: Int) throws -> [UInt8] {
        guard offset >= 0, count >= 0, offset <= Int64(bytes.count), Int64(count) <= Int64(bytes.count) - offset else {
            throw ByteIOError(.outOfRange, "range \(offset)..<\(offset &+ Int64(count)) lies outside the \(bytes.count) bytes",
                              name: name, offset: offset)
        }
        return Array(bytes[Int(offset)..<Int(offset) + count])
    }
}
