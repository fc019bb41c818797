import Foundation
import Imaging
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
            do {
                // Size-checked before it is read: a file over the limit is an error row, not an allocation.
                let bytes = try ImageFile.read(path, limits: ImageLimits(maxEncodedBytes: maxFileBytes))
                bytes.withUnsafeBytes { values.append($0) }
                valid.append(true)
            } catch {
                values.append(UnsafeRawBufferPointer(start: nil, count: 0))
                valid.append(false)
                problems[i] = "\(error)"
            }
        }
        defer { next = range.upperBound }
        return RecordChunk(unit: unitIndex, displayName: displayName, firstRow: range.lowerBound, rowCount: range.count,
                           ids: paths[range].map { ($0 as NSString).lastPathComponent }, valid: valid,
                           problems: problems, payloads: .encoded(values))
    }
}

/// Opens the record source of a unit.
func openSource(_ unit: InputUnit, index: Int, configuration: RunConfiguration, storage: ObjectStorage,
                maxChunkBytes: Int, modelInput: [Int]? = nil) throws -> any RecordSource {
    switch unit.kind {
    case let .parquet(path):
        var tensorOptions = configuration.tensorInput
        tensorOptions.modelInput = tensorOptions.modelInput ?? modelInput
        return try ParquetRecordSource(source: try storage.openSource(path), unitIndex: index, imageColumn: configuration.imageColumn,
                                       idColumn: configuration.idColumn, maxChunkBytes: maxChunkBytes, tensorOptions: tensorOptions)
    case let .images(paths):
        return ImageFilesSource(paths: paths, unitIndex: index, displayName: unit.displayName, maxFileBytes: maxChunkBytes)
    }
}
