/// Reads the levels (not the values) of the first pages of a list column to learn how many values its
/// first rows hold: enough to infer a shape without decoding the column.
enum TensorRowLengthProbe {
    /// Value counts of the first complete non-null rows (at most `TensorShapeInference.probeRows`), from the
    /// first row group that has rows.
    static func firstRowLengths(file: ParquetFileReader, column name: String, options: ReadOptions) throws -> [Int] {
        guard let field = file.schema.field(named: name), field.leafRange.count == 1 else { return [] }
        let column = file.schema.columns[field.leafRange.lowerBound]
        guard let group = file.metadata.rowGroups.firstIndex(where: { $0.numRows > 0 }) else { return [] }
        return try withLocation(file.location(rowGroup: group, column: column)) {
            let (meta, start, length) = try file.chunkRange(rowGroup: group, column: column.index)
            let codec = try file.codec(of: meta)
            var pages = PageStream(source: file.source, start: start, length: length, limits: options.limits)
            let decoder = PageDecoder(verifyChecksums: options.verifyChecksums, limits: options.limits)
            let full = Int16(column.maxDefinitionLevel)
            var lengths: [Int] = []
            var current: Int?  // values of the row in progress; nil before the first row
            var currentValid = true
            var pagesRead = 0
            var valuesLeft = Int(meta.numValues)
            while lengths.count < TensorShapeInference.probeRows, pagesRead < TensorShapeInference.probePages,
                  valuesLeft > 0, !pages.isAtEnd {
                pagesRead += 1
                try pages.nextPage { header, stored in
                    guard header.type == .dataPage || header.type == .dataPageV2 else { return }
                    try decoder.withDataPage(header, stored, codec: codec, maxRepetition: column.maxRepetitionLevel,
                                             maxDefinition: column.maxDefinitionLevel) { page in
                        let count = page.numValues
                        guard count <= valuesLeft else {
                            throw ParquetError(.rowCountMismatch, "page claims \(count) values but the chunk has only \(valuesLeft) left")
                        }
                        try options.limits.checkPageEntries(count, bytesPerEntry: 4, what: "list levels")
                        valuesLeft -= count
                        var definition = [Int16](repeating: full, count: count)
                        var repetition = [Int16](repeating: 0, count: count)
                        if let section = page.definitionLevels {
                            try definition.withUnsafeMutableBufferPointer { try decodeLevels(section, maxLevel: column.maxDefinitionLevel, into: $0) }
                        }
                        if let section = page.repetitionLevels {
                            try repetition.withUnsafeMutableBufferPointer { try decodeLevels(section, maxLevel: column.maxRepetitionLevel, into: $0) }
                        }
                        for i in 0..<count {
                            if repetition[i] == 0 {
                                if let done = current, currentValid, done > 0 { lengths.append(done) }
                                current = 0
                                currentValid = true
                            }
                            if definition[i] == full { current = (current ?? 0) + 1 } else { currentValid = false }
                        }
                    }
                }
            }
            // The last row counts only when the chunk ended with it (it may continue on a page not read).
            if valuesLeft == 0, let done = current, currentValid, done > 0, lengths.count < TensorShapeInference.probeRows {
                lengths.append(done)
            }
            return lengths
        }
    }
}
