/// BYTE_STREAM_SPLIT: byte k of every value goes to stream k; the `width` streams are concatenated.
/// The stream length is the page's value count, so `data` must be exactly width × N bytes; the
/// first `count` (≤ N) values are returned as contiguous little-endian values.
enum ByteStreamSplit {
    static func decode(_ data: UnsafeRawBufferPointer, width: Int, count: Int) throws -> [UInt8] {
        guard width > 0 else { throw ParquetError(.invalidArgument, "BYTE_STREAM_SPLIT width \(width) must be positive") }
        guard count >= 0 else { throw ParquetError(.invalidArgument, "negative value count \(count)") }
        guard data.count % width == 0 else {
            throw ParquetError.corruptPage("BYTE_STREAM_SPLIT data of \(data.count) bytes is not a multiple of \(width)")
        }
        let streamLength = data.count / width
        guard count <= streamLength else {
            throw ParquetError.truncated("BYTE_STREAM_SPLIT holds \(streamLength) values, \(count) expected")
        }
        let total = count * width
        return [UInt8](unsafeUninitializedCapacity: total) { out, initialized in
            if let src = data.baseAddress, let dst = out.baseAddress, count > 0 {
                interleave(src, streamLength: streamLength, width: width, count: count, into: dst)
            }
            initialized = total
        }
    }

    /// `values` holds N contiguous values of `width` bytes (N × width bytes in all).
    static func encode(_ values: UnsafeRawBufferPointer, width: Int) -> [UInt8] {
        precondition(width > 0 && values.count % width == 0, "BYTE_STREAM_SPLIT input must be whole values")
        let count = values.count / width
        return [UInt8](unsafeUninitializedCapacity: values.count) { out, initialized in
            if let src = values.baseAddress, let dst = out.baseAddress {
                for k in 0..<width {
                    let stream = dst + k * count
                    for i in 0..<count { stream[i] = src.load(fromByteOffset: i * width + k, as: UInt8.self) }
                }
            }
            initialized = values.count
        }
    }

    /// Gathers value i from byte i of each stream. `src` has width × streamLength bytes,
    /// `dst` room for count × width, count <= streamLength.
    private static func interleave(_ src: UnsafeRawPointer, streamLength: Int, width: Int, count: Int,
                                   into dst: UnsafeMutablePointer<UInt8>) {
        switch width {
        case 4: interleave(src, streamLength, count, dst, width: 4)
        case 8: interleave(src, streamLength, count, dst, width: 8)
        case 2: interleave(src, streamLength, count, dst, width: 2)
        default:
            for k in 0..<width {
                let stream = src + k * streamLength
                for i in 0..<count {
                    dst[i * width + k] = stream.load(fromByteOffset: i, as: UInt8.self)
                }
            }
        }
    }

    @inline(__always)
    private static func interleave(_ src: UnsafeRawPointer, _ streamLength: Int, _ count: Int,
                                   _ dst: UnsafeMutablePointer<UInt8>, width: Int) {
        for i in 0..<count {
            for k in 0..<width {
                dst[i &* width &+ k] = src.load(fromByteOffset: k &* streamLength &+ i, as: UInt8.self)
            }
        }
    }
}
