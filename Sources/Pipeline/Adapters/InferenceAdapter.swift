import Inference
import ONNX
import SeededRandom

/// A torchvision ResNet, or an ONNX model (`model` a path ending in .onnx), compiled by the oneDNN backend (CPU)
/// or the CUDA backend (`placement` a GPU), as the pipeline's model.
public struct ResNetFactory: ModelFactory {
    public let model: String
    public let weights: String?
    public let precision: Precision
    /// Where int8's calibration samples come from.
    public let calibration: CalibrationSource?
    /// `calibration` once read or collected from the input (`AutoCalibration`): what the backend gets.
    public let calibrationSamples: Tensor?
    /// The calibration pass's statistics, measured by the first copy compiled and reused by the others.
    private let calibrationMemo = CalibrationMemo()
    public let convolutionAlgorithm: ConvolutionAlgorithm
    /// The CPU, or the GPUs the copies are spread over (`DevicePlacement.ordinal(ofCopy:)`).
    public let placement: DevicePlacement
    /// On a GPU: the job's normalisation, so the model reads uint8 HWC crops and normalises them on the device;
    /// nil: the model reads normalised float32 NCHW (`predict`, `.npy` inputs).
    public let inputNormalization: InputNormalization?
    /// The copies compiled on one GPU upload its weights once.
    private let gpuWeights = CUDAWeightShare()
    /// int8 on the CPU: the top-1 agreement with float32 on the calibration samples that the layers kept in
    /// float32 must bring int8 to (`OneDNNBackend.int8AgreementTarget`); nil: every layer with an int8 kernel.
    public let int8AgreementTarget: Double?

    public init(model: String, weights: String?, precision: Precision, calibration: CalibrationSource?,
                calibrationSamples: Tensor? = nil, convolutionAlgorithm: ConvolutionAlgorithm = .fastest,
                placement: DevicePlacement = .cpu, inputNormalization: InputNormalization? = nil, int8AgreementTarget: Double? = nil) {
        self.int8AgreementTarget = int8AgreementTarget
        self.model = model
        self.weights = weights
        self.precision = precision
        self.calibration = calibration
        self.calibrationSamples = calibrationSamples
        self.convolutionAlgorithm = convolutionAlgorithm
        self.placement = placement
        self.inputNormalization = inputNormalization
    }

    /// Calibration from a .npy file (nil: none).
    public init(model: String, weights: String?, precision: Precision, calibration path: String? = nil,
                convolutionAlgorithm: ConvolutionAlgorithm = .fastest) {
        self.init(model: model, weights: weights, precision: precision, calibration: path.map(CalibrationSource.file),
                  convolutionAlgorithm: convolutionAlgorithm)
    }

    /// The same model calibrated on `samples` (collected from the input for `--calibration auto`).
    public func calibrated(with samples: Tensor) -> ResNetFactory {
        ResNetFactory(model: model, weights: weights, precision: precision, calibration: calibration, calibrationSamples: samples,
                      convolutionAlgorithm: convolutionAlgorithm, placement: placement, inputNormalization: inputNormalization,
                      int8AgreementTarget: int8AgreementTarget)
    }

    /// The same model on `placement`, reading uint8 crops normalised by `normalization` there when it is a GPU.
    public func placed(on placement: DevicePlacement, normalization: InputNormalization?) -> ResNetFactory {
        ResNetFactory(model: model, weights: weights, precision: precision, calibration: calibration, calibrationSamples: calibrationSamples,
                      convolutionAlgorithm: convolutionAlgorithm, placement: placement, inputNormalization: placement.isGPU ? normalization : nil,
                      int8AgreementTarget: int8AgreementTarget)
    }

    /// For timing only (`sluice bench`'s model-only rows, which have no dataset): `auto` calibration on seeded
    /// samples uniform in [-2, 2], the range of normalised images; the scales they give do not change the speed.
    public func calibratedOnSeededSamples(count: Int) throws -> ResNetFactory {
        let shape = try graph().inputShape
        var random = SplitMix64(seed: 17)
        let values = (0..<(count * shape.reduce(1, *))).map { _ in Float(random.next() >> 40) / Float(1 << 24) * 4 - 2 }
        return calibrated(with: try Tensor(shape: [count] + shape, values: values))
    }

    /// Whether the samples must still be collected from an input dataset.
    public var needsAutoCalibration: Bool {
        if case .auto = calibration, precision == .int8, calibrationSamples == nil { return true }
        return false
    }

