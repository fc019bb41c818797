#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Bytes behind a tensor: either owned (64-byte aligned, freed with the storage) or borrowed from an owner
/// that keeps them alive (a memory-mapped file, a caller's buffer).
public final class TensorStorage: @unchecked Sendable {
    public let bytes: UnsafeMutableRawPointer
    public let byteCount: Int
    private let owner: AnyObject?
    private let owned: Bool

    /// Owned, zero-filled, aligned to 64 bytes (a cache line; what oneDNN's kernels prefer).
    public init(zeroedByteCount byteCount: Int) throws {
        var pointer: UnsafeMutableRawPointer?
        let status = posix_memalign(&pointer, 64, max(byteCount, 64))
        guard status == 0, let pointer else {
            throw InferenceError(.io, "cannot allocate \(byteCount) bytes for a tensor (error \(status))")
        }
        memset(pointer, 0, max(byteCount, 64))
        self.bytes = pointer
        self.byteCount = byteCount
        self.owner = nil
        self.owned = true
    }

    /// Borrowed: `bytes` stays valid as long as `owner` lives.
    public init(borrowing bytes: UnsafeMutableRawPointer, byteCount: Int, owner: AnyObject?) {
        self.bytes = bytes
        self.byteCount = byteCount
        self.owner = owner
        self.owned = false
    }

    deinit {
        if owned { free(bytes) }
    }
}
