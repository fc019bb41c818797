import CTurboJPEG

/// Encodes 8-bit RGB pixels as baseline JPEG with libjpeg-turbo (TurboJPEG API): the quantisation tables
/// of the IJG quality scale, 4:2:0 chroma subsampling by default and the accurate integer DCT, as Pillow's
/// `save(quality=q)` does (TurboJPEG alone would pick the fast DCT below quality 96).
/// One encoder per thread; its output buffer is reused from image to image.
public final class JPEGEncoder {
    public enum Subsampling: Sendable {
        case s444, s422, s420

        var turbo: Int32 {
            switch self {
            case .s444: Int32(TJSAMP_444.rawValue)
            case .s422: Int32(TJSAMP_422.rawValue)
            case .s420: Int32(TJSAMP_420.rawValue)
            }
        }
    }

    private let handle: tjhandle
    private var buffer: UnsafeMutablePointer<UInt8>?
    private var capacity = 0
    public let quality: Int
    public let subsampling: Subsampling

    public init(quality: Int = 90, subsampling: Subsampling = .s420) throws {
        guard (1...100).contains(quality) else {
            throw ImagingError(.invalidArgument, "JPEG quality must be 1...100, got \(quality)")
        }
        guard let handle = tjInitCompress() else {
            throw ImagingError(.io, "cannot create a TurboJPEG compressor: \(String(cString: tjGetErrorStr2(nil)))")
        }
        self.handle = handle
        self.quality = quality
        self.subsampling = subsampling
    }

    deinit {
        tjFree(buffer)
        tjDestroy(handle)
    }

    /// Encodes `pixels` and passes the JPEG bytes to `body` (valid only during the call).
    public func encode<R>(_ pixels: PixelView, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        let format: TJPF = switch pixels.layout {
        case .gray: TJPF_GRAY
        case .rgb: TJPF_RGB
        case .rgbx: TJPF_RGBX
        }
        let sampling = pixels.layout == .gray ? Int32(TJSAMP_GRAY.rawValue) : subsampling.turbo
        let needed = Int(tjBufSize(Int32(pixels.width), Int32(pixels.height), sampling))
        guard needed > 0 else {
            throw ImagingError(.invalidArgument, "cannot encode a \(pixels.width)×\(pixels.height) JPEG: \(String(cString: tjGetErrorStr2(handle)))")
        }
        if needed > capacity {
            tjFree(buffer)
            buffer = tjAlloc(Int32(needed))
            capacity = buffer == nil ? 0 : needed
        }
        var output = buffer
        var size = UInt(capacity)
        let status = tjCompress2(handle, pixels.base.assumingMemoryBound(to: UInt8.self), Int32(pixels.width), Int32(pixels.rowBytes),
                                 Int32(pixels.height), Int32(format.rawValue), &output, &size, sampling, Int32(quality),
                                 TJFLAG_NOREALLOC | TJFLAG_ACCURATEDCT)
        guard status == 0, let output else {
            throw ImagingError(.io, "JPEG encoding failed: \(String(cString: tjGetErrorStr2(handle)))")
        }
        return try body(UnsafeRawBufferPointer(start: output, count: Int(size)))
    }

    /// Encodes `pixels` into a new array.
    public func encode(_ pixels: PixelView) throws -> [UInt8] {
        try encode(pixels) { Array($0) }
    }
}
