import Foundation
import ObjectStore
import Parquet

/// One unit of input: a Parquet file (or a group of image files), producing exactly one output part.
public struct InputUnit: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case parquet(path: String)
        case images(paths: [String])
    }

    public var kind: Kind
    /// Name of the output part (unique within the job).
    public var partName: String
    /// Name used in error rows and default ids.
    public var displayName: String
    /// Bytes of input (for the report).
    public var bytes: Int64 = 0
}

public enum InputDiscovery {
    static let imageExtensions: Set<String> = ["jpg", "jpeg", "png"]

    /// Expands the inputs: a Parquet file; a directory of Parquet files (name order); a directory of
    /// JPEG/PNG files, grouped `imagesPerUnit` at a time.
    /// `s3://bucket/prefix/` inputs are listed through `storage` (their Parquet objects, in key order).
    public static func units(_ inputs: [String], storage: ObjectStorage, imagesPerUnit: Int = 1000) throws -> [InputUnit] {
        var units: [InputUnit] = []
        for input in inputs {
            if ObjectURL.isRemote(input) {
                units += try storage.expand([input], suffix: ".parquet").map { object in
                    var unit = parquetUnit(object.url)
                    unit.bytes = object.size
                    return unit
                }
                continue
            }
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: input, isDirectory: &isDirectory) else {
                throw PipelineError.input("\(input): no such file or directory")
            }
            if !isDirectory.boolValue {
                units.append(parquetUnit(input, bytes: fileSize(input)))
                continue
            }
            let names = try FileManager.default.contentsOfDirectory(atPath: input).sorted()
                .filter { !$0.hasPrefix(".") && !$0.hasPrefix("_") }
            let parquet = names.filter { $0.hasSuffix(".parquet") }
            let images = names.filter { imageExtensions.contains(($0 as NSString).pathExtension.lowercased()) }
            units += parquet.map { name in
                let path = (input as NSString).appendingPathComponent(name)
                return parquetUnit(path, bytes: fileSize(path))
            }
            for start in stride(from: 0, to: images.count, by: imagesPerUnit) {
                let group = images[start..<min(images.count, start + imagesPerUnit)]
                let name = "images-\(String(start / imagesPerUnit).leftPadded(to: 5))"
                let paths = group.map { (input as NSString).appendingPathComponent($0) }
                units.append(InputUnit(kind: .images(paths: paths), partName: name, displayName: (input as NSString).appendingPathComponent(name),
                                       bytes: paths.reduce(0) { $0 + fileSize($1) }))
            }
            if parquet.isEmpty && images.isEmpty {
                throw PipelineError.input("\(input): no .parquet, .jpg or .png files in this directory")
            }
        }
        var seen = Set<String>()
        for unit in units where !seen.insert(unit.partName).inserted {
            throw PipelineError.input("two inputs would write the same output part '\(unit.partName)' (same file name in different directories)")
        }
        return units
    }

    private static func parquetUnit(_ path: String, bytes: Int64 = 0) -> InputUnit {
        let name = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        return InputUnit(kind: .parquet(path: path), partName: name, displayName: path, bytes: bytes)
    }

    /// The size of the file `path` names, through symbolic links (FileManager's attributes describe the link).
    private static func fileSize(_ path: String) -> Int64 {
        var info = stat()
        return stat(path, &info) == 0 ? Int64(info.st_size) : 0
    }

    /// The units of shard `index` of `count` (deterministic: every count-th unit in name order).
    public static func shard(_ units: [InputUnit], index: Int, count: Int) -> [InputUnit] {
        units.enumerated().filter { $0.offset % count == index }.map(\.element)
    }
}

public enum PipelineError: Error, CustomStringConvertible, Sendable {
    case input(String)
    case configuration(String)
    case record(file: String, row: Int, reason: String)
    case output(String)
    /// The model failed: fatal, the job stops.
    case inference(String)

    /// A unit whose pages hold another number of rows than its footer declares.
    static func rowCountMismatch(_ name: String, declared: Int, read: Int) -> PipelineError {
        .input("\(name): the file declares \(declared) rows but \(read) were read")
    }

    public var description: String {
        switch self {
        case let .input(message): "input: \(message)"
        case let .configuration(message): "configuration: \(message)"
        case let .record(file, row, reason): "\(file), row \(row): \(reason)"
        case let .output(message): "output: \(message)"
        case let .inference(message): "inference failed: \(message)"
        }
    }
}
