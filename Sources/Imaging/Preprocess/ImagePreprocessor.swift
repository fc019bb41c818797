/// Turns an image (JPEG/PNG bytes or raw HWC pixels) into exactly what torchvision's evaluation transform
/// gives the model, written straight into a caller's batch slot. Resize, crop and normalisation are one
/// fused pass that computes only the pixels the crop keeps and writes each output value once.
///
/// One per worker thread: it owns the decoders and all scratch memory, which every image reuses, so the
/// hot path allocates nothing once the largest image has been seen (the codec libraries keep their own
/// per-image state).
public final class ImagePreprocessor {
    public let spec: PreprocessSpec
    public let decoder: ImageDecoder
    private let normalizer: Normalizer
    private var horizontalWeights = FilterWeights()
    private var verticalWeights = FilterWeights()
    private var horizontalKernel = ResampleKernels.HorizontalKernel()
    private let planes = ScratchBuffer()
    private let rowBuffer = ScratchBuffer()

    public init(spec: PreprocessSpec = .imagenet, maxPixels: Int = JPEGDecoder.defaultMaxPixels) throws {
        try spec.validate()
        self.spec = spec
        decoder = try ImageDecoder(maxPixels: maxPixels)
        normalizer = Normalizer(spec)
    }

    /// What happened to one encoded image.
    public struct Report: Sendable {
        public var format: ImageFormat
        /// The stored size of the image.
        public var width: Int
        public var height: Int
        /// 1, or the DCT-domain reduction fast decode used.
        public var scaleDenominator: Int
        /// Recoverable decoder warnings (the image was still decoded).
        public var warnings: [String]
    }

    /// Values in the output for an image of `width` × `height` pixels (3 × output height × output width).
    public func outputCount(width: Int, height: Int) -> Int {
        let size = spec.outputSize(width: width, height: height)
        return 3 * size.width * size.height
    }

    /// Decodes JPEG or PNG `bytes` and writes the model input into `output`.
    @discardableResult
    public func preprocess(encoded bytes: UnsafeRawBufferPointer, into output: PreprocessOutput) throws -> Report {
        var minimum: (width: Int, height: Int)?
        if spec.fastDecode {
            switch spec.resize {
            case let .shorterSide(n): minimum = (n, n)
            case let .exact(size): minimum = (size.width, size.height)
            case .none: minimum = nil
            }
        }
        let decoded = try decoder.decode(bytes, reduceTo: minimum)
        try resample(decoded.pixels, width: decoded.width, height: decoded.height, denominator: decoded.scaleDenominator, into: output)
        return Report(format: decoded.format, width: decoded.width, height: decoded.height,
                      scaleDenominator: decoded.scaleDenominator, warnings: decoded.warnings)
    }

    /// Writes the model input for pixels already in memory (a raw HWC tensor, a decoded image).
    public func preprocess(_ pixels: PixelView, into output: PreprocessOutput) throws {
        try resample(pixels, width: pixels.width, height: pixels.height, denominator: 1, into: output)
    }

    /// Writes the model input for a raw HWC uint8 tensor of shape [height, width, channels].
    public func preprocess(tensor bytes: UnsafeRawBufferPointer, shape: [Int], into output: PreprocessOutput) throws {
        try preprocess(try PixelView.tensor(bytes, shape: shape), into: output)
    }

