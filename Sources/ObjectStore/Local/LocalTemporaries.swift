import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The temporaries of local atomic writes, named after their owner so that a clean-up can tell an abandoned
/// one (its process is gone) from one a live process is still writing (another shard writing into the same
/// folder): `.<file name>.sluice-tmp-<pid>@<host>-<random>`, next to the target.
public enum LocalTemporaries {
    static let marker = ".sluice-tmp-"
    /// Temporaries whose owner cannot be checked (another host, or a name from an older Sluice) are removed
    /// only when their last write is older than this.
    public static let defaultAbandonAge: TimeInterval = 24 * 3600

    /// Whether `name` (a file name or a path) is a temporary of `LocalObjectWriter`, of any owner.
    public static func isTemporaryName(_ name: String) -> Bool {
        let fileName = name.split(separator: "/", omittingEmptySubsequences: false).last.map(String.init) ?? name
        return fileName.hasPrefix(".") && fileName.contains(marker)
    }

    /// The name of a new temporary for the file called `fileName`.
    static func temporaryName(for fileName: String) -> String {
        // The target's name is only a hint for people listing the folder: it is shortened so that the
        // temporary's name stays within NAME_MAX (255 bytes) whenever the target's is.
        let hint = prefix(ofUTF8: fileName, maxBytes: 100)
        let random = String(UInt64.random(in: 0...UInt64.max), radix: 16)
        return ".\(hint)\(marker)\(getpid())@\(currentHost)-\(random)"
    }

    struct Owner: Equatable {
        var pid: Int32
        var host: String
    }

    /// The owner written into a temporary's name; nil when the name has none (another program's file, or
    /// an older Sluice's `...sluice-tmp-<pid>-<random>`).
    static func owner(ofTemporaryName name: String) -> Owner? {
        guard isTemporaryName(name), let markerRange = name.range(of: marker, options: .backwards) else { return nil }
        let tail = name[markerRange.upperBound...]
        guard let at = tail.firstIndex(of: "@"), let dash = tail.lastIndex(of: "-"), at < dash,
              let pid = Int32(tail[..<at]), pid > 0 else { return nil }
        let host = String(tail[tail.index(after: at)..<dash])
        guard !host.isEmpty, !tail[tail.index(after: dash)...].isEmpty else { return nil }
        return Owner(pid: pid, host: host)
    }

    /// Whether the temporary `name`, last written at `modified`, has an owner that is gone: a process of
    /// this host that no longer exists; or, when that cannot be checked, a last write older than `age`.
    static func isAbandoned(_ name: String, modified: Date, now: Date, age: TimeInterval) -> Bool {
        if let owner = owner(ofTemporaryName: name), owner.host == currentHost {
            return !processExists(owner.pid)
        }
        return now.timeIntervalSince(modified) > age
    }

    /// Removes the abandoned temporaries in `directory` (and, with `recursive`, below it; symbolic links are
    /// not followed) and returns their paths. Temporaries of live processes are left alone. A directory that
    /// does not exist has none.
    @discardableResult
    public static func removeAbandoned(in directory: String, recursive: Bool = true, olderThan age: TimeInterval = defaultAbandonAge,
                                       now: Date = Date()) throws -> [String] {
        var removed: [String] = []
        var pending = [directory]
        while let current = pending.popLast() {
            let names: [String]
            do {
                names = try FileManager.default.contentsOfDirectory(atPath: current)
            } catch {
                if current == directory, !FileManager.default.fileExists(atPath: directory) { return [] }
                throw ObjectStoreError(.io, operation: "list", object: current, message: error.localizedDescription)
            }
            for name in names.sorted() {
                let path = (current as NSString).appendingPathComponent(name)
                var info = stat()
                guard lstat(path, &info) == 0 else { continue }  // removed meanwhile
                let type = info.st_mode & S_IFMT
                if type == S_IFDIR {
                    if recursive { pending.append(path) }
                    continue
                }
                guard type == S_IFREG, isTemporaryName(name) else { continue }
                #if canImport(Darwin)
                let modified = Date(timeIntervalSince1970: TimeInterval(info.st_mtimespec.tv_sec))
                #else
                let modified = Date(timeIntervalSince1970: TimeInterval(info.st_mtim.tv_sec))
                #endif
                guard isAbandoned(name, modified: modified, now: now, age: age) else { continue }
                guard unlink(path) == 0 || errno == ENOENT else {
                    throw ObjectStoreError(.io, operation: "remove abandoned temporary", object: path, message: String(cString: strerror(errno)))
                }
                removed.append(path)
            }
        }
        return removed.sorted()
    }

    /// This host's name as it goes into temporaries' names: only `[A-Za-z0-9._-]`, at most 64 bytes.
    static let currentHost: String = {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "unknown-host" }
        let raw = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let safe = String(raw.unicodeScalars.map { scalar -> Character in
            let allowed = scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || scalar == "." || scalar == "-" || scalar == "_")
            return allowed ? Character(scalar) : "_"
        }.prefix(64))
        return safe.isEmpty ? "unknown-host" : safe
    }()

    static func processExists(_ pid: Int32) -> Bool {
        // EPERM: it exists, owned by someone else.
        kill(pid, 0) == 0 || errno != ESRCH
    }

    private static func prefix(ofUTF8 text: String, maxBytes: Int) -> String {
        guard text.utf8.count > maxBytes else { return text }
        var result = ""
        var bytes = 0
        for scalar in text.unicodeScalars {
            let length = String(scalar).utf8.count
            guard bytes + length <= maxBytes else { break }
            bytes += length
            result.unicodeScalars.append(scalar)
        }
        return result
    }
}
