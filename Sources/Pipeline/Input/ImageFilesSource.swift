import Foundation
import ObjectStore
import Parquet

/// Something that yields the records of one input unit in chunks.
protocol RecordSource: AnyObject {
    var rowCount: Int { get }
    func next(targetRows: Int) throws -> RecordChunk?
}

extension ParquetRecordSource: RecordSource {}

/// A group of plain JPEG/PNG files: each file is one record, its name the id.
final class ImageFilesSource: RecordSource {
    let paths: [String]
    let unitIndex: Int
    private var next = 0
    var rowCount: Int { paths.count }

    init(paths: [String], unitIndex: Int) {
        self.paths = paths
        self.unitIndex = unitIndex
    }

    func next(targetRows: Int) throws -> RecordChunk? {
        guard next < paths.count else { return nil }
        let range = next..<min(paths.count, next + targetRows)
        var values = BinaryValues()
        var valid: [Bool] = []
        var problems: [Int: String] = [:]
        for (i, path) in paths[range].enumerated() {
            if let data = FileManager.default.contents(atPath: path) {
                data.withUnsafeBytes { values.append($0) }
                valid.append(true)
            } else {
                values.append(UnsafeRawBufferPointer(start: nil, count: 0))
                valid.append(false)
                problems[i] = "cannot read the file"
            }
        }
        defer { next = range.upperBound }
        return RecordChunk(unit: unitIndex, firstRow: range.lowerBound, rowCount: range.count,
                           ids: paths[range].map { ($0 as NSString).lastPathComponent }, valid: valid,
                           problems: problems, payloads: .encoded(values))
    }
}

/// Opens the record source of a unit.
func openSource(_ unit: InputUnit, index: Int, configuration: RunConfiguration, storage: ObjectStorage) throws -> any RecordSource {
    switch unit.kind {
    case let .parquet(path):
        return try ParquetRecordSource(source: try storage.openSource(path), unitIndex: index,
                                       imageColumn: configuration.imageColumn, idColumn: configuration.idColumn)
    case let .images(paths):
        return ImageFilesSource(paths: paths, unitIndex: index)
    }
}
