import Foundation
import NIOConcurrencyHelpers
import ByteIO

/// Where a URL points: an S3 object or prefix, or a local path.
public enum ObjectURL: Sendable, Equatable, CustomStringConvertible {
    case s3(bucket: String, key: String)
    case local(path: String)

    /// `s3://bucket/key` (also `s3a://`, `s3n://`), `file:///path`, or a plain path.
    public init(parsing text: String) throws {
        for scheme in ["s3://", "s3a://", "s3n://"] where text.lowercased().hasPrefix(scheme) {
            let rest = text.dropFirst(scheme.count)
            let bucket = rest.prefix { $0 != "/" }
            guard !bucket.isEmpty else {
                throw ObjectStoreError(.invalidArgument, operation: "parse URL", object: text, message: "an S3 URL is s3://bucket/key")
            }
            self = .s3(bucket: String(bucket), key: String(rest.dropFirst(bucket.count + 1)))
            return
        }
        if text.hasPrefix("file://") {
            let path = String(text.dropFirst("file://".count))
            guard path.hasPrefix("/") else {
                throw ObjectStoreError(.invalidArgument, operation: "parse URL", object: text, message: "a file URL is file:///absolute/path")
            }
            self = .local(path: path)
            return
        }
        guard !text.contains("://") else {
            throw ObjectStoreError(.invalidArgument, operation: "parse URL", object: text,
                                   message: "unsupported URL scheme (use s3://bucket/key, file:///path or a plain path)")
        }
        self = .local(path: text)
    }

    public var description: String {
        switch self {
        case .s3(let bucket, let key): return "s3://\(bucket)/\(key)"
        case .local(let path): return path
        }
    }

    /// True for an `s3://` (`s3a://`, `s3n://`) URL.
    public static func isRemote(_ text: String) -> Bool {
        if case .s3? = try? ObjectURL(parsing: text) { return true }
        return false
    }

    /// True for `s3://bucket/prefix/` and `dir/`: a place holding objects, not one object.
    public var looksLikeDirectory: Bool {
        switch self {
        case .s3(_, let key): return key.isEmpty || key.hasSuffix("/")
        case .local(let path): return path.hasSuffix("/")
        }
    }

    /// This URL with `name` appended as a path component.
    public func appending(_ name: String) -> ObjectURL {
        switch self {
        case .s3(let bucket, let key):
            return .s3(bucket: bucket, key: key.isEmpty || key.hasSuffix("/") ? key + name : key + "/" + name)
        case .local(let path):
            return .local(path: path.hasSuffix("/") ? path + name : path + "/" + name)
        }
    }

    /// The last path component.
    public var lastComponent: String {
        let text: String
        switch self {
        case .s3(_, let key): text = key
        case .local(let path): text = path
        }
        return String(text.split(separator: "/").last ?? "")
    }
}

/// The entry point: turns URLs into stores, sources and writers, sharing one S3 client (created on first
/// use, so local-only work needs no credentials). Call `shutdown()` at the end.
public final class ObjectStorage: Sendable {
    private let options: S3Options
    private let environment: [String: String]
    private let homeDirectory: String?
    private let client = NIOLockedValueBox<S3Client?>(nil)

    public init(s3: S3Options = S3Options(), environment: [String: String] = ProcessInfo.processInfo.environment,
                homeDirectory: String? = nil) {
        options = s3
        self.environment = environment
        self.homeDirectory = homeDirectory
    }

    /// Uses an existing client (its configuration is fixed already).
    public init(client: S3Client) {
        options = S3Options()
        environment = [:]
        homeDirectory = nil
        self.client.withLockedValue { $0 = client }
    }

    /// The shared S3 client, created (and its configuration resolved) on first use.
    public func s3Client() throws -> S3Client {
        try client.withLockedValue { existing in
            if let existing { return existing }
            let configuration = try S3Configuration.resolve(options, environment: environment, homeDirectory: homeDirectory)
            let created = S3Client(configuration: configuration)
            existing = created
            return created
        }
    }

