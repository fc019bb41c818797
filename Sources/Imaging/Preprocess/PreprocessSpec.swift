/// What the model sees: torchvision's ImageNet evaluation transform by default —
/// `Resize(256)` (antialiased bilinear, as Pillow), `CenterCrop(224)`, `ToTensor()` (÷255) and
/// `Normalize(mean, std)` — with every size and constant a parameter.
public struct PreprocessSpec: Sendable, Equatable {
    public struct Size: Sendable, Equatable, CustomStringConvertible {
        public var width: Int
        public var height: Int
        public init(width: Int, height: Int) {
            self.width = width
            self.height = height
        }
        public static func square(_ side: Int) -> Size { Size(width: side, height: side) }
        public var description: String { "\(width)×\(height)" }
    }

    public enum Resize: Sendable, Equatable {
        /// torchvision `Resize(n)`: the shorter side becomes n, the longer `int(n * long / short)`.
        case shorterSide(Int)
        /// torchvision `Resize(n, max_size=m)`: as `shorterSide(n)`, then both sides scaled down so that the
        /// longer is at most m.
        case shorterSideAtMost(Int, maxSize: Int)
        /// torchvision `Resize((height, width))`.
        case exact(Size)
        /// No resize.
        case none
    }

    public var resize: Resize
    /// torchvision `CenterCrop`; nil keeps the whole resized image (then only an exact resize gives
    /// images of one size).
    public var crop: Size?
    /// Per-channel (R, G, B) mean and standard deviation of `Normalize`, applied after the division.
    public var mean: SIMD3<Float>
    public var std: SIMD3<Float>
    /// Pixels are divided by this before normalising: 255 is `ToTensor()`. The seed's scripts feed raw
    /// tensors without it (use 1 to reproduce them).
    public var divisor: Float
    /// Decode large JPEGs reduced by 2, 4 or 8 in the DCT domain before resizing (faster, not exact).
    public var fastDecode: Bool
    /// How large an image (encoded, decoded, output) may be; callers derive them from their memory budget.
    public var limits: ImageLimits

    public init(resize: Resize = .shorterSide(256), crop: Size? = .square(224),
                mean: SIMD3<Float> = [0.485, 0.456, 0.406], std: SIMD3<Float> = [0.229, 0.224, 0.225],
                divisor: Float = 255, fastDecode: Bool = false, limits: ImageLimits = .default) {
        self.resize = resize
        self.crop = crop
        self.mean = mean
        self.std = std
        self.divisor = divisor
        self.fastDecode = fastDecode
        self.limits = limits
    }

    /// torchvision's standard ImageNet evaluation transform.
    public static let imagenet = PreprocessSpec()

    /// The largest resize or crop side accepted.
    public static let maxSide = 1 << 16

    /// Checks the parameters: sizes in 1...`maxSide`, finite mean, finite non-zero std and divisor.
    public func validate() throws {
        let valid = 1...Self.maxSide
        switch resize {
        case let .shorterSide(n) where !valid.contains(n):
            throw ImagingError(.invalidArgument, "resize size must be in 1...\(Self.maxSide), got \(n)")
        case let .shorterSideAtMost(n, maxSize) where !valid.contains(n) || !valid.contains(maxSize) || maxSize <= n:
            throw ImagingError(.invalidArgument, "resize size and max_size must be in 1...\(Self.maxSide), max_size the larger, got \(n) and \(maxSize)")
        case let .exact(size) where !valid.contains(size.width) || !valid.contains(size.height):
            throw ImagingError(.invalidArgument, "resize size must be in 1...\(Self.maxSide) on both sides, got \(size)")
        default:
            break
        }
        if let crop, !valid.contains(crop.width) || !valid.contains(crop.height) {
            throw ImagingError(.invalidArgument, "crop size must be in 1...\(Self.maxSide) on both sides, got \(crop)")
        }
        for c in 0..<3 where !(std[c] != 0 && std[c].isFinite && mean[c].isFinite) {
            throw ImagingError(.invalidArgument, "mean and std must be finite and std non-zero, got mean \(mean) std \(std)")
        }
        guard divisor != 0, divisor.isFinite else {
            throw ImagingError(.invalidArgument, "the divisor must be finite and non-zero, got \(divisor)")
        }
        guard limits.maxDecodedPixels > 0, limits.maxOutputElements > 0, limits.maxEncodedBytes > 0 else {
            throw ImagingError(.invalidArgument, "image limits must be positive, got \(limits)")
        }
    }

    /// The output size for an image of `width` × `height` pixels, checked: an empty image or an empty
    /// resize is `zeroSize`/`invalidArgument`, an output over `limits.maxOutputElements` is `tooLarge`.
    /// Callers size their output buffers with this before preprocessing.
    public func checkedOutputSize(width: Int, height: Int) throws -> Size {
        guard width > 0, height > 0 else {
            throw ImagingError(.zeroSize, "an image of \(width)×\(height) pixels has nothing to preprocess")
        }
        let resized = resizedSize(width: width, height: height)
        guard resized.width > 0, resized.height > 0 else {
            throw ImagingError(.invalidArgument, "resizing \(width)×\(height) gives \(resized), an empty image")
        }
        let size = crop ?? resized
        try limits.checkOutput(size, imageWidth: width, imageHeight: height)
        return size
    }

    /// The output size for an image of `width` × `height` pixels.
    public func outputSize(width: Int, height: Int) -> Size {
        crop ?? resizedSize(width: width, height: height)
    }

    /// The output size when it does not depend on the image (a crop, or an exact resize), else nil.
    public var fixedOutputSize: Size? {
        if let crop { return crop }
        if case let .exact(size) = resize { return size }
        return nil
    }

    /// torchvision's `Resize` output size for an image of `width` × `height` (0×0 for an empty image; a
    /// side too long for `Int` saturates at `Int.max`).
    public func resizedSize(width: Int, height: Int) -> Size {
        switch resize {
        case .none:
            return Size(width: width, height: height)
        case let .exact(size):
            return size
        case let .shorterSide(n):
            return Self.shorterSide(n, maxSize: nil, width: width, height: height)
        case let .shorterSideAtMost(n, maxSize):
            return Self.shorterSide(n, maxSize: maxSize, width: width, height: height)
        }
    }

    /// torchvision's `_compute_resized_output_size` for an int size: new_short, new_long = size,
    /// int(size * long / short) (true division, truncation), then capped by max_size.
    private static func shorterSide(_ n: Int, maxSize: Int?, width: Int, height: Int) -> Size {
        let short = min(width, height), long = max(width, height)
        guard short > 0 else { return Size(width: 0, height: 0) }
        let (product, overflow) = n.multipliedReportingOverflow(by: long)
        let quotient = Double(product) / Double(short)
        var newShort = n, newLong = overflow || quotient >= 0x1p62 ? Int.max : Int(quotient)
        if let maxSize, newLong > maxSize {
            newShort = Int(Double(maxSize) * Double(newShort) / Double(newLong))
            newLong = maxSize
        }
        return width <= height ? Size(width: newShort, height: newLong) : Size(width: newLong, height: newShort)
    }
}
