/// How the bytes of one pixel are laid out in a `PixelView`.
public enum PixelLayout: Int, Sendable, CaseIterable {
    /// One byte per pixel: gray, which becomes R = G = B (Pillow's `convert("RGB")` of mode L).
    case gray = 1
    /// Three bytes per pixel: R, G, B.
    case rgb = 3
    /// Four bytes per pixel: R, G, B and a fourth byte that is ignored (alpha or padding; Pillow's
    /// `convert("RGB")` of RGBA drops alpha, it does not composite).
    case rgbx = 4

    public var bytesPerPixel: Int { rawValue }

    /// The layout of an HWC tensor with `channels` channels (1, 3 or 4).
    public init?(channels: Int) {
        self.init(rawValue: channels)
    }
}

/// Pixels in a buffer the view does not own: `height` rows of `width` pixels, each row `rowBytes` after the
/// previous one. A view from a decoder is valid until that decoder decodes again.
public struct PixelView {
    public let base: UnsafeRawPointer
    public let width: Int
    public let height: Int
    public let rowBytes: Int
    public let layout: PixelLayout

    /// A view of `bytes`, checked: every row must lie inside the buffer.
    public init(_ bytes: UnsafeRawBufferPointer, width: Int, height: Int, layout: PixelLayout, rowBytes: Int? = nil) throws {
        guard width > 0, height > 0 else {
            throw ImagingError(.zeroSize, "an image of \(width)×\(height) pixels has nothing to preprocess")
        }
        let (rowPixels, overflowRow) = width.multipliedReportingOverflow(by: layout.bytesPerPixel)
        let stride = rowBytes ?? rowPixels
        guard !overflowRow, stride >= rowPixels else {
            throw ImagingError(.invalidArgument, "row stride \(stride) is shorter than a row of \(width) pixels (\(rowPixels) bytes)")
        }
        let (lastRowStart, overflow) = (height - 1).multipliedReportingOverflow(by: stride)
        guard !overflow, let base = bytes.baseAddress, bytes.count >= lastRowStart + rowPixels else {
            throw ImagingError(.shapeMismatch, "\(bytes.count) bytes cannot hold \(height) rows of \(width) \(layout) pixels")
        }
        self.init(unchecked: base, width: width, height: height, rowBytes: stride, layout: layout)
    }

    /// A view whose bounds the caller guarantees (decoders, over their own buffers).
    init(unchecked base: UnsafeRawPointer, width: Int, height: Int, rowBytes: Int, layout: PixelLayout) {
        self.base = base
        self.width = width
        self.height = height
        self.rowBytes = rowBytes
        self.layout = layout
    }

    /// A raw HWC uint8 tensor of shape [height, width, channels] (channels 1, 3 or 4), checked against the
    /// byte count: the tensor must hold exactly height × width × channels bytes.
    public static func tensor(_ bytes: UnsafeRawBufferPointer, shape: [Int]) throws -> PixelView {
        guard shape.count == 3 || shape.count == 2 else {
            throw ImagingError(.shapeMismatch, "a raw image tensor has shape [height, width, channels]; got \(shape)")
        }
        let height = shape[0], width = shape[1], channels = shape.count == 3 ? shape[2] : 1
        guard let layout = PixelLayout(channels: channels) else {
            throw ImagingError(.shapeMismatch, "a raw image tensor has 1, 3 or 4 channels; shape \(shape) has \(channels)")
        }
        guard height > 0, width > 0 else {
            throw ImagingError(.zeroSize, "a raw image tensor of shape \(shape) has no pixels")
        }
        let (pixels, o1) = height.multipliedReportingOverflow(by: width)
        let (expected, o2) = pixels.multipliedReportingOverflow(by: channels)
        guard !o1, !o2, bytes.count == expected else {
            throw ImagingError(.shapeMismatch, "a raw tensor of shape \(shape) needs \(o1 || o2 ? "more than Int.max" : String(expected)) bytes; got \(bytes.count)")
        }
        return try PixelView(bytes, width: width, height: height, layout: layout)
    }

    /// Row `y`'s first byte; `y` must be in 0..<height.
    @inline(__always)
    func row(_ y: Int) -> UnsafePointer<UInt8> {
        (base + y * rowBytes).assumingMemoryBound(to: UInt8.self)
    }
}
