import Inference

/// What the pipeline needs from a classifier: batches in the encoding it reads (`inputEncoding`: normalised NCHW
/// float32, or uint8 HWC crops for a model that normalises on its device), logits out. The Inference module's
/// compiled models conform; tests use small stand-ins.
public protocol ClassifierModel: AnyObject {
    /// Per-image input: channels, height, width.
    var inputShape: [Int] { get }
    var classCount: Int { get }
    /// Runs `count` images laid out contiguously in `input`; writes `count * classCount` logits.
    func classify(_ input: UnsafeBufferPointer<Float>, count: Int, logits: UnsafeMutableBufferPointer<Float>) throws

    /// What `classify` reads: `.float32NCHW` unless the model says otherwise.
    var inputEncoding: ModelInputEncoding { get }
    /// Runs `count` uint8 HWC crops laid out contiguously in `pixels` (models whose encoding is `.uint8NHWC`).
    func classify(pixels: UnsafeRawBufferPointer, count: Int, logits: UnsafeMutableBufferPointer<Float>) throws
    /// Where input batches should live (pinned memory for a GPU's copy engines); nil: ordinary memory.
    var hostAllocator: (any HostMemoryAllocator)? { get }
    /// Device time and transfers since the model was built (models on an accelerator); nil on the CPU.
    var deviceStatistics: DeviceStatistics? { get }
}

extension ClassifierModel {
    public var inputElements: Int { inputShape.reduce(1, *) }

    public var inputEncoding: ModelInputEncoding { .float32NCHW }
    public var hostAllocator: (any HostMemoryAllocator)? { nil }
    public var deviceStatistics: DeviceStatistics? { nil }

    public func classify(pixels: UnsafeRawBufferPointer, count: Int, logits: UnsafeMutableBufferPointer<Float>) throws {
        throw PipelineError.inference("this model reads normalised float32 NCHW input, not uint8 pixels")
    }

    /// The element type of the batches the model reads.
    public var inputElement: InputElement { inputEncoding.element }
}

/// The element type of a batch's model input.
public enum InputElement: String, Sendable, Equatable {
    /// Normalised float32, CHW per image.
    case float32
    /// Raw uint8 pixels of the crop, HWC per image.
    case uint8

    public var byteWidth: Int {
        switch self {
        case .float32: 4
        case .uint8: 1
        }
    }
}

extension ModelInputEncoding {
    public var element: InputElement {
        switch self {
        case .float32NCHW: .float32
        case .uint8NHWC: .uint8
        }
    }
}

/// One record's payload, borrowed for the duration of a preprocessing call.
public enum RecordPayload {
    /// HWC uint8 pixels.
    case pixels(UnsafeRawBufferPointer, shape: [Int])
    /// Encoded image bytes (JPEG, PNG).
    case encoded(UnsafeRawBufferPointer)
    /// Model input already preprocessed (CHW float32): copied into the slot as it is.
    case preprocessed(UnsafeBufferPointer<Float>, shape: [Int])
}

extension RecordPayload {
    /// Copies preprocessed input into `slot`, which must be exactly its size (the model's input).
    static func copy(_ values: UnsafeBufferPointer<Float>, shape: [Int], into slot: UnsafeMutableBufferPointer<Float>) throws {
        guard values.count == slot.count else {
            throw PipelineError.input("a preprocessed tensor of shape \(shape) (\(values.count) values) does not match the model's input (\(slot.count) values)")
        }
        _ = slot.update(fromContentsOf: values)
    }

    /// Preprocessed float tensors cannot become pixels again.
    static var preprocessedIntoPixels: PipelineError {
        PipelineError.input("a preprocessed float32 tensor cannot feed a model that reads uint8 pixels (a GPU model normalises on its device): store uint8 images, or run it with --device cpu")
    }
}

/// One batch slot, in the encoding the model reads.
public enum SlotInput {
    /// Normalised float32, CHW.
    case float(UnsafeMutableBufferPointer<Float>)
    /// The crop's uint8 pixels, HWC.
    case pixels(UnsafeMutableBufferPointer<UInt8>)
}

/// Turns records into model input. `makeWorker` is called once per preprocessing thread, so workers can
/// own their scratch buffers; a worker is used by one thread at a time.
public protocol RecordPreprocessor: Sendable {
    var outputShape: [Int] { get }
    /// A worker whose scratch memory (decoded image, resampling rows) stays within `memoryShare` bytes:
    /// larger images are refused per record, with an error that names the limit.
    func makeWorker(memoryShare: Int) -> any PreprocessWorker
}

public protocol PreprocessWorker: AnyObject {
    /// Writes the model input for one record into `slot` (exactly `outputShape` elements, CHW).
    func preprocess(_ payload: RecordPayload, into slot: UnsafeMutableBufferPointer<Float>) throws
    /// Writes the crop's uint8 pixels, HWC (exactly `outputShape` elements), not normalised: for a model whose
    /// input encoding is `.uint8NHWC`.
    func preprocess(_ payload: RecordPayload, intoPixels slot: UnsafeMutableBufferPointer<UInt8>) throws
}

extension PreprocessWorker {
    public func preprocess(_ payload: RecordPayload, intoPixels slot: UnsafeMutableBufferPointer<UInt8>) throws {
        throw PipelineError.configuration("this preprocessing writes float32 input only; the model reads uint8 pixels")
    }

    /// Writes one record into a slot of either encoding.
    func preprocess(_ payload: RecordPayload, into slot: SlotInput) throws {
        switch slot {
        case let .float(values): try preprocess(payload, into: values)
        case let .pixels(bytes): try preprocess(payload, intoPixels: bytes)
        }
    }
}

/// Builds the model once per inference slot (a strategy may run several).
public protocol ModelFactory: Sendable {
    var name: String { get }
    func makeModel(batchSize: Int, threads: Int) throws -> any ClassifierModel
    /// Where the models run: the CPU, or GPUs (then each GPU runs `DevicePlacement.copiesPerDevice` copies).
    var placement: DevicePlacement { get }
    /// Model copy `copy` of a run (on a GPU, the copy's index picks its device).
    func makeModel(batchSize: Int, threads: Int, copy: Int) throws -> any ClassifierModel
}

extension ModelFactory {
    public var placement: DevicePlacement { .cpu }

    public func makeModel(batchSize: Int, threads: Int, copy: Int) throws -> any ClassifierModel {
        try makeModel(batchSize: batchSize, threads: threads)
    }
}
