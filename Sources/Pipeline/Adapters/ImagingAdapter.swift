import Imaging
import Inference

/// The Imaging module's fused decode/resize/crop/normalise, as the pipeline's preprocessor. Each worker
/// thread gets its own `ImagePreprocessor` (decoders and scratch are per worker).
public struct StandardPreprocessor: RecordPreprocessor {
    public let spec: PreprocessSpec

    public init(spec: PreprocessSpec = .imagenet) throws {
        try spec.validate()
        guard spec.fixedOutputSize != nil else {
            throw PipelineError.configuration("batches need one output size for every image: give a crop size")
        }
        self.spec = spec
    }

    public var outputShape: [Int] {
        let size = spec.fixedOutputSize ?? .init(width: 0, height: 0)
        return [3, size.height, size.width]
    }

    public func makeWorker(memoryShare: Int) -> any PreprocessWorker {
        var spec = spec
        let share = ImageLimits(memoryBudget: memoryShare)
        spec.limits = ImageLimits(maxDecodedPixels: min(spec.limits.maxDecodedPixels, share.maxDecodedPixels),
                                  maxOutputElements: min(spec.limits.maxOutputElements, share.maxOutputElements),
                                  maxEncodedBytes: min(spec.limits.maxEncodedBytes, share.maxEncodedBytes))
        return Worker(spec: spec)
    }

    final class Worker: PreprocessWorker {
        private let spec: PreprocessSpec
        private var preprocessor: ImagePreprocessor?

        init(spec: PreprocessSpec) { self.spec = spec }

        func preprocess(_ payload: RecordPayload, into slot: UnsafeMutableBufferPointer<Float>) throws {
            if preprocessor == nil { preprocessor = try ImagePreprocessor(spec: spec) }
            guard let preprocessor else { return }
            switch payload {
            case let .pixels(bytes, shape):
                try preprocessor.preprocess(tensor: bytes, shape: shape, into: .nchwFloat32(slot))
            case let .encoded(bytes):
                try preprocessor.preprocess(encoded: bytes, into: .nchwFloat32(slot))
            case let .preprocessed(values, shape):
                try RecordPayload.copy(values, shape: shape, into: slot)
            }
        }

        /// The resized crop's uint8 pixels, HWC: for a raw tensor that needs no resize, a copy of the crop's rows.
        func preprocess(_ payload: RecordPayload, intoPixels slot: UnsafeMutableBufferPointer<UInt8>) throws {
            if preprocessor == nil { preprocessor = try ImagePreprocessor(spec: spec) }
            guard let preprocessor else { return }
            switch payload {
            case let .pixels(bytes, shape):
                try preprocessor.preprocess(tensor: bytes, shape: shape, into: .nhwcUInt8(slot))
            case let .encoded(bytes):
                try preprocessor.preprocess(encoded: bytes, into: .nhwcUInt8(slot))
            case .preprocessed:
                throw RecordPayload.preprocessedIntoPixels
            }
        }
    }
}

extension PreprocessSpec {
    /// The normalisation a GPU model applies to the uint8 crops: (x / divisor − mean) / std per channel.
    public var inputNormalization: InputNormalization {
        InputNormalization(mean: [mean[0], mean[1], mean[2]], std: [std[0], std[1], std[2]], divisor: divisor)
    }
}
