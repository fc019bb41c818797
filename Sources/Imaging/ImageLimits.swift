/// The resource policy of the Imaging module, in one place: how large an image may be before anything is
/// allocated for it. Every limit is checked per image, from header fields or the file size, before the
/// decoder or the resampler allocates; a refusal is an `ImagingError` of kind `tooLarge` that names the
/// limit and how to raise it.
///
/// Memory per image stays within `workingBytes`: the decoded pixels (at most `bytesPerDecodedPixel` each,
/// counting the codec's own buffers), the resampler's intermediate rows (same bound) and the output.
public struct ImageLimits: Sendable, Equatable, CustomStringConvertible {
    /// Most pixels (width × height, as stored) an image may declare. The default is Pillow's
    /// decompression-bomb limit (2 × `Image.MAX_IMAGE_PIXELS`), which every photo fits.
    public var maxDecodedPixels: Int
    /// Most values (3 × output width × output height) one preprocessed image may have; matters only
    /// without a center crop, where the output size follows the image.
    public var maxOutputElements: Int
    /// Largest encoded image (file or record) accepted; a `.npy` raw tensor may be as large as its pixels.
    public var maxEncodedBytes: Int

    public init(maxDecodedPixels: Int = 178_956_970, maxOutputElements: Int = 1 << 27, maxEncodedBytes: Int = 1 << 28) {
        self.maxDecodedPixels = maxDecodedPixels
        self.maxOutputElements = maxOutputElements
        self.maxEncodedBytes = maxEncodedBytes
    }

    /// Photos of any camera: 179 Mpixel decoded, 134 M output values (512 MiB as float32), 256 MiB files.
    public static let `default` = ImageLimits()

    /// Worst-case bytes a decoded pixel costs while decoding: the RGBX output (4), libjpeg's progressive
    /// coefficient buffers (2 per component and sample, up to 4 components) or libspng's two 16-bit RGBA
    /// scanlines, and the resampler's filter weights along a degenerate (one pixel high) axis.
    public static let bytesPerDecodedPixel = 32

    /// Limits that keep one image's working memory within `bytes` (a worker's share of `--max-memory`):
    /// a quarter for the output, the rest for decoding; encoded input up to a quarter.
    public init(memoryBudget bytes: Int) {
        let budget = max(bytes, 1 << 20)
        self.init(maxDecodedPixels: budget / 4 * 3 / Self.bytesPerDecodedPixel,
                  maxOutputElements: budget / 4 / MemoryLayout<Float>.stride,
                  maxEncodedBytes: budget / 4)
    }

    /// The most memory one image may take under these limits (decode, resample and output together).
    public var workingBytes: Int {
        let decoding = maxDecodedPixels.multipliedReportingOverflow(by: Self.bytesPerDecodedPixel)
        let output = maxOutputElements.multipliedReportingOverflow(by: MemoryLayout<Float>.stride)
        guard !decoding.overflow, !output.overflow else { return .max }
        let (total, overflow) = decoding.partialValue.addingReportingOverflow(output.partialValue)
        return overflow ? .max : total
    }

    /// No limit goes above this, so that sizes derived from a pixel count (× `bytesPerDecodedPixel`) fit an Int.
    public static let ceilingPixels = 1 << 48

    /// Refuses an image of `width` × `height` pixels (as its header declares) over `maxDecodedPixels`.
    public func checkDecoded(width: Int, height: Int, format: String) throws {
        let (pixels, overflow) = width.multipliedReportingOverflow(by: height)
        let limit = min(maxDecodedPixels, Self.ceilingPixels)
        guard !overflow, pixels <= limit else {
            throw ImagingError(.tooLarge, "a \(width)×\(height) \(format) has \(overflow ? "more than Int.max" : String(pixels)) pixels, "
                + "over the limit of \(limit) (ImageLimits.maxDecodedPixels, which `sluice run` derives from --max-memory)")
        }
    }

    /// Refuses `count` encoded bytes over `maxEncodedBytes`.
    public func checkEncoded(byteCount count: Int) throws {
        guard count <= maxEncodedBytes else {
            throw ImagingError(.tooLarge, "\(count) bytes of encoded image, over the limit of \(maxEncodedBytes) "
                + "(ImageLimits.maxEncodedBytes, which `sluice run` derives from --max-memory)")
        }
    }

    /// Refuses an output of `size` (3 values per pixel) over `maxOutputElements`.
    func checkOutput(_ size: PreprocessSpec.Size, imageWidth: Int, imageHeight: Int) throws {
        let (pixels, o1) = size.width.multipliedReportingOverflow(by: size.height)
        let (values, o2) = pixels.multipliedReportingOverflow(by: 3)
        guard !o1, !o2, values <= maxOutputElements else {
            throw ImagingError(.tooLarge, "a \(imageWidth)×\(imageHeight) image becomes \(size) (\(o1 || o2 ? "more than Int.max" : String(values)) values), "
                + "over the limit of \(maxOutputElements) (ImageLimits.maxOutputElements, which `sluice run` derives from --max-memory; or give a crop size)")
        }
    }

    public var description: String {
        "\(maxDecodedPixels) decoded pixels, \(maxOutputElements) output values, \(maxEncodedBytes) encoded bytes"
    }
}
