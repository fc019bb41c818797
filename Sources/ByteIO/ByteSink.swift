#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a writer's bytes go, in order. The object-store layer provides atomic and multipart-upload sinks.
public protocol ByteSink: AnyObject {
    var name: String { get }
    func write(_ bytes: UnsafeRawBufferPointer) throws
    /// Flushes and closes; the output is complete only after this returns.
    func close() throws
}

extension ByteSink {
    public func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }
}

/// A local file, created or truncated. The caller decides on atomic commit (write elsewhere, then rename).
public final class LocalFileSink: ByteSink {
    public let name: String
    private var descriptor: Int32

    public init(path: String) throws {
        name = path
        descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw ByteIOError(.io, "cannot create: \(String(cString: strerror(errno)))", name: path)
        }
    }

    deinit { if descriptor >= 0 { Glibc.close(descriptor) } }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard descriptor >= 0 else { throw ByteIOError(.io, "write after close", name: name) }
        var done = 0
        while done < bytes.count {
            let n = Glibc.write(descriptor, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw ByteIOError(.io, "write failed: \(String(cString: strerror(errno)))", name: name)
            }
            done += n
        }
    }

    public func close() throws {
        guard descriptor >= 0 else { return }
        let fd = descriptor
        descriptor = -1
        guard fsync(fd) == 0 || errno == EINVAL, Glibc.close(fd) == 0 else {
            throw ByteIOError(.io, "close failed: \(String(cString: strerror(errno)))", name: name)
        }
    }
}

/// Collects the output in memory (tests, small objects).
public final class InMemorySink: ByteSink {
    public let name: String
    public private(set) var bytes: [UInt8] = []

    public init(name: String = "<memory>") { self.name = name }

    public func write(_ bytes: UnsafeRawBufferPointer) throws { self.bytes.append(contentsOf: bytes) }

    public func close() throws {}
}
