import Parquet

/// Seeds for the whole-file targets: the Parquet files named after the directory, plus small files written by
/// Sluice's writer (tensor columns in each layout and codec, dictionary and plain, and a file of plain columns).
public func writeParquetSeeds(_ seeds: SeedWriter) throws {
    for (n, path) in seeds.inputs.enumerated() {
        guard let bytes = try? seeds.read(path), bytes.count <= 256 << 10 else { continue }
        try seeds.write("input-\(n).parquet", bytes)
    }
    let codecs: [CompressionCodec] = [.uncompressed, .snappy, .gzip, .zstd, .lz4Raw]
    for (c, codec) in codecs.enumerated() {
        for (l, layout) in TensorLayout.allCases.enumerated() {
            for dictionary in [false, true] {
                var options = WriterOptions()
                options.codec = codec
                options.dictionary = dictionary
                options.dataPageSize = 64
                let element: TensorElement = [.uint8, .float32, .int16][l % 3]
                let shape = [2, 3]
                let rows = 5
                let bytes = (0..<(rows * 6 * element.byteWidth)).map { UInt8(truncatingIfNeeded: $0 * 7 % (dictionary ? 5 : 251)) }
                let sink = InMemorySink()
                let writer = try ParquetFileWriter(sink: sink, fields: [.tensor(name: "image", element: element, shape: shape, layout: layout)],
                                                   options: options)
                try bytes.withUnsafeBytes { try writer.writeTensorRowGroup($0, rows: rows) }
                try bytes.withUnsafeBytes { try writer.writeTensorRowGroup(UnsafeRawBufferPointer(rebasing: $0[0..<($0.count / rows * 2)]), rows: 2) }
                try writer.close()
                try seeds.write("tensor-\(c)-\(l)-\(dictionary ? "dict" : "plain").parquet", sink.bytes)
            }
        }
        var options = WriterOptions()
        options.codec = codec
        options.dataPageSize = 32
        let sink = InMemorySink()
        let writer = try ParquetFileWriter(sink: sink, fields: [
            .primitive(name: "id", type: .int64, nullable: false), .string("path"),
            .primitive(name: "score", type: .double),
        ], options: options)
        try writer.writeRowGroup(rows: 4, columns: [
            ColumnWriteData(values: .int64([1, 2, 3, 4])),
            ColumnWriteData(values: .byteArray(BinaryValues(strings: ["a.jpg", "b.png", "a.jpg"])), definitionLevels: [1, 1, 0, 1]),
            ColumnWriteData(values: .double([0.5, 1.5]), definitionLevels: [1, 0, 1, 0]),
        ])
        try writer.close()
        try seeds.write("columns-\(c).parquet", sink.bytes)
    }
}
