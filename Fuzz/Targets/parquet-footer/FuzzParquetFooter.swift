import FuzzSupport
import Parquet

// The footer path of every Parquet read: the input is the Thrift-encoded FileMetaData, wrapped here in the
// magic numbers and length so that every input reaches the Thrift decoder, then the schema, the footer's
// validation, the Arrow schema and `sluice inspect`'s description.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzParquetFooter(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let footer = fuzzBytes(data, size)
    var file = Array("PAR1".utf8)
    file += footer
    let length = UInt32(truncatingIfNeeded: footer.count)
    file += [UInt8(length & 0xff), UInt8(length >> 8 & 0xff), UInt8(length >> 16 & 0xff), UInt8(length >> 24)]
    file += Array("PAR1".utf8)
    guard let reader = try? ParquetFileReader(source: MemorySource(file)) else { return 0 }
    _ = FileDescription(reader).render()
    _ = reader.numRows
    return 0
}

@_cdecl("fuzz_parquet_footer_main")
public func fuzzParquetFooterMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzParquetFooter) { seeds in
        // The footers of the Parquet files named after the directory.
        for (n, path) in seeds.inputs.enumerated() {
            guard let file = try? seeds.read(path), file.count >= 12 else { continue }
            let tail = file.count - 8
            let length = Int(file[tail]) | Int(file[tail + 1]) << 8 | Int(file[tail + 2]) << 16 | Int(file[tail + 3]) << 24
            guard Array(file.suffix(4)) == Array("PAR1".utf8), length <= tail - 4 else { continue }
            try seeds.write("footer-\(n)", Array(file[(tail - length)..<tail]))
        }
    }
}
