import Foundation

extension ObjectStorage {
    /// Deletes the file or object `url`; deleting what does not exist is not an error.
    public func delete(_ url: String) throws {
        let (store, key) = try store(for: url)
        try store.delete(key: key)
    }

    /// Writes the file or object `url` unless it exists; true when this call created it (one winner of a race).
    public func putIfAbsent(_ url: String, bytes: [UInt8]) throws -> Bool {
        let (store, key) = try store(for: url)
        return try store.putIfAbsent(key: key, bytes: bytes)
    }

    /// The names of the files or objects directly under the directory or prefix `url` (no hidden ones);
    /// empty when it does not exist yet.
    public func names(under url: String) throws -> Set<String> {
        let (store, key) = try store(for: url)
        let prefix = key.isEmpty || key.hasSuffix("/") ? key : key + "/"
        do {
            return Set(try store.list(prefix: prefix, recursive: false).objects.map { ($0.key as NSString).lastPathComponent })
        } catch let error as ObjectStoreError where error.kind == .notFound && error.code != "NoSuchBucket" {
            return []
        }
    }
}

extension ObjectStorage {
    /// Deletes everything under the directory or prefix `url` (a scratch area), and a local directory itself.
    public func removeTree(_ url: String) throws {
        let parsed = try ObjectURL(parsing: url)
        if case .local(let path) = parsed {
            guard FileManager.default.fileExists(atPath: path) else { return }
            do {
                try FileManager.default.removeItem(atPath: path)
            } catch {
                throw ObjectStoreError(.io, operation: "delete", object: path, message: error.localizedDescription)
            }
            return
        }
        let (store, key) = try store(for: parsed)
        let prefix = key.isEmpty || key.hasSuffix("/") ? key : key + "/"
        for object in try store.list(prefix: prefix, recursive: true).objects { try store.delete(key: object.key) }
    }
}
