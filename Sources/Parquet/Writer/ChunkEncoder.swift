/// Encodes one leaf column of one row group as an optional dictionary page and data pages (v1) that break
/// at row boundaries.
struct ChunkEncoder {
    let writer: ParquetFileWriter
    let descriptor: ColumnDescriptor
    let data: ColumnWriteData
    let useDictionary: Bool
    let dictionaryLimit: Int

    func write(rows: Int) throws -> ColumnChunk {
        let entries = try validate(rows: rows)
        let start = writer.currentOffset
        var stored = 0, uncompressed = 0
        var dictionaryOffset: Int64?
        var encodings: [Encoding] = [.rle]
        var indices: [UInt32]?
        var indexWidth = 0

        // No values (zero rows, or every entry null): no dictionary, whose index width would be undefined.
        if useDictionary, descriptor.physicalType != .boolean, data.values.count > 0,
           let (dictionary, map) = DictionaryBuilder.build(data.values),
           dictionary.plainSize <= dictionaryLimit {
            dictionaryOffset = start
            var header = PageHeader()
            header.type = .dictionaryPage
            var dictHeader = DictionaryPageHeader()
            dictHeader.numValues = Int32(dictionary.values.count)
            dictHeader.encoding = .plain
            header.dictionaryPageHeader = dictHeader
            let sizes = try writer.writePage(header, body: PlainEncoding.encode(dictionary.values))
            stored += sizes.stored
            uncompressed += sizes.uncompressed
            indices = map
            indexWidth = max(1, levelBitWidth(dictionary.values.count - 1))
            encodings += [.plain, .rleDictionary]
        } else {
            encodings.append(.plain)
        }

        let dataOffset = writer.currentOffset
        let maxDef = descriptor.maxDefinitionLevel, maxRep = descriptor.maxRepetitionLevel
        var valueStart = 0
        for pageEntries in pageRanges(entries: entries) {
            let definition = data.definitionLevels.map { Array($0[pageEntries]) }
            let repetition = data.repetitionLevels.map { Array($0[pageEntries]) }
            let valueCount = definition.map { levels in levels.reduce(0) { $0 + ($1 == Int16(maxDef) ? 1 : 0) } } ?? pageEntries.count
            let valueRange = valueStart..<valueStart + valueCount
            valueStart += valueCount
            let valueBytes: [UInt8]
            var header = DataPageHeader()
            header.numValues = Int32(pageEntries.count)
            if let indices {
                var encoder = RLEHybridEncoder(bitWidth: indexWidth)
                for index in indices[valueRange] { encoder.append(index) }
                valueBytes = [UInt8(indexWidth)] + encoder.finish()
                header.encoding = .rleDictionary
            } else {
                valueBytes = PlainEncoding.encode(data.values.slice(valueRange))
                header.encoding = .plain
            }
            var page = PageHeader()
            page.type = .dataPage
            page.dataPageHeader = header
            let body = ParquetFileWriter.dataPageBody(
                repetition: maxRep > 0 ? repetition.map { Self.encodeLevels($0, maxLevel: maxRep) } : nil,
                definition: maxDef > 0 ? definition.map { Self.encodeLevels($0, maxLevel: maxDef) } : nil,
                values: valueBytes)
            let sizes = try writer.writePage(page, body: body)
            stored += sizes.stored
            uncompressed += sizes.uncompressed
        }
        return writer.columnChunk(descriptor, start: start, dictionaryOffset: dictionaryOffset, dataOffset: dataOffset,
                                  values: entries, encodings: encodings, stored: stored, uncompressed: uncompressed)
    }

