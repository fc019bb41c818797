/// A growable, 64-byte-aligned byte buffer owned by one worker and reused from image to image, so the hot
/// path allocates only when an image needs more room than every image before it.
final class ScratchBuffer {
    private(set) var base: UnsafeMutableRawPointer?
    private(set) var capacity = 0
    /// Bytes past the requested size that are always allocated, so vector loads may read a little beyond
    /// the last element.
    static let slack = 128

    init() {}

    deinit { base?.deallocate() }

    /// Room for `count` bytes (plus `slack`), zero-filled only when newly allocated; earlier contents are lost
    /// when the buffer grows.
    func reserve(_ count: Int) -> UnsafeMutableRawPointer {
        if let base, count <= capacity { return base }
        base?.deallocate()
        let grown = max(count, capacity + capacity / 2)
        let fresh = UnsafeMutableRawPointer.allocate(byteCount: grown + Self.slack, alignment: 64)
        fresh.initializeMemory(as: UInt8.self, repeating: 0, count: grown + Self.slack)
        base = fresh
        capacity = grown
        return fresh
    }

    /// `reserve(count)` typed as `T` (count is in elements).
    func reserve<T>(_ count: Int, of _: T.Type) -> UnsafeMutablePointer<T> {
        reserve(count * MemoryLayout<T>.stride).bindMemory(to: T.self, capacity: count)
    }
}
