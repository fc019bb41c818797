import FuzzSupport
import Parquet

// A whole Parquet file, in memory: every column chunk through the generic reader, every row group's rows
// assembled, and every list column through TensorColumnReader (with the Arrow schema's shape, or a guess).

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzParquetFile(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = Array(fuzzBytes(data, size))
    guard let reader = try? ParquetFileReader(source: MemorySource(bytes)) else { return 0 }
    for group in 0..<reader.rowGroupCount {
        for column in 0..<reader.schema.columns.count {
            _ = try? reader.readColumnChunk(rowGroup: group, column: column)
        }
        _ = try? reader.readRows(rowGroup: group, fields: reader.schema.fields.map(\.name))
        _ = try? reader.readRows(rowGroup: group, limit: 3)  // what `head` reads: the first pages only
    }
    for field in reader.schema.fields {
        let tensor = (try? TensorColumnReader(file: reader, column: field.name))
            ?? (try? TensorColumnReader(file: reader, column: field.name, shape: [3]))
        guard let tensor else { continue }
        var batches = 0
        while batches < 1000, let batch = try? tensor.next(targetRows: 7) {
            batches += 1
            for row in 0..<batch.rowCount where batch.validity[row] { _ = batch.row(row).first }
        }
    }
    return 0
}

@_cdecl("fuzz_parquet_file_main")
public func fuzzParquetFileMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzParquetFile, seeds: writeParquetSeeds)
}
