import Parquet

/// The byte ranges a Parquet read will touch, for `PrefetchingByteRangeSource.prefetch`: the pipeline
/// hints the column chunks of the next few row groups while it decodes the current one.
public enum ParquetPrefetch {
    /// Leaf column indices whose top-level field is one of `fields` (all leaves when `fields` is nil).
    public static func columns(_ reader: ParquetFileReader, fields: [String]?) -> [Int] {
        guard let fields else { return Array(reader.schema.columns.indices) }
        return reader.schema.columns.indices.filter { index in
            let path = reader.schema.columns[index].dottedPath
            return fields.contains { path == $0 || path.hasPrefix($0 + ".") }
        }
    }

    /// Column chunk ranges (dictionary page through last data page) of `columns` in `rowGroups`.
    public static func chunkRanges(_ metadata: FileMetaData, rowGroups: Range<Int>, columns: [Int]) -> [Range<Int64>] {
        var ranges: [Range<Int64>] = []
        for group in rowGroups where group >= 0 && group < metadata.rowGroups.count {
            let chunks = metadata.rowGroups[group].columns
            for column in columns where column >= 0 && column < chunks.count {
                guard let meta = chunks[column].metaData, meta.totalCompressedSize > 0 else { continue }
                var start = meta.dataPageOffset
                if let dictionary = meta.dictionaryPageOffset, dictionary > 0, dictionary < start { start = dictionary }
                guard start >= 0 else { continue }
                ranges.append(start..<(start + meta.totalCompressedSize))
            }
        }
        return ranges
    }

    /// Starts fetching `columns` of `rowGroups` when the reader's source can prefetch; does nothing otherwise.
    public static func prefetch(_ reader: ParquetFileReader, rowGroups: Range<Int>, columns: [Int]) {
        guard let source = reader.source as? any PrefetchingByteRangeSource else { return }
        source.prefetch(chunkRanges(reader.metadata, rowGroups: rowGroups, columns: columns))
    }
}
