/// Where the output of resize-then-center-crop comes from, along one axis: the output has `outputSize`
/// pixels; output pixel i is pixel `cropOffset + i` of the resized axis (`resizedSize` pixels), which
/// exists only for i in `kept` (outside it, torchvision pads with zeros).
struct AxisGeometry: Equatable {
    var resizedSize: Int
    var outputSize: Int
    /// May be negative: the crop is larger than the resized image and starts in the padding.
    var cropOffset: Int

    /// torchvision's `CenterCrop` along one axis of `size` pixels: pads (crop - size) // 2 before when the
    /// crop is larger, else offsets by round((size - crop) / 2) with Python's round-half-to-even.
    init(resizedSize: Int, crop: Int) {
        self.resizedSize = resizedSize
        outputSize = crop
        if crop > resizedSize {
            cropOffset = -((crop - resizedSize) / 2)
        } else {
            cropOffset = Int((Double(resizedSize - crop) / 2).rounded(.toNearestOrEven))
        }
    }

    init(uncropped size: Int) {
        resizedSize = size
        outputSize = size
        cropOffset = 0
    }

    /// The resized pixels the output keeps.
    var keptResized: Range<Int> {
        let lower = max(0, cropOffset), upper = min(resizedSize, cropOffset + outputSize)
        return lower < upper ? lower..<upper : 0..<0
    }

    /// Where the kept pixels land in the output.
    var keptOutput: Range<Int> {
        let kept = keptResized
        return (kept.lowerBound - cropOffset)..<(kept.upperBound - cropOffset)
    }

    var isPadded: Bool { keptResized.count < outputSize }
}
