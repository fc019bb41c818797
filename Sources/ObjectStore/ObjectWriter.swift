import ByteIO

/// A `ByteSink` whose output becomes visible under its final name only when complete: `close()` (or
/// `commit()`) publishes it, `abort()` or a failure leaves nothing behind. Writers are used by one thread
/// at a time.
public protocol ObjectWriter: ByteSink {
    /// Publishes the object (the same as `close()`).
    func commit() throws
    /// Drops what was written. Safe after a failure, twice, or after commit (then it does nothing).
    func abort()
    /// Bytes accepted by `write` so far.
    var bytesWritten: Int64 { get }
}

extension ObjectWriter {
    public func commit() throws { try close() }

    public func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }
}