    public var name: String { "\(model) \(precision.rawValue)" + (placement.isGPU ? " on \(placement)" : "") }

    public func makeModel(batchSize: Int, threads: Int) throws -> any ClassifierModel {
        try makeModel(batchSize: batchSize, threads: threads, copy: 0)
    }

    public func makeModel(batchSize: Int, threads: Int, copy: Int) throws -> any ClassifierModel {
        CompiledClassifier(try compile(batchSize: batchSize, threads: threads, copy: copy))
    }

    /// The model's graph: imported from an ONNX file, or a ResNet built from --weights or seeded weights.
    public func graph() throws -> Graph {
        guard model.lowercased().hasSuffix(".onnx") else { return try ModelZoo.graph(model, weightsPath: weights) }
        guard weights == nil else {
            throw InferenceError(.unsupported, "--weights applies to the named ResNets; an ONNX model carries its own weights")
        }
        do { return try ONNXModel.load(path: model).graph } catch let error as ONNXError {
            throw InferenceError(.invalidGraph, error.description)
        }
    }

    /// The model compiled by the oneDNN backend (threads nil: every core), or by the CUDA backend on the GPU of
    /// model copy `copy`.
    public func compile(batchSize: Int, threads: Int?, copy: Int = 0) throws -> any CompiledModel {
        let graph = try graph()
        if let device = placement.ordinal(ofCopy: copy) {
            _ = try placement.precision(precision)
            return try CUDARuntime.backend(device: device, normalization: inputNormalization, weights: gpuWeights)
                .compile(graph, batchSize: batchSize, precision: precision)
        }
        let samples = try calibrationTensor()
        return try OneDNNBackend(threads: threads, calibration: samples, calibrationMemo: calibrationMemo,
                                 convolutionAlgorithm: convolutionAlgorithm, int8AgreementTarget: int8AgreementTarget)
            .compile(graph, batchSize: batchSize, precision: precision)
    }

    /// What the int8 layer search chose, once a copy was compiled with an agreement target.
    public var int8Fallback: Int8FallbackReport? { calibrationMemo.fallbackReport }
}

extension ResNetFactory {
    /// The samples the backend calibrates on (only int8 uses them).
    func calibrationTensor() throws -> Tensor? {
        guard precision == .int8 else { return nil }
        if let calibrationSamples { return calibrationSamples }
        switch calibration {
        case nil: return nil
        case let .file(path)?: return try NumpyFile.read(path: path)
        case let .auto(count)?:
            throw InferenceError(.unsupported, "--calibration auto:\(count) takes the first images of an input dataset, and this command has none: give --calibration FILE.npy (a float32 [N, 3, H, W] batch of preprocessed inputs)")
        }
    }
}

/// Runs a compiled model on batches of any size up to (and beyond) the size it was compiled for.
final class CompiledClassifier: ClassifierModel {
    let compiled: any CompiledModel

    init(_ compiled: any CompiledModel) { self.compiled = compiled }

    var inputShape: [Int] { compiled.inputShape }
    var classCount: Int { compiled.outputShape.reduce(1, *) }

    var inputEncoding: ModelInputEncoding { compiled.inputEncoding }
    var hostAllocator: (any HostMemoryAllocator)? { compiled.hostAllocator }
    var deviceStatistics: DeviceStatistics? { compiled.deviceStatistics }

    /// uint8 HWC crops, one byte per element.
    func classify(pixels: UnsafeRawBufferPointer, count: Int, logits: UnsafeMutableBufferPointer<Float>) throws {
        let perInput = inputElements, perOutput = classCount
        var done = 0
        while done < count {
            let n = min(compiled.batchSize, count - done)
            try compiled.run(pixels: UnsafeRawBufferPointer(rebasing: pixels[(done * perInput)..<((done + n) * perInput)]), count: n,
                             output: UnsafeMutableBufferPointer(rebasing: logits[(done * perOutput)..<((done + n) * perOutput)]))
            done += n
        }
    }

    func classify(_ input: UnsafeBufferPointer<Float>, count: Int, logits: UnsafeMutableBufferPointer<Float>) throws {
        let perInput = inputElements, perOutput = classCount
        var done = 0
        while done < count {
            let n = min(compiled.batchSize, count - done)
            try compiled.run(input: UnsafeBufferPointer(rebasing: input[(done * perInput)..<((done + n) * perInput)]), count: n,
                             output: UnsafeMutableBufferPointer(rebasing: logits[(done * perOutput)..<((done + n) * perOutput)]))
            done += n
        }
    }
}
