import Parquet

/// A Parquet file held in memory, so that a fuzz input is read without touching the disk.
public final class MemorySource: ByteRangeSource {
    public let name: String
    public let bytes: [UInt8]

    public init(_ bytes: [UInt8], name: String = "fuzz-input.parquet") {
        self.bytes = bytes
        self.name = name
    }

    public func size() throws -> Int64 { Int64(bytes.count) }

    public func read(offset: Int64, count: Int) throws -> [UInt8] {
        guard offset >= 0, count >= 0, offset <= Int64(bytes.count), Int64(count) <= Int64(bytes.count) - offset else {
            throw ParquetError(.io, "read of \(count) bytes at \(offset) is outside the \(bytes.count)-byte input")
        }
        return Array(bytes[Int(offset)..<(Int(offset) + count)])
    }
}