    /// `pixels` hold an image stored as `width` × `height`, reduced by `denominator` when decoded.
    private func resample(_ pixels: PixelView, width: Int, height: Int, denominator: Int, into output: PreprocessOutput) throws {
        let resized = spec.resizedSize(width: width, height: height)
        guard resized.width > 0, resized.height > 0 else {
            throw ImagingError(.invalidArgument, "resizing \(width)×\(height) gives \(resized), an empty image")
        }
        let x = spec.crop.map { AxisGeometry(resizedSize: resized.width, crop: $0.width) } ?? AxisGeometry(uncropped: resized.width)
        let y = spec.crop.map { AxisGeometry(resizedSize: resized.height, crop: $0.height) } ?? AxisGeometry(uncropped: resized.height)
        let pixelsOut = x.outputSize * y.outputSize
        guard output.count == 3 * pixelsOut else {
            throw ImagingError(.invalidArgument, "the output slot holds \(output.count) values; a \(x.outputSize)×\(y.outputSize) RGB image needs \(3 * pixelsOut)")
        }
        let source = Source(pixels: pixels, in1X: Double(width) / Double(denominator), in1Y: Double(height) / Double(denominator))
        switch output {
        case let .nchwFloat32(buffer):
            guard let base = buffer.baseAddress else { return }
            run(source, x, y, NCHWFloatSink(base: base, width: x.outputSize, plane: pixelsOut, normalize: normalizer))
        case let .nhwcFloat32(buffer):
            guard let base = buffer.baseAddress else { return }
            run(source, x, y, NHWCFloatSink(base: base, width: x.outputSize, pixels: pixelsOut, normalize: normalizer))
        case let .nhwcUInt8(buffer):
            guard let base = buffer.baseAddress else { return }
            run(source, x, y, NHWCByteSink(base: base, width: x.outputSize, pixels: pixelsOut))
        }
    }

    /// The input pixels and the span of them that maps onto the resized image: [0, in1) on each axis,
    /// in pixels of `pixels` (smaller than its size when a JPEG was reduced by a non-divisor).
    private struct Source {
        var pixels: PixelView
        var in1X: Double
        var in1Y: Double
        var identityX: Bool { in1X == Double(pixels.width) }
        var identityY: Bool { in1Y == Double(pixels.height) }
    }

    private func run<Sink: PixelSink>(_ source: Source, _ x: AxisGeometry, _ y: AxisGeometry, _ sink: Sink) {
        if x.isPadded || y.isPadded { sink.fillPadding() }
        let keptX = x.keptResized, keptY = y.keptResized
        guard !keptX.isEmpty, !keptY.isEmpty else { return }
        let pixels = source.pixels
        let copyX = source.identityX && x.resizedSize == pixels.width
        let copyY = source.identityY && y.resizedSize == pixels.height

        // Rows of the source the kept output rows read.
        var firstRow = keptY.lowerBound, rowCount = keptY.count
        if !copyY {
            verticalWeights.compute(inputSize: pixels.height, in0: 0, in1: source.in1Y, outputSize: y.resizedSize, outputs: keptY)
            firstRow = verticalWeights.first.min() ?? 0
            let end = zip(verticalWeights.first, verticalWeights.count).map { $0 + $1 }.max() ?? firstRow
            rowCount = max(0, end - firstRow)
        }
        if !copyX {
            horizontalWeights.compute(inputSize: pixels.width, in0: 0, in1: source.in1X, outputSize: x.resizedSize, outputs: keptX)
            horizontalKernel.build(horizontalWeights, rowWidth: pixels.width)
        }

        // The horizontal pass's output: three planes of `rowCount` rows (one row when nothing is resized
        // vertically), each row padded to whole 16-byte vectors.
        let columns = keptX.count
        let stride = (columns + 15) & ~15
        let planeRows = copyY ? 1 : rowCount
        let planeBytes = stride * planeRows
        let planeBase = planes.reserve(3 * planeBytes).assumingMemoryBound(to: UInt8.self)
        let red = planeBase, green = planeBase + planeBytes, blue = planeBase + 2 * planeBytes
        let rowCopy: UnsafeMutablePointer<UInt8>? =
            !copyX && (pixels.layout != .rgbx || horizontalKernel.readableWidth > pixels.width)
            ? rowBuffer.reserve(horizontalKernel.readableWidth * 4).assumingMemoryBound(to: UInt8.self) : nil
        let outX = x.keptOutput.lowerBound, outY = y.keptOutput.lowerBound

        horizontalKernel.start.withUnsafeBufferPointer { start in
            horizontalKernel.vectors.withUnsafeBufferPointer { vectors in
                for row in firstRow..<(firstRow + rowCount) {
                    let offset = copyY ? 0 : (row - firstRow) * stride
                    let r = red + offset, g = green + offset, b = blue + offset
                    if copyX {
                        Self.splitChannels(pixels.row(row), pixels.layout, from: keptX.lowerBound, count: columns, r, g, b)
                    } else if let startBase = start.baseAddress, let vectorBase = vectors.baseAddress {
                        var input = pixels.row(row)
                        if let rowCopy {
                            Self.expandToRGBX(input, pixels.layout, width: pixels.width, into: rowCopy, readableWidth: horizontalKernel.readableWidth)
                            input = UnsafePointer(rowCopy)
                        }
                        ResampleKernels.horizontal(input, startBase, vectorBase, outputs: columns, groups: horizontalKernel.groups, r, g, b)
                    }
                    if copyY {
                        Self.emitRow(r, g, b, columns: columns, y: outY + row - keptY.lowerBound, x: outX, sink)
                    }
                }
            }
        }
        guard !copyY else { return }
        verticalWeights.weights.withUnsafeBufferPointer { weights in
            guard let weightBase = weights.baseAddress else { return }
            let taps = verticalWeights.taps
            for i in 0..<keptY.count {
                let first = verticalWeights.first[i] - firstRow, count = verticalWeights.count[i]
                let w = weightBase + i * taps
                var column = 0
                while column < columns {
                    let r = ResampleKernels.vertical(red, stride: stride, x: column, first: first, count: count, w)
                    let g = ResampleKernels.vertical(green, stride: stride, x: column, first: first, count: count, w)
                    let b = ResampleKernels.vertical(blue, stride: stride, x: column, first: first, count: count, w)
                    sink.write(y: outY + i, x: outX + column, r, g, b, count: min(16, columns - column))
                    column += 16
                }
            }
        }
    }

