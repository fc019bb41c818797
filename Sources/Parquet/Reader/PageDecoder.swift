/// A data page split into its sections, after decompression. The buffers are views into the decoder's
/// scratch and are valid only inside the closure that receives them.
struct DataPageSections {
    let numValues: Int
    let encoding: Encoding
    let repetitionLevels: LevelSection?
    let definitionLevels: LevelSection?
    let values: UnsafeRawBufferPointer
}

struct LevelSection {
    let bytes: UnsafeRawBufferPointer
    let encoding: Encoding
}

/// Decompresses pages into reused scratch buffers and splits them into level and value sections.
/// One per reading thread.
final class PageDecoder {
    let decompressor = Decompressor()
    var verifyChecksums: Bool
    let limits: ReadLimits
    /// Uninitialised and grown only when a page needs more: a size a header declares costs no memory
    /// (no zero-fill) until the codec, which checks that size, writes it.
    private let scratch = WindowBuffer()

    init(verifyChecksums: Bool = false, limits: ReadLimits = .default) {
        self.verifyChecksums = verifyChecksums
        self.limits = limits
    }

    func checkCRC(_ header: PageHeader, _ stored: UnsafeRawBufferPointer) throws {
        guard verifyChecksums, let expected = header.crc else { return }
        let actual = crc32(stored)
        guard actual == UInt32(bitPattern: expected) else {
            throw ParquetError.corruptPage("page CRC mismatch: header says \(String(UInt32(bitPattern: expected), radix: 16)), data has \(String(actual, radix: 16))")
        }
    }

    /// Hands `body` the uncompressed contents of a dictionary page.
    func withDictionaryPage<T>(_ header: PageHeader, _ stored: UnsafeRawBufferPointer, codec: CompressionCodec,
                               _ body: (DictionaryPageHeader, UnsafeRawBufferPointer) throws -> T) throws -> T {
        guard let dictionary = header.dictionaryPageHeader else {
            throw ParquetError.corruptMetadata("dictionary page without a dictionary page header")
        }
        try checkCRC(header, stored)
        return try withDecompressed(stored, codec: codec, size: Int(header.uncompressedPageSize)) { try body(dictionary, $0) }
    }

    /// Hands `body` the sections of a v1 or v2 data page.
    func withDataPage<T>(_ header: PageHeader, _ stored: UnsafeRawBufferPointer, codec: CompressionCodec,
                         maxRepetition: Int, maxDefinition: Int,
                         _ body: (DataPageSections) throws -> T) throws -> T {
        try checkCRC(header, stored)
        if let v1 = header.dataPageHeader, header.type == .dataPage {
            return try withDecompressed(stored, codec: codec, size: Int(header.uncompressedPageSize)) { page in
                var rest = page
                let count = Int(v1.numValues)
                let repetition = maxRepetition > 0
                    ? try Self.takeV1Levels(&rest, v1.repetitionLevelEncoding, maxLevel: maxRepetition, count: count, what: "repetition")
                    : nil
                let definition = maxDefinition > 0
                    ? try Self.takeV1Levels(&rest, v1.definitionLevelEncoding, maxLevel: maxDefinition, count: count, what: "definition")
                    : nil
                return try body(DataPageSections(numValues: count, encoding: v1.encoding, repetitionLevels: repetition,
                                                  definitionLevels: definition, values: rest))
            }
        }
        if let v2 = header.dataPageHeaderV2, header.type == .dataPageV2 {
            let repLength = Int(v2.repetitionLevelsByteLength)
            let defLength = Int(v2.definitionLevelsByteLength)
            guard repLength + defLength <= stored.count, repLength + defLength <= Int(header.uncompressedPageSize) else {
                throw ParquetError.corruptPage("v2 page levels (\(repLength) + \(defLength) bytes) exceed the page (\(stored.count) bytes)")
            }
            let repetition = maxRepetition > 0
                ? LevelSection(bytes: UnsafeRawBufferPointer(rebasing: stored[0..<repLength]), encoding: .rle) : nil
            let definition = maxDefinition > 0
                ? LevelSection(bytes: UnsafeRawBufferPointer(rebasing: stored[repLength..<repLength + defLength]), encoding: .rle) : nil
            let storedValues = UnsafeRawBufferPointer(rebasing: stored[(repLength + defLength)...])
            let valuesSize = Int(header.uncompressedPageSize) - repLength - defLength
            let sections = { (values: UnsafeRawBufferPointer) in
                DataPageSections(numValues: Int(v2.numValues), encoding: v2.encoding, repetitionLevels: repetition,
                                 definitionLevels: definition, values: values)
            }
            // An empty values section (all nulls) may be zero bytes even for a compressed page.
            if !v2.isCompressed || codec == .uncompressed || (storedValues.isEmpty && valuesSize == 0) {
                guard storedValues.count == valuesSize else {
                    throw ParquetError.corruptPage("v2 page values are \(storedValues.count) bytes, header says \(valuesSize)")
                }
                return try body(sections(storedValues))
            }
            return try withDecompressed(storedValues, codec: codec, size: valuesSize) { try body(sections($0)) }
        }
        throw ParquetError.corruptMetadata("\(header.type) page without its \(header.type == .dataPage ? "data_page_header" : "data_page_header_v2")")
    }

