import CTurboJPEG

/// Decodes JPEG bytes to 8-bit RGB with libjpeg-turbo (TurboJPEG API), exactly as Pillow does: accurate
/// integer IDCT, fancy upsampling, CMYK and YCCK converted with Pillow's formula. One decoder per worker
/// thread; its output buffer is reused from image to image.
///
/// Each image gets a fresh TurboJPEG decompressor (0.1 µs): a reused one keeps the previous image's
/// Huffman and quantisation tables, so a stream that leaves them out (Motion-JPEG frames omit DHT) or
/// refers to one it never defined would decode differently from Pillow, which starts afresh each time.
public final class JPEGDecoder {
    private let output = ScratchBuffer()
    /// Images with more pixels than this are refused before any pixel memory is allocated.
    public var maxPixels: Int

    /// Pillow's decompression-bomb limit (2 × `Image.MAX_IMAGE_PIXELS`).
    public static let defaultMaxPixels = ImageLimits.default.maxDecodedPixels

    public init(maxPixels: Int = JPEGDecoder.defaultMaxPixels) {
        self.maxPixels = maxPixels
    }

    private static func makeHandle() throws -> tjhandle {
        guard let handle = tjInitDecompress() else {
            throw ImagingError(.io, "cannot create a TurboJPEG decompressor: \(String(cString: tjGetErrorStr2(nil)))")
        }
        return handle
    }

    public struct Header: Sendable, Equatable {
        public var width: Int
        public var height: Int
        /// 1 (gray), 3 (YCbCr or RGB) or 4 (CMYK or YCCK).
        public var components: Int
        public var progressive: Bool
    }

    /// The image size and layout, from the frame header (TurboJPEG 2.1's own header call refuses
    /// unusual chroma sampling factors that libjpeg decodes).
    public func header(_ bytes: UnsafeRawBufferPointer) throws -> Header {
        try header(JPEGMarkers(bytes, headersOnly: true), bytes)
    }

    private func header(_ markers: JPEGMarkers, _ bytes: UnsafeRawBufferPointer) throws -> Header {
        guard let frame = markers.frame else {
            throw JPEGMarkers(bytes).endsEarly
                ? ImagingError(.truncated, "the JPEG data ends before its frame header (SOFn)")
                : ImagingError(.corrupt, "no JPEG frame header (SOFn) before the end of the image")
        }
        if frame.precision != 8 {
            throw ImagingError(.unsupported, "\(frame.precision)-bit JPEG samples (only 8-bit JPEGs are decoded)")
        }
        if frame.isLossless {
            throw ImagingError(.unsupported, "lossless JPEG (SOF\(Int(frame.marker) - 0xC0))")
        }
        if frame.width == 0 {
            throw ImagingError(.zeroSize, "the JPEG frame header declares a width of 0")
        }
        if frame.height == 0 {
            throw ImagingError(.unsupported, "the JPEG frame header declares a height of 0 (the height comes later in a DNL marker, which libjpeg does not support)")
        }
        guard frame.components == 1 || frame.components == 3 || frame.components == 4 else {
            throw ImagingError(.unsupported, "a JPEG with \(frame.components) components (1, 3 or 4 are decoded)")
        }
        return Header(width: frame.width, height: frame.height, components: frame.components, progressive: frame.isProgressive)
    }

    /// The largest DCT-domain reduction (1, 2, 4 or 8) that keeps both sides at least `minimumWidth` ×
    /// `minimumHeight` (Pillow's `draft` rule: only when the image is at least twice the target).
    public static func scaleDenominator(width: Int, height: Int, minimumWidth: Int, minimumHeight: Int) -> Int {
        var denominator = 8
        while denominator > 1 && !(width >= minimumWidth * denominator && height >= minimumHeight * denominator) {
            denominator /= 2
        }
        return denominator
    }

