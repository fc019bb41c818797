import Foundation
import ByteIO
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a local file atomically: into a hidden temporary file next to the target (same directory, so
/// same file system), flushed with fsync and renamed over the target by `close()`. `abort()`, a failure
/// or dropping the writer unclosed removes the temporary file; the target is never half-written. A killed
/// process leaves its temporary behind: `LocalTemporaries.removeAbandoned` removes those whose owner is gone.
public final class LocalObjectWriter: ObjectWriter {
    /// Whether `name` (a file name or a path) is one of these writers' temporaries.
    public static func isTemporaryName(_ name: String) -> Bool { LocalTemporaries.isTemporaryName(name) }

    public let name: String
    public let temporaryPath: String
    private var sink: LocalFileSink?
    private var committed = false
    public private(set) var bytesWritten: Int64 = 0

    public init(path: String) throws {
        name = path
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw ObjectStoreError(.io, operation: "create directory", object: directory, message: "\(error.localizedDescription)")
        }
        temporaryPath = "\(directory)/\(LocalTemporaries.temporaryName(for: url.lastPathComponent))"
        do {
            sink = try LocalFileSink(path: temporaryPath)
        } catch {
            throw ObjectStoreError(.io, operation: "create", object: temporaryPath, message: "\(error)")
        }
    }

    deinit { if !committed { abort() } }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard let sink else {
            throw ObjectStoreError(committed ? .invalidArgument : .aborted, operation: "write", object: name,
                                   message: committed ? "the file was already committed" : "the write was aborted")
        }
        do {
            try sink.write(bytes)
        } catch {
            abort()
            throw ObjectStoreError(.io, operation: "write", object: name, message: "\(error)")
        }
        bytesWritten += Int64(bytes.count)
    }

    public func close() throws {
        _ = try commit(replacing: true)
    }

    /// Writes `bytes` as the file `path` unless it exists; true when this call created it. The finished
    /// temporary is hard-linked into place, which fails when the name is taken, so of many processes racing
    /// exactly one creates the file.
    public static func createIfAbsent(path: String, bytes: [UInt8]) throws -> Bool {
        let writer = try LocalObjectWriter(path: path)
        try writer.write(bytes)
        return try writer.commit(replacing: false)
    }

    /// Flushes, then renames the temporary over the target, or with `replacing: false` links it into place
    /// only if the target does not exist (false when it did).
    private func commit(replacing: Bool) throws -> Bool {
        if committed { return true }
        guard let sink else {
            throw ObjectStoreError(.aborted, operation: "close", object: name, message: "the write was aborted; nothing was committed")
        }
        do {
            try sink.close()  // fsync + close
        } catch {
            abort()
            throw ObjectStoreError(.io, operation: "close", object: name, message: "\(error)")
        }
        self.sink = nil
        if !replacing {
            defer { unlink(temporaryPath) }
            guard link(temporaryPath, name) == 0 else {
                if errno == EEXIST { return false }
                let reason = String(cString: strerror(errno))
                throw ObjectStoreError(.io, operation: "link", object: name, message: "cannot link the finished temporary file into place: \(reason)")
            }
            committed = true
            syncDirectory(of: name)
            return true
        }
        guard rename(temporaryPath, name) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporaryPath)
            throw ObjectStoreError(.io, operation: "rename", object: name, message: "cannot rename the finished temporary file into place: \(reason)")
        }
        committed = true
        syncDirectory(of: name)
        return true
    }

    public func abort() {
        guard !committed else { return }
        if let sink { try? sink.close() }
        sink = nil
        unlink(temporaryPath)
    }

    /// Makes the rename durable.
    private func syncDirectory(of path: String) {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        let fd = open(directory, O_RDONLY | O_CLOEXEC)
        if fd >= 0 {
            _ = fsync(fd)
            _ = Glibc.close(fd)
        }
    }
}
