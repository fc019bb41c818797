import CSpng

/// Decodes PNG bytes to 8-bit RGB with libspng, exactly as Pillow's `Image.open(...).convert("RGB")` does:
/// gamma, tRNS and alpha are ignored; palettes are looked up; 16-bit RGB(A) and gray+alpha keep the high
/// byte; 16-bit gray is clipped to 255 (Pillow opens it as mode I, whose RGB conversion clips, not scales).
/// Every chunk's CRC is checked (Pillow skips the IDAT CRCs; libpng and torchvision do not).
/// One decoder per worker thread; its output buffer is reused from image to image.
public final class PNGDecoder {
    private let output = ScratchBuffer()
    private let wide = ScratchBuffer()
    /// Images with more pixels than this are refused before any pixel memory is allocated.
    public var maxPixels: Int

    public init(maxPixels: Int = JPEGDecoder.defaultMaxPixels) {
        self.maxPixels = maxPixels
    }

    public struct Header: Sendable, Equatable {
        public var width: Int
        public var height: Int
        public var bitDepth: Int
        /// PNG colour type: 0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA.
        public var colorType: Int
        public var interlaced: Bool
    }

    /// Decodes `bytes` into this decoder's buffer as RGBX pixels (the fourth byte is ignored).
    /// `validate` sees the stored size (after the pixel limit is checked) before anything is allocated.
    public func decode(_ bytes: UnsafeRawBufferPointer, warnings: inout [String],
                       validate: (_ width: Int, _ height: Int) throws -> Void = { _, _ in }) throws -> PixelView {
        try withContext(bytes) { context, header in
            try validate(header.width, header.height)
            let rowBytes = header.width * 4
            let destination = output.reserve(rowBytes * header.height).assumingMemoryBound(to: UInt8.self)
            if header.colorType == 0 && header.bitDepth == 16 {
                // Host-endian 16-bit gray, clipped to 8 bits as Pillow's I → RGB conversion does.
                let count = header.width * header.height
                let samples = wide.reserve(count, of: UInt16.self)
                try check(spng_decode_image(context, samples, count * 2, Int32(SPNG_FMT_PNG.rawValue), 0), "decoding the PNG")
                for i in 0..<count {
                    let v = UInt8(clamping: samples[i])
                    destination[i * 4] = v
                    destination[i * 4 + 1] = v
                    destination[i * 4 + 2] = v
                    destination[i * 4 + 3] = 255
                }
            } else {
                try check(spng_decode_image(context, destination, rowBytes * header.height, Int32(SPNG_FMT_RGBA8.rawValue), 0), "decoding the PNG")
            }
            // The chunks after the image data: this is where the last IDAT chunk's CRC is checked.
            // A missing IEND is tolerated (Pillow and libpng decode such files); a bad CRC is not.
            let trailing = spng_decode_chunks(context)
            if trailing == Int32(SPNG_ECHUNK_CRC.rawValue) {
                try check(trailing, "reading the chunks after the image data")
            } else if trailing != 0 {
                warnings.append("libspng: after the image data: \(String(cString: spng_strerror(trailing)))")
            }
            return PixelView(unchecked: destination, width: header.width, height: header.height, rowBytes: rowBytes, layout: .rgbx)
        }
    }

    /// The IHDR fields, from the headers only.
    public func header(_ bytes: UnsafeRawBufferPointer) throws -> Header {
        try withContext(bytes) { _, header in header }
    }

    private func withContext<T>(_ bytes: UnsafeRawBufferPointer, _ body: (OpaquePointer, Header) throws -> T) throws -> T {
        // IHDR is the first chunk: signature (8), length (4), "IHDR" (4), width (4), height (4).
        if bytes.count >= 24 {
            let width = bytes[16..<20].reduce(0) { $0 << 8 | Int($1) }
            let height = bytes[20..<24].reduce(0) { $0 << 8 | Int($1) }
            if width == 0 || height == 0 {
                throw ImagingError(.zeroSize, "the PNG header declares \(width)×\(height) pixels")
            }
        }
        guard let context = spng_ctx_new(0) else {
            throw ImagingError(.io, "cannot create a libspng context")
        }
        defer { spng_ctx_free(context) }
        try check(spng_set_png_buffer(context, bytes.baseAddress, bytes.count), "reading the PNG")
        try check(spng_set_crc_action(context, Int32(SPNG_CRC_ERROR.rawValue), Int32(SPNG_CRC_ERROR.rawValue)), "configuring libspng")
        // Bounds what a malicious stream can make libspng allocate for metadata chunks.
        try check(spng_set_chunk_limits(context, 1 << 26, 1 << 26), "configuring libspng")
        var ihdr = spng_ihdr()
        try check(spng_get_ihdr(context, &ihdr), "reading the PNG header")
        let header = Header(width: Int(ihdr.width), height: Int(ihdr.height), bitDepth: Int(ihdr.bit_depth),
                            colorType: Int(ihdr.color_type), interlaced: ihdr.interlace_method != 0)
        guard header.width > 0, header.height > 0 else {
            throw ImagingError(.zeroSize, "the PNG header declares \(header.width)×\(header.height) pixels")
        }
        try ImageLimits(maxDecodedPixels: maxPixels).checkDecoded(width: header.width, height: header.height, format: "PNG")
        return try body(context, header)
    }

    private func check(_ status: Int32, _ stage: String) throws {
        guard status != 0 else { return }
        let text = String(cString: spng_strerror(status))
        let kind: ImagingError.Kind
        switch spng_errno(rawValue: status) {
        case SPNG_IO_EOF, SPNG_EOF, SPNG_EIDAT_TOO_SHORT:
            kind = .truncated
        case SPNG_ECHUNK_CRC:
            throw ImagingError(.corrupt, "\(stage): a chunk's CRC does not match its data (libspng: \(text))")
        case SPNG_EUSER_WIDTH, SPNG_EUSER_HEIGHT, SPNG_ECHUNK_LIMITS, SPNG_EOVERFLOW, SPNG_EMEM:
            kind = .tooLarge
        case SPNG_EBIT_DEPTH, SPNG_ECOLOR_TYPE, SPNG_ECOMPRESSION_METHOD, SPNG_EFILTER_METHOD, SPNG_EINTERLACE_METHOD,
             SPNG_ECHUNK_UNKNOWN_CRITICAL:
            kind = .unsupported
        default:
            kind = .corrupt
        }
        throw ImagingError(kind, "\(stage): libspng: \(text)")
    }
}