    /// Decodes `bytes` into this decoder's buffer as RGBX pixels (the fourth byte is padding), reduced by
    /// `scaleDenominator` (1, 2, 4 or 8) in the DCT domain. Recoverable libjpeg warnings are appended to
    /// `warnings`; a stream that ends before its EOI marker is an error, as in Pillow.
    /// `validate` sees the stored size (after the pixel limit is checked) before anything is allocated.
    public func decode(_ bytes: UnsafeRawBufferPointer, scaleDenominator: Int = 1, warnings: inout [String],
                       validate: (_ width: Int, _ height: Int) throws -> Void = { _, _ in }) throws -> PixelView {
        guard scaleDenominator == 1 || scaleDenominator == 2 || scaleDenominator == 4 || scaleDenominator == 8 else {
            throw ImagingError(.invalidArgument, "JPEG scale denominator \(scaleDenominator) is not 1, 2, 4 or 8")
        }
        let markers = JPEGMarkers(bytes, headersOnly: true)
        let header = try self.header(markers, bytes)
        try ImageLimits(maxDecodedPixels: maxPixels).checkDecoded(width: header.width, height: header.height, format: "JPEG")
        try validate(header.width, header.height)
        let handle = try Self.makeHandle()
        defer { tjDestroy(handle) }
        let width = (header.width + scaleDenominator - 1) / scaleDenominator
        let height = (header.height + scaleDenominator - 1) / scaleDenominator
        let rowBytes = width * 4
        let cmyk = header.components == 4
        let destination = output.reserve(rowBytes * height).assumingMemoryBound(to: UInt8.self)
        let status = tjDecompress2(handle, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt(bytes.count),
                                   destination, Int32(width), Int32(rowBytes), Int32(height),
                                   Int32((cmyk ? TJPF_CMYK : TJPF_RGBX).rawValue), TJFLAG_LIMITSCANS)
        if status != 0 {
            let text = String(cString: tjGetErrorStr2(handle))
            // TurboJPEG 2.1 keeps reporting "warning" once any warning happened, even when a fatal error
            // followed; the message tells them apart (a fatal error's replaces the first warning's). Only
            // now is the whole stream walked, to tell a truncated file from a recoverable warning.
            let fatal = tjGetErrorCode(handle) != TJERR_WARNING.rawValue || !Self.isWarning(text)
            if fatal || JPEGMarkers(bytes).endsEarly {
                throw Self.error(text, fatal: fatal)
            }
            warnings.append("libjpeg: " + text)
        }
        if cmyk {
            ColorConversion.invertedCMYKToRGBX(destination, pixels: width * height)
        }
        return PixelView(unchecked: destination, width: width, height: height, rowBytes: rowBytes, layout: .rgbx)
    }

    /// libjpeg's warning messages (JWRN_* in jerror.h): the image was still decoded.
    private static let warningMessages = ["Corrupt JPEG data", "Premature end of JPEG file", "Warning:", "Inconsistent progression sequence",
                                          "Invalid SOS parameters for sequential JPEG", "Unknown Adobe color transform code",
                                          "Application transferred too"]

    private static func isWarning(_ message: String) -> Bool {
        warningMessages.contains(where: message.hasPrefix)
    }

    /// libjpeg's messages for valid streams it does not decode.
    private static let unsupportedMessages = ["Unsupported JPEG process", "Unsupported JPEG data precision",
                                              "Unsupported color conversion", "Requested features are incompatible"]

    /// The error for a failed decode: a fatal libjpeg error is classified by its message (libjpeg reports
    /// running out of data only as a warning); a warning on a stream without EOI means it was truncated.
    private static func error(_ text: String, fatal: Bool) -> ImagingError {
        if !fatal || text.hasPrefix("Premature end") {
            return ImagingError(.truncated, "the JPEG data ends before its EOI marker (libjpeg: \(text))")
        }
        if unsupportedMessages.contains(where: text.hasPrefix) {
            return ImagingError(.unsupported, "libjpeg: \(text)")
        }
        return ImagingError(.corrupt, "libjpeg: \(text)")
    }
}
