import Foundation
import ByteIO

/// Copies objects between any two places `ObjectStorage` knows (local ↔ S3, S3 ↔ S3, local ↔ local),
/// streaming: reads run ahead in parallel ranged GETs, writes go out as multipart parts, and each
/// destination appears only when complete.
public struct ObjectCopy {
    public let storage: ObjectStorage
    /// Bytes read per step; the S3 reader keeps up to `window` bytes in flight ahead of the writer.
    public var chunkSize = 8 << 20
    public var window = 64 << 20

    public init(storage: ObjectStorage) { self.storage = storage }

    public struct Report: Sendable {
        public var objects = 0
        public var bytes: Int64 = 0
        public var seconds = 0.0
    }

    /// Copies `source` to `destination`. A source that is a directory or prefix (`dir/`, `s3://b/p/`)
    /// copies every object under it, recursively, to the same relative keys under `destination`;
    /// `destination` ending in `/` (or an existing local directory) receives a single file under its name.
    public func copy(_ source: String, to destination: String, recursive: Bool = false,
                     progress: (ObjectInfo, String) -> Void = { _, _ in }) throws -> Report {
        let start = Date()
        var report = Report()
        let sourceURL = try ObjectURL(parsing: source)
        let destinationURL = try ObjectURL(parsing: destination)
        let (sourceStore, sourceKey) = try storage.store(for: sourceURL)

        var pairs: [(ObjectInfo, ObjectURL)] = []
        if recursive {
            let objects = try sourceStore.list(prefix: sourceKey, recursive: true).objects
            guard !objects.isEmpty else {
                throw ObjectStoreError(.notFound, operation: "copy", object: source, message: "nothing to copy there")
            }
            var base = sourceKey
            if !base.isEmpty, !base.hasSuffix("/") { base += "/" }
            // Every key is checked before anything is copied: one hostile key refuses the whole copy.
            var sources: [String: String] = [:]  // target → the key copied there
            for object in objects {
                let relative = try ObjectKeyPath.relativePath(of: object.key, below: base, destination: destination)
                let target = try Self.target(destinationURL, relative, key: object.key, destination: destination)
                if let other = sources.updateValue(object.key, forKey: target.description) {
                    guard other == object.key else {
                        throw ObjectStoreError(.invalidArgument, operation: "copy", object: object.key,
                                               message: "this key and '\(other)' would both be copied to \(target); nothing was copied")
                    }
                    continue  // the same key listed twice
                }
                pairs.append((object, target))
            }
        } else {
            let info = try sourceStore.info(key: sourceKey)
            var target = destinationURL
            var isDirectory: ObjCBool = false
            let intoDirectory: Bool
            if destinationURL.looksLikeDirectory {
                intoDirectory = true
            } else if case .local(let path) = destinationURL {
                intoDirectory = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
            } else {
                intoDirectory = false
            }
            if intoDirectory {
                let name = try ObjectKeyPath.checkedRelativePath(sourceURL.lastComponent, key: source, destination: destination)
                target = try Self.target(destinationURL, name, key: source, destination: destination)
            }
            pairs.append((info, target))
        }

        for (object, target) in pairs {
            progress(object, target.description)
            report.bytes += try copyOne(object, to: target)
            report.objects += 1
        }
        report.seconds = Date().timeIntervalSince(start)
        return report
    }

    /// `destination` + `relative` (already checked segment by segment); for a local destination, also
    /// normalised and compared, so that a path that still got out is refused rather than written.
    private static func target(_ destinationURL: ObjectURL, _ relative: String, key: String, destination: String) throws -> ObjectURL {
        let target = destinationURL.appending(relative)
        guard case .local(let root) = destinationURL, case .local(let path) = target else { return target }
        var rootPath = URL(fileURLWithPath: root).standardized.path
        if !rootPath.hasSuffix("/") { rootPath += "/" }
        let normalised = URL(fileURLWithPath: path).standardized.path
        guard normalised.utf8.starts(with: rootPath.utf8), normalised.utf8.count > rootPath.utf8.count else {
            throw ObjectStoreError(.invalidArgument, operation: "copy", object: key,
                                   message: "the key cannot be copied under \(destination): it resolves to \(normalised), outside it")
        }
        return target
    }

    private func copyOne(_ object: ObjectInfo, to target: ObjectURL) throws -> Int64 {
        let source = try storage.openSource(object)
        let (store, key) = try storage.store(for: target)
        let writer = try store.writer(key: key)
        let prefetching = source as? any PrefetchingByteRangeSource
        let size = try source.size()
        var offset: Int64 = 0
        do {
            while offset < size {
                prefetching?.prefetch([offset..<min(size, offset + Int64(window))])
                let count = Int(min(Int64(chunkSize), size - offset))
                let bytes = try source.read(offset: offset, count: count)
                try writer.write(bytes)
                offset += Int64(count)
            }
            try writer.close()
        } catch {
            writer.abort()
            throw error
        }
        return size
    }
}