    /// Checks the levels against the schema and each other; returns the entry count.
    private func validate(rows: Int) throws -> Int {
        let maxDef = descriptor.maxDefinitionLevel, maxRep = descriptor.maxRepetitionLevel
        guard (data.definitionLevels != nil) == (maxDef > 0), (data.repetitionLevels != nil) == (maxRep > 0) else {
            throw ParquetError(.invalidArgument, "levels given do not match the column (max definition \(maxDef), max repetition \(maxRep))")
        }
        let entries = data.definitionLevels?.count ?? data.repetitionLevels?.count ?? data.values.count
        if let repetition = data.repetitionLevels {
            guard repetition.count == entries else { throw ParquetError(.invalidArgument, "\(repetition.count) repetition levels for \(entries) entries") }
            guard repetition.allSatisfy({ $0 >= 0 && Int($0) <= maxRep }) else { throw ParquetError(.invalidArgument, "a repetition level exceeds \(maxRep)") }
            let starts = repetition.reduce(0) { $0 + ($1 == 0 ? 1 : 0) }
            guard starts == rows, entries == 0 || repetition[0] == 0 else {
                throw ParquetError(.invalidArgument, "repetition levels describe \(starts) rows, expected \(rows)")
            }
        } else {
            guard entries == rows else { throw ParquetError(.invalidArgument, "\(entries) entries for \(rows) rows") }
        }
        if let definition = data.definitionLevels {
            guard definition.allSatisfy({ $0 >= 0 && Int($0) <= maxDef }) else { throw ParquetError(.invalidArgument, "a definition level exceeds \(maxDef)") }
            let present = definition.reduce(0) { $0 + ($1 == Int16(maxDef) ? 1 : 0) }
            guard present == data.values.count else {
                throw ParquetError(.invalidArgument, "definition levels promise \(present) values, \(data.values.count) given")
            }
        }
        guard data.values == .empty(descriptor.physicalType) || ColumnValues.empty(descriptor.physicalType).sameType(as: data.values) else {
            throw ParquetError(.invalidArgument, "values are not of the column's physical type \(descriptor.physicalType)")
        }
        if descriptor.physicalType == .fixedLenByteArray, case let .fixedLenByteArray(values) = data.values {
            for i in 0..<values.count where values.offsets[i + 1] - values.offsets[i] != descriptor.typeLength {
                throw ParquetError(.invalidArgument, "value \(i) is not \(descriptor.typeLength) bytes long")
            }
        }
        return entries
    }

    /// Entry ranges of about `pageSize` bytes of values each, cut at row starts.
    private func pageRanges(entries: Int) -> [Range<Int>] {
        guard entries > 0 else { return [0..<0] }
        let bytesPerEntry = max(1, PlainEncoding.estimatedSize(data.values) / max(1, entries))
        let target = max(1, writer.pageSize / bytesPerEntry)
        var ranges: [Range<Int>] = []
        var start = 0
        while start < entries {
            var end = min(entries, start + target)
            if let repetition = data.repetitionLevels {
                while end < entries && repetition[end] != 0 { end += 1 }
            }
            ranges.append(start..<end)
            start = end
        }
        return ranges
    }

    static func encodeLevels(_ levels: [Int16], maxLevel: Int) -> [UInt8] {
        var encoder = RLEHybridEncoder(bitWidth: levelBitWidth(maxLevel))
        var i = 0
        while i < levels.count {
            var j = i + 1
            while j < levels.count && levels[j] == levels[i] { j += 1 }
            encoder.append(UInt32(levels[i]), count: j - i)
            i = j
        }
        return encoder.finish()
    }
}

extension ColumnValues {
    func sameType(as other: ColumnValues) -> Bool {
        switch (self, other) {
        case (.boolean, .boolean), (.int32, .int32), (.int64, .int64), (.int96, .int96), (.float, .float),
             (.double, .double), (.byteArray, .byteArray), (.fixedLenByteArray, .fixedLenByteArray): true
        default: false
        }
    }

    func slice(_ range: Range<Int>) -> ColumnValues {
        switch self {
        case let .boolean(v): .boolean(Array(v[range]))
        case let .int32(v): .int32(Array(v[range]))
        case let .int64(v): .int64(Array(v[range]))
        case let .float(v): .float(Array(v[range]))
        case let .double(v): .double(Array(v[range]))
        case let .int96(v): .int96(v.slice(range))
        case let .byteArray(v): .byteArray(v.slice(range))
        case let .fixedLenByteArray(v): .fixedLenByteArray(v.slice(range))
        }
    }
}

