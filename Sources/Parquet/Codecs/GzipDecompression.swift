import CZlib

extension Decompressor {
    /// Inflates a GZIP page: zlib detects a gzip or zlib header by itself, and a page may hold
    /// several gzip members back to back, so inflation restarts until the input is consumed.
    func decompressGzip(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws {
        guard input.count <= Int(UInt32.max), output.count <= Int(UInt32.max) else {
            throw decompressionError(.gzip, "pages over 4 GiB are not supported")
        }
        let stream = try readyInflateStream()
        // zlib reads at most avail_in and writes at most avail_out bytes, set here from the buffers' counts.
        stream.pointee.next_in = UnsafeMutablePointer(mutating: input.base(or: scratch).assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = uInt(input.count)
        stream.pointee.next_out = output.base(or: scratch).assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_out = uInt(output.count)
        // Each pass either finishes a member (consuming at least its header) or throws.
        while true {
            let status = inflate(stream, Z_FINISH)
            switch status {
            case Z_STREAM_END:
                if stream.pointee.avail_in == 0 {
                    let produced = output.count - Int(stream.pointee.avail_out)
                    guard produced == output.count else {
                        throw decompressionError(.gzip, "the page inflates to \(produced) bytes but its header declares \(output.count)")
                    }
                    return
                }
                guard inflateReset(stream) == Z_OK else {
                    throw decompressionError(.gzip, "cannot restart inflation for the next gzip member")
                }
            case Z_BUF_ERROR where stream.pointee.avail_out == 0:
                throw decompressionError(.gzip, "the page inflates to more than the \(output.count) bytes its header declares")
            case Z_BUF_ERROR:
                throw decompressionError(.gzip, "the compressed stream is truncated")
            default:
                throw decompressionError(.gzip, zlibMessage(stream, status))
            }
        }
    }

    /// The inflate stream, freshly reset; window bits 15 + 32 accept both gzip and zlib headers.
    private func readyInflateStream() throws -> UnsafeMutablePointer<z_stream> {
        if let inflateStream {
            guard inflateReset(inflateStream) == Z_OK else {
                throw decompressionError(.gzip, "cannot reset the inflate stream")
            }
            return inflateStream
        }
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let status = inflateInit2_(stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else {
            stream.deallocate()
            throw decompressionError(.gzip, "cannot initialise zlib (status \(status))")
        }
        inflateStream = stream
        return stream
    }
}

/// zlib's own explanation of a failure, or the status code when it gave none.
func zlibMessage(_ stream: UnsafeMutablePointer<z_stream>, _ status: Int32) -> String {
    if let message = stream.pointee.msg { return String(cString: message) }
    return "zlib status \(status)"
}
