import FuzzSupport
@testable import Parquet

// One data page (and optionally a dictionary page) through the reader's page decoder: decompression, level
// sections and value decoding. A 13-byte prologue picks what the page is, so that every encoding, physical
// type, codec and page version is reached:
//   encoding, physical type, codec, fixed length - 1, flags, value count (u16), uncompressed size (u32),
//   v2 level lengths (2 × u16, v2 only), dictionary value count and length (2 × u16, with a dictionary only),
//   the dictionary (PLAIN, uncompressed), then the stored page.
// flags: bits 0-1 max definition level, bit 2 max repetition level, bit 3 v2 page, bit 4 dictionary page,
//   bit 5 BIT_PACKED v1 levels, bit 6 v2 values not compressed, bit 7 the value count is a u32 (up to
//   Int32.max, as a page header may claim) rather than a u16.

let encodings: [Encoding] = [.plain, .plainDictionary, .rle, .bitPacked, .deltaBinaryPacked, .deltaLengthByteArray,
                             .deltaByteArray, .rleDictionary, .byteStreamSplit]
let physicalTypes: [PhysicalType] = [.boolean, .int32, .int64, .int96, .float, .double, .byteArray, .fixedLenByteArray]
let codecs: [CompressionCodec] = [.uncompressed, .snappy, .gzip, .lz4, .zstd, .lz4Raw]

/// The page size the prologue may claim: the chunk reader caps nothing here, so bound it to keep each run fast.
let maximumPageSize = 1 << 20

nonisolated(unsafe) let decoder = PageDecoder()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzParquetPages(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(fuzzBytes(data, size))
    let encoding = encodings[Int(input.byte()) % encodings.count]
    let type = physicalTypes[Int(input.byte()) % physicalTypes.count]
    let codec = codecs[Int(input.byte()) % codecs.count]
    let typeLength = Int(input.byte() % 16) + 1
    let flags = input.byte()
    let numValues = flags & 128 != 0 ? input.uint32() & Int(Int32.max) : input.uint16()
    let claimedSize = input.uint32() % (maximumPageSize + 1)
    let v2 = flags & 8 != 0
    let levelLengths: (repetition: Int, definition: Int) = v2 ? (input.uint16(), input.uint16()) : (0, 0)
    let dictionaryCount = flags & 16 != 0 ? input.uint16() : 0
    let dictionaryBytes = flags & 16 != 0 ? input.take(input.uint16()) : nil
    let stored = input.rest()

    var element = SchemaElement(name: "v")
    element.type = type
    element.typeLength = Int32(typeLength)
    let column = ColumnDescriptor(index: 0, path: ["v"], element: element, physicalType: type,
                                  maxDefinitionLevel: Int(flags & 3), maxRepetitionLevel: Int(flags >> 2 & 1))
    var dictionary: ColumnValues?
    if let dictionaryBytes {
        var header = PageHeader()
        header.type = .dictionaryPage
        header.uncompressedPageSize = Int32(dictionaryBytes.count)
        header.compressedPageSize = Int32(dictionaryBytes.count)
        var dictionaryHeader = DictionaryPageHeader()
        dictionaryHeader.numValues = Int32(dictionaryCount)
        header.dictionaryPageHeader = dictionaryHeader
        dictionary = try? decoder.withDictionaryPage(header, dictionaryBytes, codec: .uncompressed) { header, bytes in
            try ValueDecoding.plain(bytes, type: type, width: typeLength, count: Int(header.numValues))
        }
    }
    var header = PageHeader()
    // An uncompressed page must be exactly its stored size; anything else is refused before decoding.
    header.uncompressedPageSize = Int32(codec == .uncompressed && !v2 ? stored.count : claimedSize)
    header.compressedPageSize = Int32(stored.count)
    if v2 {
        header.type = .dataPageV2
        var v2Header = DataPageHeaderV2()
        v2Header.numValues = Int32(numValues)
        v2Header.numRows = Int32(numValues)
        v2Header.encoding = encoding
        v2Header.repetitionLevelsByteLength = Int32(levelLengths.repetition)
        v2Header.definitionLevelsByteLength = Int32(levelLengths.definition)
        v2Header.isCompressed = flags & 64 == 0
        header.dataPageHeaderV2 = v2Header
    } else {
        header.type = .dataPage
        var v1Header = DataPageHeader()
        v1Header.numValues = Int32(numValues)
        v1Header.encoding = encoding
        v1Header.definitionLevelEncoding = flags & 32 != 0 ? .bitPacked : .rle
        v1Header.repetitionLevelEncoding = flags & 32 != 0 ? .bitPacked : .rle
        header.dataPageHeader = v1Header
    }
    var chunk = ColumnChunkData(column: column)
    _ = try? decoder.withDataPage(header, stored, codec: codec, maxRepetition: column.maxRepetitionLevel,
                                  maxDefinition: column.maxDefinitionLevel) { page in
        try chunk.append(page, dictionary: dictionary, expectedTotal: numValues, limits: ReadLimits())
    }
    return 0
}

@_cdecl("fuzz_parquet_pages_main")
public func fuzzParquetPagesMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzParquetPages, seeds: writePageSeeds)
}
