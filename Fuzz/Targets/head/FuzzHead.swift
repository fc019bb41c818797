import FuzzSupport
import Parquet

// What `sluice head` and `sluice inspect` do with a file: the row preview rendered as JSON lines (tensor
// columns summarised through the tensor reader) and the structure description.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHead(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = Array(fuzzBytes(data, size))
    guard let reader = try? ParquetFileReader(source: MemorySource(bytes)) else { return 0 }
    _ = FileDescription(reader).render()
    _ = try? RowPreview(reader).lines(limit: 10)
    return 0
}

@_cdecl("fuzz_head_main")
public func fuzzHeadMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzHead, seeds: writeParquetSeeds)
}