extension BinaryValues {
    func slice(_ range: Range<Int>) -> BinaryValues {
        var result = BinaryValues()
        let base = offsets[range.lowerBound]
        result.bytes = Array(bytes[base..<offsets[range.upperBound]])
        result.offsets = offsets[range.lowerBound...range.upperBound].map { $0 - base }
        return result
    }
}

/// PLAIN encoding of whole value arrays.
enum PlainEncoding {
    static func encode(_ values: ColumnValues) -> [UInt8] {
        switch values {
        case let .boolean(v): PlainEncoder.booleans(v)
        case let .int32(v): PlainEncoder.fixedWidth(v)
        case let .int64(v): PlainEncoder.fixedWidth(v)
        case let .float(v): PlainEncoder.fixedWidth(v.map(\.bitPattern))
        case let .double(v): PlainEncoder.fixedWidth(v.map(\.bitPattern))
        case let .int96(v), let .fixedLenByteArray(v): PlainEncoder.fixedLenByteArrays(v)
        case let .byteArray(v): PlainEncoder.byteArrays(v)
        }
    }

    static func estimatedSize(_ values: ColumnValues) -> Int {
        switch values {
        case let .boolean(v): (v.count + 7) / 8
        case let .int32(v): v.count * 4
        case let .float(v): v.count * 4
        case let .int64(v): v.count * 8
        case let .double(v): v.count * 8
        case let .int96(v), let .fixedLenByteArray(v): v.bytes.count
        case let .byteArray(v): v.bytes.count + 4 * v.count
        }
    }
}

/// Builds a dictionary (distinct values in first-seen order) and each value's index.
enum DictionaryBuilder {
    struct Dictionary {
        let values: ColumnValues
        var plainSize: Int { PlainEncoding.estimatedSize(values) }
    }

    static func build(_ values: ColumnValues) -> (Dictionary, [UInt32])? {
        switch values {
        case .boolean: return nil
        case let .int32(v): return distinct(v).map { (Dictionary(values: .int32($0.0)), $0.1) }
        case let .int64(v): return distinct(v).map { (Dictionary(values: .int64($0.0)), $0.1) }
        case let .float(v):
            return distinct(v.map(\.bitPattern)).map { (Dictionary(values: .float($0.0.map(Float.init(bitPattern:)))), $0.1) }
        case let .double(v):
            return distinct(v.map(\.bitPattern)).map { (Dictionary(values: .double($0.0.map(Double.init(bitPattern:)))), $0.1) }
        case let .int96(v): return distinctBinary(v).map { (Dictionary(values: .int96($0.0)), $0.1) }
        case let .byteArray(v): return distinctBinary(v).map { (Dictionary(values: .byteArray($0.0)), $0.1) }
        case let .fixedLenByteArray(v): return distinctBinary(v).map { (Dictionary(values: .fixedLenByteArray($0.0)), $0.1) }
        }
    }

    private static func distinct<T: Hashable>(_ values: [T]) -> ([T], [UInt32])? {
        var seen: [T: UInt32] = [:]
        var order: [T] = []
        var indices: [UInt32] = []
        indices.reserveCapacity(values.count)
        for value in values {
            if let index = seen[value] {
                indices.append(index)
            } else {
                let index = UInt32(order.count)
                seen[value] = index
                order.append(value)
                indices.append(index)
            }
        }
        return (order, indices)
    }

    private static func distinctBinary(_ values: BinaryValues) -> (BinaryValues, [UInt32])? {
        var seen: [ArraySlice<UInt8>: UInt32] = [:]
        var order = BinaryValues()
        var indices: [UInt32] = []
        indices.reserveCapacity(values.count)
        for i in 0..<values.count {
            let value = values[i]
            if let index = seen[value] {
                indices.append(index)
            } else {
                let index = UInt32(order.count)
                seen[value] = index
                value.withUnsafeBytes { order.append($0) }
                indices.append(index)
            }
        }
        return (order, indices)
    }
}
