/// Parquet's CompressionCodec (thrift enum values).
public enum CompressionCodec: Int32, Sendable, CaseIterable, CustomStringConvertible {
    case uncompressed = 0
    case snappy = 1
    case gzip = 2
    case lzo = 3
    case brotli = 4
    /// Deprecated: Hadoop-framed LZ4 blocks in practice (see `Decompressor`).
    case lz4 = 5
    case zstd = 6
    case lz4Raw = 7

    /// The name the Parquet specification uses.
    public var description: String {
        switch self {
        case .uncompressed: "UNCOMPRESSED"
        case .snappy: "SNAPPY"
        case .gzip: "GZIP"
        case .lzo: "LZO"
        case .brotli: "BROTLI"
        case .lz4: "LZ4"
        case .zstd: "ZSTD"
        case .lz4Raw: "LZ4_RAW"
        }
    }
}

extension CompressionCodec {
    /// The codecs this library writes, by the names users type (case-insensitive): snappy, zstd, gzip,
    /// lz4_raw (or lz4), none (or uncompressed).
    public init?(writerName name: String) {
        switch name.lowercased() {
        case "none", "uncompressed": self = .uncompressed
        case "snappy": self = .snappy
        case "zstd": self = .zstd
        case "gzip": self = .gzip
        case "lz4_raw", "lz4": self = .lz4Raw
        default: return nil
        }
    }
}
