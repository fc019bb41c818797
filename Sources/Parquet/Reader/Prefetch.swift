/// Prefetch hints, issued by the reader: the byte ranges a read of some columns of some row groups will
/// touch, handed to a source that can fetch them ahead (`PrefetchingByteRangeSource`, e.g. S3) in few
/// large requests while earlier ones are decoded. A local file ignores them.
extension ParquetFileReader {
    /// Leaf column indices whose top-level field is one of `fields` (all leaves when `fields` is nil); a
    /// dotted name selects the leaves under that path. Linear in the number of columns.
    public func leafColumns(of fields: [String]?) -> [Int] {
        guard let fields else { return Array(schema.columns.indices) }
        let wanted = Set(fields)
        return schema.columns.indices.filter { index in
            var prefix = ""
            for (depth, name) in schema.columns[index].path.enumerated() {
                prefix = depth == 0 ? name : prefix + "." + name
                if wanted.contains(prefix) { return true }
            }
            return false
        }
    }

    /// Column chunk ranges (dictionary page through last data page) of `columns` in `rowGroups`; chunks
    /// whose offsets or sizes do not fit in the file are left out (reading them fails with a clear error).
    public func chunkRanges(rowGroups: Range<Int>, columns: [Int]) -> [Range<Int64>] {
        var ranges: [Range<Int64>] = []
        for group in rowGroups where group >= 0 && group < metadata.rowGroups.count {
            let chunks = metadata.rowGroups[group].columns
            for column in columns where column >= 0 && column < chunks.count {
                guard let meta = chunks[column].metaData, meta.totalCompressedSize > 0 else { continue }
                var start = meta.dataPageOffset
                if let dictionary = meta.dictionaryPageOffset, dictionary > 0, dictionary < start { start = dictionary }
                let (end, overflow) = start.addingReportingOverflow(meta.totalCompressedSize)
                guard start >= 0, !overflow else { continue }
                ranges.append(start..<end)
            }
        }
        return ranges
    }

    /// Starts fetching `columns` of `rowGroups` when the source can prefetch; does nothing otherwise.
    public func prefetch(rowGroups: Range<Int>, columns: [Int]) {
        guard let source = source as? any PrefetchingByteRangeSource else { return }
        source.prefetch(chunkRanges(rowGroups: rowGroups, columns: columns))
    }
}
