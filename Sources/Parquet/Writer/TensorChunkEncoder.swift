/// Writes a tensor column chunk straight from row-major element bytes: the levels of non-null rows of a
/// fixed length are a known pattern, so no per-value level arrays are built. One-byte elements are
/// dictionary-encoded (as pyarrow does) with 8-bit indices written as bit-packed runs of plain bytes.
struct TensorChunkEncoder {
    let writer: ParquetFileWriter
    let descriptor: ColumnDescriptor
    let element: TensorElement
    let perRow: Int

    func write(_ bytes: UnsafeRawBufferPointer, rows: Int) throws -> ColumnChunk {
        let start = writer.currentOffset
        var stored = 0, uncompressed = 0
        let rowBytes = perRow * element.byteWidth
        let rowsPerPage = max(1, writer.pageSize / max(1, rowBytes))
        var dictionaryOffset: Int64?
        var indexTable: [UInt8]?
        var indexWidth = 8
        var encodings: [Encoding] = [.rle, .plain]

        if element.byteWidth == 1 {
            // Distinct byte values, ascending; each byte's index is its rank.
            var present = [Bool](repeating: false, count: 256)
            for byte in bytes { present[Int(byte)] = true }
            let distinct = (0..<256).filter { present[$0] }
            var table = [UInt8](repeating: 0, count: 256)
            for (rank, value) in distinct.enumerated() { table[value] = UInt8(rank) }
            let dictionary: [Int32] = distinct.map { element == .int8 ? Int32(Int8(truncatingIfNeeded: $0)) : Int32($0) }
            dictionaryOffset = start
            var header = PageHeader()
            header.type = .dictionaryPage
            var dictHeader = DictionaryPageHeader()
            dictHeader.numValues = Int32(dictionary.count)
            dictHeader.encoding = .plain
            header.dictionaryPageHeader = dictHeader
            let sizes = try writer.writePage(header, body: PlainEncoder.fixedWidth(dictionary))
            stored += sizes.stored
            uncompressed += sizes.uncompressed
            indexTable = table
            indexWidth = max(1, levelBitWidth(max(0, distinct.count - 1)))
            encodings.append(.rleDictionary)
        }

        let dataOffset = writer.currentOffset
        var row = 0
        while row < rows || (rows == 0 && row == 0) {
            let pageRows = min(rowsPerPage, rows - row)
            let values = pageRows * perRow
            let pageBytes = UnsafeRawBufferPointer(rebasing: bytes[(row * rowBytes)..<((row + pageRows) * rowBytes)])
            var header = DataPageHeader()
            header.numValues = Int32(values)
            let valueBytes: [UInt8]
            if let indexTable {
                header.encoding = .rleDictionary
                valueBytes = Self.dictionaryIndices(pageBytes, table: indexTable, bitWidth: indexWidth)
            } else {
                header.encoding = .plain
                valueBytes = try Self.plainValues(pageBytes, element: element)
            }
            var page = PageHeader()
            page.type = .dataPage
            page.dataPageHeader = header
            let body = ParquetFileWriter.dataPageBody(repetition: repetitionLevels(rows: pageRows),
                                                      definition: definitionLevels(values: values), values: valueBytes)
            let sizes = try writer.writePage(page, body: body)
            stored += sizes.stored
            uncompressed += sizes.uncompressed
            row += max(pageRows, 1)
        }
        return writer.columnChunk(descriptor, start: start, dictionaryOffset: dictionaryOffset, dataOffset: dataOffset,
                                  values: rows * perRow, encodings: encodings, stored: stored, uncompressed: uncompressed)
    }

    /// Each row: a 0 then `perRow - 1` ones.
    private func repetitionLevels(rows: Int) -> [UInt8] {
        var encoder = RLEHybridEncoder(bitWidth: 1)
        for _ in 0..<rows {
            encoder.append(0)
            if perRow > 1 { encoder.append(1, count: perRow - 1) }
        }
        return encoder.finish()
    }

    /// Every value present: one run of the maximum level.
    private func definitionLevels(values: Int) -> [UInt8] {
        var encoder = RLEHybridEncoder(bitWidth: levelBitWidth(descriptor.maxDefinitionLevel))
        if values > 0 { encoder.append(UInt32(descriptor.maxDefinitionLevel), count: values) }
        return encoder.finish()
    }

    /// The bit-width byte, then the indices: at width 8 one bit-packed run whose bytes are the indices.
    private static func dictionaryIndices(_ bytes: UnsafeRawBufferPointer, table: [UInt8], bitWidth: Int) -> [UInt8] {
        guard bitWidth == 8 else {
            var encoder = RLEHybridEncoder(bitWidth: bitWidth)
            for byte in bytes { encoder.append(UInt32(table[Int(byte)])) }
            return [UInt8(bitWidth)] + encoder.finish()
        }
        let groups = (bytes.count + 7) / 8
        var out: [UInt8] = [8]
        var header = UInt64(groups) << 1 | 1
        while header >= 0x80 {
            out.append(UInt8(header & 0x7F) | 0x80)
            header >>= 7
        }
        out.append(UInt8(header))
        let start = out.count
        out.append(contentsOf: repeatElement(0, count: groups * 8))
        out.withUnsafeMutableBufferPointer { buffer in
            table.withUnsafeBufferPointer { lookup in
                for (i, byte) in bytes.enumerated() { buffer[start + i] = lookup[Int(byte)] }
            }
        }
        return out
    }

    /// PLAIN values of the element's physical type (narrow integers widened to INT32).
    private static func plainValues(_ bytes: UnsafeRawBufferPointer, element: TensorElement) throws -> [UInt8] {
        switch element {
        case .uint8: return PlainEncoder.fixedWidth(bytes.map { Int32($0) })
        case .int8: return PlainEncoder.fixedWidth(bytes.map { Int32(Int8(bitPattern: $0)) })
        case .uint16: return PlainEncoder.fixedWidth(bytes.bindMemory(to: UInt16.self).map { Int32($0) })
        case .int16: return PlainEncoder.fixedWidth(bytes.bindMemory(to: Int16.self).map { Int32($0) })
        default: return Array(bytes)  // same width as the physical type, little-endian
        }
    }
}
