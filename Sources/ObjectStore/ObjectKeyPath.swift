/// Object keys are names chosen by whoever wrote the bucket (or answered the listing), never trusted paths:
/// a key part that becomes a file name, or the tail of another key, is checked here first.
public enum ObjectKeyPath {
    /// `relative` (a key with its listed prefix removed) as a path below a destination: a relative path
    /// whose segments are all real names. Refuses (`.invalidArgument`, naming the key) an absolute path,
    /// `..` and `.` segments, empty segments (`a//b`), NUL bytes and an empty name, so that the joined path
    /// can never leave the destination nor name the destination itself.
    public static func checkedRelativePath(_ relative: String, key: String, destination: String) throws -> String {
        func refuse(_ reason: String) -> ObjectStoreError {
            ObjectStoreError(.invalidArgument, operation: "copy", object: key,
                             message: "the key cannot be copied under \(destination): \(reason)")
        }
        guard !relative.isEmpty else { throw refuse("it names the destination itself, not an object below it") }
        guard !relative.utf8.contains(0) else { throw refuse("it contains a NUL byte") }
        // Bytes, not Characters: "/" followed by a combining mark is one Character but still a separator
        // to the file system.
        let slash = UInt8(ascii: "/"), dot = UInt8(ascii: ".")
        guard relative.utf8.first != slash else { throw refuse("it is an absolute path") }
        // A trailing '/' is a "directory marker" object: it has no file name of its own.
        for segment in relative.utf8.split(separator: slash, omittingEmptySubsequences: false) {
            if segment.isEmpty { throw refuse("it has an empty path segment ('//' or a trailing '/')") }
            if segment.elementsEqual([dot]) { throw refuse("it has a '.' path segment") }
            if segment.elementsEqual([dot, dot]) { throw refuse("it has a '..' path segment, which would leave the destination") }
        }
        return relative
    }

    /// The part of `key` below `base` (a prefix ending in '/', or empty), or its last segment when the key is
    /// not below `base` (`s3://b/p` also lists `pq/x`); then checked as above.
    static func relativePath(of key: String, below base: String, destination: String) throws -> String {
        let relative: String
        if key.utf8.starts(with: base.utf8) {
            relative = String(decoding: key.utf8.dropFirst(base.utf8.count), as: UTF8.self)
        } else {
            let segments = key.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
            relative = segments.last.map { String(decoding: $0, as: UTF8.self) } ?? ""
        }
        return try checkedRelativePath(relative, key: key, destination: destination)
    }
}
