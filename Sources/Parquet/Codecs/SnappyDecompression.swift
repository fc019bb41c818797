import CSnappy

extension Decompressor {
    func decompressSnappy(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws {
        let source = input.base(or: scratch).assumingMemoryBound(to: CChar.self)
        var declared = 0
        guard snappy_uncompressed_length(source, input.count, &declared) == SNAPPY_OK else {
            throw decompressionError(.snappy, "the page does not start with a valid uncompressed length")
        }
        // Checked before decompressing: the stream's own length is never trusted for anything else.
        guard declared == output.count else {
            throw decompressionError(.snappy, "the stream inflates to \(declared) bytes but the page header declares \(output.count)")
        }
        var produced = output.count
        // snappy_uncompress reads input.count bytes and writes at most `produced` (= output.count).
        let destination = output.base(or: scratch).assumingMemoryBound(to: CChar.self)
        guard snappy_uncompress(source, input.count, destination, &produced) == SNAPPY_OK,
              produced == output.count else {
            throw decompressionError(.snappy, "corrupt compressed data")
        }
    }
}
