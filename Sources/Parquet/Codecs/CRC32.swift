import CZlib

/// zlib's CRC-32 (the one Parquet page CRCs use), continuing from `initial` like `zlib.crc32(data, initial)`.
func crc32(_ data: UnsafeRawBufferPointer, initial: UInt32 = 0) -> UInt32 {
    // zlib returns 0 for a NULL buffer whatever the running value, so an empty buffer returns it unchanged.
    guard let base = data.baseAddress, !data.isEmpty else { return initial }
    return UInt32(truncatingIfNeeded: crc32_z(uLong(initial), base.assumingMemoryBound(to: Bytef.self), data.count))
}