    /// Sends one planar row to the sink in 16-pixel pieces.
    /// Invariant: r, g, b have `columns` rounded up to 16 readable bytes.
    @inline(__always)
    private static func emitRow<Sink: PixelSink>(_ r: UnsafePointer<UInt8>, _ g: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>,
                                                 columns: Int, y: Int, x: Int, _ sink: Sink) {
        var column = 0
        while column < columns {
            sink.write(y: y, x: x + column, ResampleKernels.load16(r + column), ResampleKernels.load16(g + column),
                       ResampleKernels.load16(b + column), count: min(16, columns - column))
            column += 16
        }
    }

    /// Copies pixels `from..<from + count` of a row into three planes.
    /// Invariant: the row holds at least `from + count` pixels; r, g, b have `count` writable bytes.
    private static func splitChannels(_ row: UnsafePointer<UInt8>, _ layout: PixelLayout, from: Int, count: Int,
                                      _ r: UnsafeMutablePointer<UInt8>, _ g: UnsafeMutablePointer<UInt8>, _ b: UnsafeMutablePointer<UInt8>) {
        switch layout {
        case .rgbx:
            let p = row + from * 4
            for i in 0..<count {
                r[i] = p[4 * i]
                g[i] = p[4 * i + 1]
                b[i] = p[4 * i + 2]
            }
        case .rgb:
            let p = row + from * 3
            for i in 0..<count {
                r[i] = p[3 * i]
                g[i] = p[3 * i + 1]
                b[i] = p[3 * i + 2]
            }
        case .gray:
            let p = row + from
            r.update(from: p, count: count)
            g.update(from: p, count: count)
            b.update(from: p, count: count)
        }
    }

    /// Copies a row as RGBX pixels into `out`, zero-filled from `width` to `readableWidth` pixels.
    /// Invariant: the row holds `width` pixels; `out` has `readableWidth * 4` writable bytes.
    private static func expandToRGBX(_ row: UnsafePointer<UInt8>, _ layout: PixelLayout, width: Int,
                                     into out: UnsafeMutablePointer<UInt8>, readableWidth: Int) {
        switch layout {
        case .rgbx:
            out.update(from: row, count: width * 4)
        case .rgb:
            for i in 0..<width {
                out[4 * i] = row[3 * i]
                out[4 * i + 1] = row[3 * i + 1]
                out[4 * i + 2] = row[3 * i + 2]
                out[4 * i + 3] = 0
            }
        case .gray:
            for i in 0..<width {
                let v = row[i]
                out[4 * i] = v
                out[4 * i + 1] = v
                out[4 * i + 2] = v
                out[4 * i + 3] = 0
            }
        }
        if readableWidth > width {
            (out + width * 4).update(repeating: 0, count: (readableWidth - width) * 4)
        }
    }
}
