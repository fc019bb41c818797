import Foundation
import Parquet

/// Every record of one Parquet file (a request body in memory, for `sluice serve`), in row order, read by
/// the same reader as `sluice run`: the image column found or named the same way, the same checks.
public enum ParquetRecords {
    public static func read(_ source: any ByteRangeSource, imageColumn: String? = nil, idColumn: String? = nil,
                            maxChunkBytes: Int) throws -> [RecordChunk] {
        let records = try ParquetRecordSource(source: source, unitIndex: 0, imageColumn: imageColumn, idColumn: idColumn,
                                              maxChunkBytes: maxChunkBytes)
        var chunks: [RecordChunk] = []
        while let chunk = try records.next(targetRows: 64) { chunks.append(chunk) }
        guard records.rowsRead == records.declaredRows else {
            throw PipelineError.rowCountMismatch(source.name, declared: records.declaredRows, read: records.rowsRead)
        }
        return chunks
    }
}
