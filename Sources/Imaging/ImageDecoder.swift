/// Decodes JPEG or PNG bytes (the format is read from the bytes) to 8-bit RGB pixels as Pillow's
/// `Image.open(...).convert("RGB")` does. One per worker thread: it owns the codec handles and the pixel
/// buffer, which every decode reuses.
public final class ImageDecoder {
    public let jpeg: JPEGDecoder
    public let png: PNGDecoder

    /// Encoded inputs over `limits.maxEncodedBytes` are refused; the codecs refuse images over
    /// `limits.maxDecodedPixels` from their headers.
    public let limits: ImageLimits

    public init(limits: ImageLimits = .default) throws {
        self.limits = limits
        jpeg = JPEGDecoder(maxPixels: limits.maxDecodedPixels)
        png = PNGDecoder(maxPixels: limits.maxDecodedPixels)
    }

    public convenience init(maxPixels: Int) throws {
        var limits = ImageLimits.default
        limits.maxDecodedPixels = maxPixels
        try self.init(limits: limits)
    }

    public struct Decoded {
        /// The pixels, valid until this decoder decodes again.
        public var pixels: PixelView
        public var format: ImageFormat
        /// The stored size; `pixels` is smaller when the JPEG was reduced in the DCT domain.
        public var width: Int
        public var height: Int
        /// 1, or the DCT-domain reduction (2, 4, 8) a fast decode used.
        public var scaleDenominator: Int
        /// Recoverable problems the codec reported (libjpeg warnings); empty for a clean stream.
        public var warnings: [String]
    }

    /// Decodes `bytes`. With `reduceTo` (fast-decode mode), a JPEG at least twice that size on both sides is
    /// reduced by 2, 4 or 8 in the DCT domain, keeping both sides at least that size. `validate` is called
    /// with the stored size and the reduction once the header is read, before any pixel memory is allocated.
    public func decode(_ bytes: UnsafeRawBufferPointer, reduceTo minimum: (width: Int, height: Int)? = nil,
                       validate: (_ width: Int, _ height: Int, _ denominator: Int) throws -> Void = { _, _, _ in }) throws -> Decoded {
        var warnings: [String] = []
        let format = try ImageFormat.detect(bytes)
        try limits.checkEncoded(byteCount: bytes.count)
        switch format {
        case .jpeg:
            var denominator = 1
            var width = 0, height = 0
            if let minimum {
                let header = try jpeg.header(bytes)
                width = header.width
                height = header.height
                denominator = JPEGDecoder.scaleDenominator(width: width, height: height,
                                                           minimumWidth: minimum.width, minimumHeight: minimum.height)
            }
            let pixels = try jpeg.decode(bytes, scaleDenominator: denominator, warnings: &warnings) { try validate($0, $1, denominator) }
            if denominator == 1 { (width, height) = (pixels.width, pixels.height) }
            return Decoded(pixels: pixels, format: .jpeg, width: width, height: height, scaleDenominator: denominator, warnings: warnings)
        case .png:
            let pixels = try png.decode(bytes, warnings: &warnings) { try validate($0, $1, 1) }
            return Decoded(pixels: pixels, format: .png, width: pixels.width, height: pixels.height, scaleDenominator: 1, warnings: warnings)
        }
    }
}
