import CSnappy

extension Decompressor {
    /// Most bytes one compressed byte can become: deflate's limit is 1032:1, LZ4's 255:1 (plus headers).
    private static func maxExpansion(_ codec: CompressionCodec) -> Int? {
        switch codec {
        case .gzip: 1032
        case .lz4, .lz4Raw: 255
        default: nil
        }
    }

    /// Refuses, before anything is allocated, an uncompressed size the stored bytes cannot produce: snappy's
    /// own length preamble must agree, and gzip and LZ4 cannot exceed their maximum expansion.
    static func checkPlausible(_ codec: CompressionCodec, _ input: UnsafeRawBufferPointer, declared: Int) throws {
        guard declared > 0, !input.isEmpty else { return }
        if codec == .snappy, let base = input.baseAddress {
            var length = 0
            guard snappy_uncompressed_length(base.assumingMemoryBound(to: CChar.self), input.count, &length) == SNAPPY_OK else {
                throw decompressionError(codec, "the page does not start with a valid uncompressed length")
            }
            guard length == declared else {
                throw decompressionError(codec, "the stream inflates to \(length) bytes but the page header declares \(declared)")
            }
            return
        }
        guard let ratio = maxExpansion(codec) else { return }
        let (bound, overflow) = input.count.multipliedReportingOverflow(by: ratio)
        guard overflow || declared <= bound + 1024 else {
            throw decompressionError(codec, "\(input.count) compressed bytes cannot inflate to the \(declared) bytes the page header declares")
        }
    }
}
