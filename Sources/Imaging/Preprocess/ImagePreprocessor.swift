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

    /// `maxPixels`, when given, replaces `spec.limits.maxDecodedPixels`.
    public init(spec: PreprocessSpec = .imagenet, maxPixels: Int? = nil) throws {
        var spec = spec
        if let maxPixels { spec.limits.maxDecodedPixels = maxPixels }
        try spec.validate()
        self.spec = spec
        decoder = try ImageDecoder(limits: spec.limits)
        normalizer = Normalizer(spec)
    }

    /// The limits every image is checked against (`spec.limits`).
    public var limits: ImageLimits { spec.limits }

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

    /// Values in the output for an image of `width` × `height` pixels (3 × output height × output width),
    /// checked against the limits before the caller allocates them.
    public func outputCount(width: Int, height: Int) throws -> Int {
        let size = try spec.checkedOutputSize(width: width, height: height)
        return 3 * size.width * size.height
    }

    /// Decodes JPEG or PNG `bytes` and writes the model input into `output`.
    @discardableResult
    public func preprocess(encoded bytes: UnsafeRawBufferPointer, into output: PreprocessOutput) throws -> Report {
        var minimum: (width: Int, height: Int)?
        if spec.fastDecode {
            switch spec.resize {
            case let .shorterSide(n), let .shorterSideAtMost(n, _): minimum = (n, n)
            case let .exact(size): minimum = (size.width, size.height)
            case .none: minimum = nil
            }
        }
        // The output and intermediate sizes are checked from the header, before the decoder allocates.
        let decoded = try decoder.decode(bytes, reduceTo: minimum) { width, height, denominator in
            _ = try checkGeometry(width: width, height: height, denominator: denominator)
        }
        try resample(decoded.pixels, width: decoded.width, height: decoded.height, denominator: decoded.scaleDenominator,
                     hasSlack: true, into: output)
        return Report(format: decoded.format, width: decoded.width, height: decoded.height,
                      scaleDenominator: decoded.scaleDenominator, warnings: decoded.warnings)
    }

    /// Writes the model input for pixels already in memory (a raw HWC tensor, a decoded image).
    public func preprocess(_ pixels: PixelView, into output: PreprocessOutput) throws {
        try resample(pixels, width: pixels.width, height: pixels.height, denominator: 1, hasSlack: false, into: output)
    }

    /// Writes the model input for a raw HWC uint8 tensor of shape [height, width, channels].
    public func preprocess(tensor bytes: UnsafeRawBufferPointer, shape: [Int], into output: PreprocessOutput) throws {
        try preprocess(try PixelView.tensor(bytes, shape: shape), into: output)
    }

    /// `pixels` hold an image stored as `width` × `height`, reduced by `denominator` when decoded.
    private func resample(_ pixels: PixelView, width: Int, height: Int, denominator: Int, hasSlack: Bool,
                          into output: PreprocessOutput) throws {
        let (x, y) = try checkGeometry(width: width, height: height, denominator: denominator)
        let pixelsOut = x.outputSize * y.outputSize
        guard output.count == 3 * pixelsOut else {
            throw ImagingError(.invalidArgument, "the output slot holds \(output.count) values; a \(x.outputSize)×\(y.outputSize) RGB image needs \(3 * pixelsOut)")
        }
        let source = Source(pixels: pixels, in1X: Double(width) / Double(denominator), in1Y: Double(height) / Double(denominator),
                            hasSlack: hasSlack)
        if case let .nhwcUInt8(buffer) = output, let base = buffer.baseAddress, pixels.layout == .rgb, !x.isPadded, !y.isPadded,
           source.identityX, source.identityY, x.resizedSize == pixels.width, y.resizedSize == pixels.height {
            Self.copyCrop(pixels, x, y, into: base)
            return
        }
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
        /// The buffer has `ScratchBuffer.slack` readable bytes after its last row (a decoder's own buffer).
        var hasSlack: Bool
        var identityX: Bool { in1X == Double(pixels.width) }
        var identityY: Bool { in1Y == Double(pixels.height) }
    }

    /// The crop geometry of an image stored as `width` × `height` and decoded reduced by `denominator`,
    /// after checking what it will take: the output against `maxOutputElements`, and the horizontal pass's
    /// intermediate rows (one row of kept output columns for every source row the kept output rows read; a
    /// tall image squeezed onto a wide output needs many) against `maxDecodedPixels`.
    private func checkGeometry(width: Int, height: Int, denominator: Int) throws -> (x: AxisGeometry, y: AxisGeometry) {
        _ = try spec.checkedOutputSize(width: width, height: height)
        let resized = spec.resizedSize(width: width, height: height)
        let x = spec.crop.map { AxisGeometry(resizedSize: resized.width, crop: $0.width) } ?? AxisGeometry(uncropped: resized.width)
        let y = spec.crop.map { AxisGeometry(resizedSize: resized.height, crop: $0.height) } ?? AxisGeometry(uncropped: resized.height)
        let kept = y.keptResized
        guard !kept.isEmpty else { return (x, y) }
        let sourceRows = Double((height + denominator - 1) / denominator)
        let scale = Double(height) / Double(denominator) / Double(y.resizedSize)
        let support = max(scale, 1)
        let firstRow = max(0, Double(kept.lowerBound) * scale - support)
        let endRow = min(sourceRows, Double(kept.upperBound) * scale + support + 1)
        let pixels = Double(x.keptResized.count) * max(1, endRow - firstRow)
        guard pixels <= Double(spec.limits.maxDecodedPixels) else {
            throw ImagingError(.tooLarge, "resizing \(width)×\(height) to \(x.resizedSize)×\(y.resizedSize) "
                + "needs \(Int(pixels)) intermediate pixels, over the limit of \(spec.limits.maxDecodedPixels) "
                + "(ImageLimits.maxDecodedPixels, which `sluice run` derives from --max-memory)")
        }
        return (x, y)
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
            var end = firstRow
            for (first, count) in zip(verticalWeights.first, verticalWeights.count) { end = max(end, first + count) }
            rowCount = end - firstRow
        }
        if !copyX {
            horizontalWeights.compute(inputSize: pixels.width, in0: 0, in1: source.in1X, outputSize: x.resizedSize, outputs: keptX)
            horizontalKernel.build(horizontalWeights, rowWidth: pixels.width)
        }

        // Rows of RGBX pixels, one per kept output column, padded to whole 8-pixel vectors: the horizontal
        // pass's output for every source row the vertical pass reads (one row at a time when there is no
        // vertical pass).
        let columns = keptX.count
        let stride = (columns + 7) & ~7
        let rows = planes.reserve(stride * (copyY ? 1 : rowCount), of: UInt32.self)
        let inputWidth = copyX ? stride : horizontalKernel.readableWidth
        let converted = rowBuffer.reserve(inputWidth, of: UInt32.self)
        let outX = x.keptOutput.lowerBound, outY = y.keptOutput.lowerBound

        horizontalKernel.start.withUnsafeBufferPointer { start in
            horizontalKernel.vectors.withUnsafeBufferPointer { vectors in
                for row in firstRow..<(firstRow + rowCount) {
                    let lastRow = row == pixels.height - 1 && !source.hasSlack
                    var output: UnsafePointer<UInt32>
                    if copyX {
                        // The kept columns, in place when 8-pixel loads stay inside the buffer.
                        if pixels.layout == .rgbx && (!lastRow || keptX.lowerBound + stride <= pixels.width) {
                            output = UnsafeRawPointer(pixels.row(row)).assumingMemoryBound(to: UInt32.self) + keptX.lowerBound
                        } else {
                            Self.convertToRGBX(pixels.row(row), pixels.layout, from: keptX.lowerBound, count: columns, into: converted, paddedTo: stride)
                            output = UnsafePointer(converted)
                        }
                        if !copyY {
                            (rows + (row - firstRow) * stride).update(from: output, count: stride)
                        }
                    } else {
                        guard let startBase = start.baseAddress, let vectorBase = vectors.baseAddress else { return }
                        var input = UnsafeRawPointer(pixels.row(row)).assumingMemoryBound(to: UInt32.self)
                        if pixels.layout != .rgbx || horizontalKernel.readableWidth > pixels.width {
                            Self.convertToRGBX(pixels.row(row), pixels.layout, from: 0, count: pixels.width, into: converted,
                                               paddedTo: horizontalKernel.readableWidth)
                            input = UnsafePointer(converted)
                        }
                        let destination = rows + (copyY ? 0 : (row - firstRow) * stride)
                        ResampleKernels.horizontal(input, startBase, vectorBase, outputs: columns, pairs: horizontalKernel.pairs, destination)
                        output = UnsafePointer(destination)
                    }
                    if copyY {
                        sink.writeRow(y: outY + row - keptY.lowerBound, x: outX, output, count: columns)
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
                    let (r, g, b) = ResampleKernels.vertical(rows, stride: stride, x: column, first: first, count: count, w)
                    sink.write(y: outY + i, x: outX + column, r, g, b, count: min(8, columns - column))
                    column += 8
                }
            }
        }
    }

    /// uint8 RGB output of an image that needs no resize: the crop's rows, copied as they are.
    /// Invariant: the crop lies inside the image (neither axis padded) and `output` holds the crop's 3 × w × h bytes.
    private static func copyCrop(_ pixels: PixelView, _ x: AxisGeometry, _ y: AxisGeometry, into output: UnsafeMutablePointer<UInt8>) {
        let rowBytes = 3 &* x.outputSize
        for row in 0..<y.outputSize {
            (output + row &* rowBytes).update(from: pixels.row(y.cropOffset &+ row) + 3 &* x.cropOffset, count: rowBytes)
        }
    }

    /// Copies pixels `from..<from + count` of a row as RGBX into `out`, zero-filled up to `paddedTo` pixels.
    /// Invariant: the row holds at least `from + count` pixels; `out` has `max(count, paddedTo)` pixels.
    private static func convertToRGBX(_ row: UnsafePointer<UInt8>, _ layout: PixelLayout, from: Int, count: Int,
                                      into out: UnsafeMutablePointer<UInt32>, paddedTo: Int) {
        switch layout {
        case .rgbx:
            UnsafeMutableRawPointer(out).copyMemory(from: row + from &* 4, byteCount: count &* 4)
        case .rgb:
            let p = UnsafeRawPointer(row + from &* 3)
            // Four-byte loads read one byte past each pixel, so the last pixel is assembled byte by byte.
            for i in 0..<(count - 1) {
                out[i] = p.loadUnaligned(fromByteOffset: i &* 3, as: UInt32.self) & 0x00FF_FFFF
            }
            let last = (count - 1) &* 3
            out[count - 1] = UInt32(p.load(fromByteOffset: last, as: UInt8.self))
                | UInt32(p.load(fromByteOffset: last + 1, as: UInt8.self)) &<< 8
                | UInt32(p.load(fromByteOffset: last + 2, as: UInt8.self)) &<< 16
        case .gray:
            let p = row + from
            for i in 0..<count {
                out[i] = UInt32(p[i]) &* 0x0001_0101
            }
        }
        if paddedTo > count {
            (out + count).update(repeating: 0, count: paddedTo - count)
        }
    }
}