    public func store(for url: ObjectURL) throws -> (store: any ObjectStore, key: String) {
        switch url {
        case .s3(let bucket, let key): return (S3BucketStore(client: try s3Client(), bucket: bucket), key)
        case .local(let path): return (LocalFileStore(), path)
        }
    }

    public func store(for url: String) throws -> (store: any ObjectStore, key: String) {
        try store(for: ObjectURL(parsing: url))
    }

    /// Files named directly, plus the objects directly under each directory or prefix whose name ends with
    /// `suffix`, each group in key order. An S3 URL that is not an object is taken as a prefix (`url/`).
    public func expand(_ urls: [String], suffix: String = ".parquet") throws -> [ObjectInfo] {
        var result: [ObjectInfo] = []
        for text in urls {
            let url = try ObjectURL(parsing: text)
            let (store, key) = try store(for: url)
            var isDirectory = url.looksLikeDirectory
            if case .local(let path) = url {
                var flag: ObjCBool = false
                guard FileManager.default.fileExists(atPath: path, isDirectory: &flag) else {
                    throw ObjectStoreError(.notFound, operation: "open", object: path, message: "no such file or directory")
                }
                isDirectory = flag.boolValue
            }
            if !isDirectory {
                do {
                    result.append(try store.info(key: key))
                    continue
                } catch let error as ObjectStoreError where error.kind == .notFound && error.code != "NoSuchBucket" {
                    if case .local = url { throw error }
                }
            }
            let objects = try store.list(prefix: key, recursive: false).objects.filter { $0.key.hasSuffix(suffix) }
            guard !objects.isEmpty else {
                throw ObjectStoreError(.notFound, operation: "list", object: text, message: "no \(suffix) files there")
            }
            result += objects
        }
        return result
    }

    /// A byte-range source for a file or object (`size`/`etag` from a listing save a request).
    public func openSource(_ info: ObjectInfo) throws -> any ByteRangeSource {
        let (store, key) = try store(for: info.url)
        return try store.openSource(key: key, size: info.size, etag: info.etag)
    }

    public func openSource(_ url: String) throws -> any ByteRangeSource {
        let (store, key) = try store(for: url)
        return try store.openSource(key: key, size: nil, etag: nil)
    }

    /// A writer that publishes `url` atomically on `close()`.
    public func writer(_ url: String) throws -> any ObjectWriter {
        let (store, key) = try store(for: url)
        return try store.writer(key: key)
    }

    /// Removes the temporaries that killed writers left in the local directory `url` and below it, and
    /// returns their paths: those of processes of this host that no longer exist, and those of other hosts
    /// (or without an owner in their name) last written more than `age` seconds ago. Temporaries of live
    /// writers (other shards writing to the same folder) are kept. S3 has none (an unfinished multipart
    /// upload is never visible), so an S3 URL removes nothing.
    @discardableResult
    public func removeAbandonedTemporaries(under url: String, olderThan age: TimeInterval = LocalTemporaries.defaultAbandonAge) throws -> [String] {
        guard case .local(let path) = try ObjectURL(parsing: url) else { return [] }
        return try LocalTemporaries.removeAbandoned(in: path, recursive: true, olderThan: age)
    }

    /// Whether `name` (a file name or a path) is the temporary of a local write in progress or abandoned.
    public static func isTemporaryName(_ name: String) -> Bool { LocalTemporaries.isTemporaryName(name) }

    public func exists(_ url: String) throws -> Bool {
        let (store, key) = try store(for: url)
        return try store.exists(key: key)
    }

    /// Requests, retries and bytes of the S3 client so far (zero when S3 was not used).
    public var stats: ObjectStoreStats {
        client.withLockedValue { $0?.stats ?? ObjectStoreStats() }
    }

    public func shutdown() {
        let existing = client.withLockedValue { $0 }
        existing?.shutdown()
    }
}
