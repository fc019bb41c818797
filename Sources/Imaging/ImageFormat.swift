/// The encodings this module decodes, recognised from the bytes (never from a file name).
public enum ImageFormat: String, Sendable, CaseIterable {
    case jpeg
    case png

    /// The format of `bytes`, or a typed error that says what the bytes look like instead.
    public static func detect(_ bytes: UnsafeRawBufferPointer) throws -> ImageFormat {
        guard !bytes.isEmpty else { throw ImagingError(.empty, "no bytes (a zero-length image)") }
        if bytes.count >= 3, bytes[0] == 0xFF, bytes[1] == 0xD8, bytes[2] == 0xFF { return .jpeg }
        if bytes.count >= 8, bytes.loadUnaligned(as: UInt64.self) == UInt64(littleEndian: 0x0A1A_0A0D_474E_5089) { return .png }
        throw ImagingError(.unknownFormat, "not a JPEG or PNG: \(describe(bytes))")
    }

    /// What unrecognised bytes look like, for error messages.
    static func describe(_ bytes: UnsafeRawBufferPointer) -> String {
        let known: [(prefix: [UInt8], name: String)] = [
            (Array("GIF8".utf8), "a GIF image"),
            (Array("BM".utf8), "a BMP image"),
            ([0x49, 0x49, 0x2A, 0x00], "a TIFF image"),
            ([0x4D, 0x4D, 0x00, 0x2A], "a TIFF image"),
            ([0x00, 0x00, 0x00, 0x0C, 0x6A, 0x50, 0x20, 0x20], "a JPEG 2000 image"),
            ([0xFF, 0x4F, 0xFF, 0x51], "a JPEG 2000 codestream"),
            ([0xFF, 0x0A], "a JPEG XL image"),
            ([0x50, 0x4B, 0x03, 0x04], "a ZIP archive"),
            ([0x1F, 0x8B], "gzip data"),
            (Array("%PDF".utf8), "a PDF document"),
            ([0xFF, 0xD8], "a JPEG start-of-image marker not followed by another marker"),
            ([0x89, 0x50, 0x4E, 0x47], "a damaged PNG signature"),
        ]
        for entry in known where bytes.starts(with: entry.prefix) { return entry.name }
        if bytes.count >= 12, bytes.starts(with: Array("RIFF".utf8)),
           UnsafeRawBufferPointer(rebasing: bytes[8..<12]).elementsEqual("WEBP".utf8) {
            return "a WebP image"
        }
        if bytes.count >= 12, UnsafeRawBufferPointer(rebasing: bytes[4..<8]).elementsEqual("ftyp".utf8) {
            return "an ISO media file (HEIF/AVIF/MP4)"
        }
        let head = bytes.prefix(64)
        if head.allSatisfy({ $0 == 0x09 || $0 == 0x0A || $0 == 0x0D || (0x20..<0x7F).contains($0) }) {
            return "text (\(head.count < bytes.count ? "starts " : "")\"\(String(decoding: head.prefix(24), as: UTF8.self))\")"
        }
        return "starts with bytes " + bytes.prefix(8).map { hex($0) }.joined(separator: " ")
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 15)]])
    }
}
