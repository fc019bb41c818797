import Foundation
import ByteIO

/// One object (or local file) and what a listing knows about it.
public struct ObjectInfo: Sendable, Equatable, CustomStringConvertible {
    /// `s3://bucket/key` or a local path: what `ObjectStorage` accepts back.
    public var url: String
    /// The key within its store (the path, for local files).
    public var key: String
    public var size: Int64
    public var etag: String?

    public init(url: String, key: String, size: Int64, etag: String? = nil) {
        self.url = url
        self.key = key
        self.size = size
        self.etag = etag
    }

    public var description: String { "\(url) (\(size) bytes)" }
}

/// Listing, ranged reads, whole-object reads and atomic writes of one namespace: a local file system or one
/// S3 bucket. Keys are paths for local files, object keys for S3. Every method blocks its thread (see
/// `S3Client` for the threading rules).
public protocol ObjectStore: Sendable {
    /// Objects whose key starts with `prefix`, in key order. With `recursive: false`, only those directly
    /// under it (the prefix is treated as a directory: `dir/`), plus the sub-directories in `directories`.
    func list(prefix: String, recursive: Bool) throws -> (objects: [ObjectInfo], directories: [String])
    /// Size and ETag; `.notFound` when there is no such object.
    func info(key: String) throws -> ObjectInfo
    /// A byte-range source for the Parquet reader. `size`/`etag` from a listing save a request.
    func openSource(key: String, size: Int64?, etag: String?) throws -> any ByteRangeSource
    func get(key: String) throws -> [UInt8]
    /// Writes the whole object atomically.
    func put(key: String, bytes: [UInt8]) throws
    /// Writes the whole object atomically unless one exists already; true when this call created it. Of
    /// many writers racing, exactly one gets true (S3's conditional `If-None-Match: *`, a local `link`).
    func putIfAbsent(key: String, bytes: [UInt8]) throws -> Bool
    /// A writer that commits atomically on `close()`.
    func writer(key: String) throws -> any ObjectWriter
    func delete(key: String) throws
    /// The URL of `key` in this store.
    func url(for key: String) -> String
}

extension ObjectStore {
    public func exists(key: String) throws -> Bool {
        do {
            _ = try info(key: key)
            return true
        } catch let error as ObjectStoreError where error.kind == .notFound {
            return false
        }
    }
}

/// One S3 bucket.
public struct S3BucketStore: ObjectStore {
    public let client: S3Client
    public let bucket: String

    public init(client: S3Client, bucket: String) {
        self.client = client
        self.bucket = bucket
    }

    public func url(for key: String) -> String { "s3://\(bucket)/\(key)" }

    public func list(prefix: String, recursive: Bool) throws -> (objects: [ObjectInfo], directories: [String]) {
        var directoryPrefix = prefix
        if !recursive, !directoryPrefix.isEmpty, !directoryPrefix.hasSuffix("/") { directoryPrefix += "/" }
        let listing = try client.listObjects(bucket: bucket, prefix: directoryPrefix, delimiter: recursive ? nil : "/")
        let objects = listing.objects.map { ObjectInfo(url: url(for: $0.key), key: $0.key, size: $0.size, etag: $0.etag) }
        return (objects, listing.commonPrefixes.map { url(for: $0) })
    }

    public func info(key: String) throws -> ObjectInfo {
        let head = try client.headObject(bucket: bucket, key: key)
        return ObjectInfo(url: url(for: key), key: key, size: head.size, etag: head.etag)
    }

    public func openSource(key: String, size: Int64?, etag: String?) throws -> any ByteRangeSource {
        try S3ObjectSource(client: client, bucket: bucket, key: key, size: size, etag: etag)
    }

    public func get(key: String) throws -> [UInt8] { try client.getObject(bucket: bucket, key: key) }

    public func put(key: String, bytes: [UInt8]) throws { try client.putObject(bucket: bucket, key: key, bytes: bytes) }

    public func putIfAbsent(key: String, bytes: [UInt8]) throws -> Bool {
        do {
            try client.putObject(bucket: bucket, key: key, bytes: bytes, ifNoneMatch: true)
            return true
        } catch let error as ObjectStoreError where error.httpStatus == 412 {
            return false
        }
    }

    public func writer(key: String) throws -> any ObjectWriter { S3ObjectWriter(client: client, bucket: bucket, key: key) }

    public func delete(key: String) throws { try client.deleteObject(bucket: bucket, key: key) }
}

/// The local file system; keys are paths.
public struct LocalFileStore: ObjectStore {
    public init() {}

    public func url(for key: String) -> String { key }

    public func list(prefix: String, recursive: Bool) throws -> (objects: [ObjectInfo], directories: [String]) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: prefix, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ObjectStoreError(.notFound, operation: "list", object: prefix, message: "no such directory")
        }
        var objects: [ObjectInfo] = []
        var directories: [String] = []
        // Symbolic links to directories are followed, but a directory is walked once: a link to an
        // ancestor must not make the walk go round until paths grow too long.
        var walked: Set<[UInt64]> = []
        func walk(_ directory: String) throws {
            var info = stat()
            if stat(directory, &info) == 0, !walked.insert([UInt64(info.st_dev), UInt64(info.st_ino)]).inserted { return }
            let names: [String]
            do {
                names = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
            } catch {
                throw ObjectStoreError(.io, operation: "list", object: directory, message: error.localizedDescription)
            }
            for name in names where !name.hasPrefix(".") {
                let path = (directory as NSString).appendingPathComponent(name)
                var childIsDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: path, isDirectory: &childIsDirectory) else { continue }
                if childIsDirectory.boolValue {
                    if recursive { try walk(path) } else { directories.append(path + "/") }
                } else {
                    let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value ?? 0
                    objects.append(ObjectInfo(url: path, key: path, size: size))
                }
            }
        }
        try walk(prefix)
        objects.sort { $0.key < $1.key }
        return (objects, directories)
    }

    public func info(key: String) throws -> ObjectInfo {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: key, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw ObjectStoreError(.notFound, operation: "stat", object: key, message: isDirectory.boolValue ? "a directory, not a file" : "no such file")
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: key)[.size] as? NSNumber)?.int64Value ?? 0
        return ObjectInfo(url: key, key: key, size: size)
    }

    public func openSource(key: String, size: Int64?, etag: String?) throws -> any ByteRangeSource {
        try LocalFileSource(path: key)
    }

    public func get(key: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: key) else {
            throw ObjectStoreError(FileManager.default.fileExists(atPath: key) ? .io : .notFound, operation: "read", object: key,
                                   message: "cannot read the file")
        }
        return [UInt8](data)
    }

    public func put(key: String, bytes: [UInt8]) throws {
        let writer = try LocalObjectWriter(path: key)
        try writer.write(bytes)
        try writer.close()
    }

    public func putIfAbsent(key: String, bytes: [UInt8]) throws -> Bool {
        try LocalObjectWriter.createIfAbsent(path: key, bytes: bytes)
    }

    public func writer(key: String) throws -> any ObjectWriter { try LocalObjectWriter(path: key) }

    public func delete(key: String) throws {
        guard unlink(key) == 0 || errno == ENOENT else {
            throw ObjectStoreError(.io, operation: "delete", object: key, message: String(cString: strerror(errno)))
        }
    }
}