    private func withDecompressed<T>(_ stored: UnsafeRawBufferPointer, codec: CompressionCodec, size: Int,
                                     _ body: (UnsafeRawBufferPointer) throws -> T) throws -> T {
        if codec == .uncompressed {
            guard stored.count == size else {
                throw ParquetError.corruptPage("uncompressed page is \(stored.count) bytes, header says \(size)")
            }
            return try body(stored)
        }
        try limits.checkPageSize(size, what: "uncompressed page")
        try Decompressor.checkPlausible(codec, stored, declared: size)
        let output = scratch.resize(size)
        try decompressor.decompress(codec, stored, into: output)
        return try body(UnsafeRawBufferPointer(output))
    }

    /// Splits the levels off the front of a v1 page: RLE levels carry a 4-byte length prefix,
    /// the deprecated BIT_PACKED levels take exactly ceil(count * bitWidth / 8) bytes.
    private static func takeV1Levels(_ rest: inout UnsafeRawBufferPointer, _ encoding: Encoding, maxLevel: Int,
                                     count: Int, what: String) throws -> LevelSection {
        switch encoding {
        case .rle:
            guard rest.count >= 4 else { throw ParquetError.truncated("\(what) levels: page ends before their length") }
            let length = Int(rest.loadUnaligned(as: UInt32.self).littleEndian)
            guard length <= rest.count - 4 else {
                throw ParquetError.corruptPage("\(what) levels claim \(length) bytes, the page has \(rest.count - 4) left")
            }
            let section = LevelSection(bytes: UnsafeRawBufferPointer(rebasing: rest[4..<4 + length]), encoding: .rle)
            rest = UnsafeRawBufferPointer(rebasing: rest[(4 + length)...])
            return section
        case .bitPacked:
            let length = (count * levelBitWidth(maxLevel) + 7) / 8
            guard length <= rest.count else { throw ParquetError.truncated("\(what) levels: bit-packed levels run past the page") }
            let section = LevelSection(bytes: UnsafeRawBufferPointer(rebasing: rest[0..<length]), encoding: .bitPacked)
            rest = UnsafeRawBufferPointer(rebasing: rest[length...])
            return section
        default:
            throw ParquetError.unsupported("\(what) levels in encoding \(encoding)")
        }
    }
}

/// Bits needed to store levels up to `maxLevel`.
func levelBitWidth(_ maxLevel: Int) -> Int {
    maxLevel == 0 ? 0 : Int.bitWidth - maxLevel.leadingZeroBitCount
}

/// Decodes `out.count` levels, checking that none exceeds `maxLevel`.
/// Throws unless `section` holds at least `count` levels, walking run headers only (O(runs), no
/// allocation): a page header's value count is checked against its bytes before levels are allocated.
func checkLevelCount(_ section: LevelSection, maxLevel: Int, count: Int, what: String) throws {
    let width = levelBitWidth(maxLevel)
    var available = 0
    switch section.encoding {
    case .bitPacked:
        available = width == 0 ? Int.max : section.bytes.count * 8 / width
    default:
        var decoder = try RLEHybridDecoder(section.bytes, bitWidth: width)
        while available < count, let run = try decoder.nextRun(maxValues: .max) {
            available += run.count
        }
    }
    guard available >= count else {
        throw ParquetError.corruptPage("the page declares \(count) values but its \(section.bytes.count) bytes of \(what) levels hold \(available)")
    }
}

func decodeLevels(_ section: LevelSection, maxLevel: Int, into out: UnsafeMutableBufferPointer<Int16>) throws {
    let width = levelBitWidth(maxLevel)
    switch section.encoding {
    case .bitPacked:
        try decodeMSBFirstLevels(section.bytes, bitWidth: width, into: out)
    default:
        var decoder = try RLEHybridDecoder(section.bytes, bitWidth: width)
        try decoder.decode(into: out)
    }
    let limit = Int16(clamping: maxLevel)
    for level in out where level > limit || level < 0 {
        throw ParquetError.corruptPage("level \(level) exceeds the column's maximum \(maxLevel)")
    }
}

/// The deprecated BIT_PACKED level encoding packs from the most significant bit first.
private func decodeMSBFirstLevels(_ bytes: UnsafeRawBufferPointer, bitWidth: Int, into out: UnsafeMutableBufferPointer<Int16>) throws {
    guard (out.count * bitWidth + 7) / 8 <= bytes.count else { throw ParquetError.truncated("bit-packed levels are too short") }
    var bit = 0
    for i in 0..<out.count {
        var value = 0
        for _ in 0..<bitWidth {
            let byte = bytes[bit >> 3]
            value = value << 1 | Int((byte >> (7 - UInt8(bit & 7))) & 1)
            bit += 1
        }
        out[i] = Int16(truncatingIfNeeded: value)
    }
}
