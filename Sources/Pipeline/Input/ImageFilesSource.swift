import Foundation
import ObjectStore
import Parquet

/// Something that yields the records of one input unit in chunks.
protocol RecordSource: AnyObject {
    /// The rows the input says it holds (a Parquet footer's count: hostile until read).
    var declaredRows: Int { get }
    /// The rows produced so far; once `next` returned nil, the unit's true row count.
    var rowsRead: Int { get }
    func next(targetRows: Int) throws -> RecordChunk?
}

extension ParquetRecordSource: RecordSource {}

/// A group of plain JPEG/PNG files: each file is one record, its name the id.
final class ImageFilesSource: RecordSource {
    let paths: [String]
    let unitIndex: Int
    let displayName: String
    /// Larger files are error rows, not read.
    let maxFileBytes: Int
    private var next = 0
    var declaredRows: Int { paths.count }
    var rowsRead: Int { next }

    init(paths: [String], unitIndex: Int, displayName: String, maxFileBytes: Int) {
        self.paths = paths
        self.displayName = displayName
        self.unitIndex = unitIndex
        self.maxFileBytes = maxFileBytes
    }

    func next(targetRows: Int) throws -> RecordChunk? {
        guard next < paths.count else { return nil }
        let range = next..<min(paths.count, next + targetRows)
        var values = BinaryValues()
        var valid: [Bool] = []
        var problems: [Int: String] = [:]
        for (i, path) in paths[range].enumerated() {
            switch Self.read(path, maxBytes: maxFileBytes) {
            case let .success(data):
                data.withUnsafeBytes { values.append($0) }
                valid.append(true)
            case let .failure(problem):
                values.append(UnsafeRawBufferPointer(start: nil, count: 0))
                valid.append(false)
                problems[i] = problem.description
            }
        }
        defer { next = range.upperBound }
        return RecordChunk(unit: unitIndex, displayName: displayName, firstRow: range.lowerBound, rowCount: range.count,
                           ids: paths[range].map { ($0 as NSString).lastPathComponent }, valid: valid,
                           problems: problems, payloads: .encoded(values))
    }
}

extension ImageFilesSource {
    struct Problem: Error, CustomStringConvertible {
        var description: String
    }

    /// The whole file, unless it is larger than `maxBytes` (checked before reading).
    static func read(_ path: String, maxBytes: Int) -> Result<Data, Problem> {
        var info = stat()
        guard stat(path, &info) == 0 else { return .failure(Problem(description: "cannot read the file: \(String(cString: strerror(errno)))")) }
        guard (info.st_mode & S_IFMT) == S_IFREG else { return .failure(Problem(description: "not a regular file")) }
        guard info.st_size <= maxBytes else {
            return .failure(Problem(description: "the file is \(info.st_size) bytes, more than the \(maxBytes) bytes --max-memory leaves for one image; raise --max-memory"))
        }
        guard let data = FileManager.default.contents(atPath: path), data.count <= maxBytes else {
            return .failure(Problem(description: "cannot read the file"))
        }
        return .success(data)
    }
}

/// Opens the record source of a unit.
func openSource(_ unit: InputUnit, index: Int, configuration: RunConfiguration, storage: ObjectStorage,
                maxChunkBytes: Int) throws -> any RecordSource {
    switch unit.kind {
    case let .parquet(path):
        return try ParquetRecordSource(source: try storage.openSource(path), unitIndex: index, imageColumn: configuration.imageColumn,
                                       idColumn: configuration.idColumn, maxChunkBytes: maxChunkBytes)
    case let .images(paths):
        return ImageFilesSource(paths: paths, unitIndex: index, displayName: unit.displayName, maxFileBytes: maxChunkBytes)
    }
}
