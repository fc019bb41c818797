/// What the pipeline needs from a classifier: NCHW float32 batches in, logits out. The Inference module's
/// compiled models conform; tests use small stand-ins.
public protocol ClassifierModel: AnyObject {
    /// Per-image input: channels, height, width.
    var inputShape: [Int] { get }
    var classCount: Int { get }
    /// Runs `count` images laid out contiguously in `input`; writes `count * classCount` logits.
    func classify(_ input: UnsafeBufferPointer<Float>, count: Int, logits: UnsafeMutableBufferPointer<Float>) throws
}

extension ClassifierModel {
    public var inputElements: Int { inputShape.reduce(1, *) }
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
}

/// Builds the model once per inference slot (a strategy may run several).
public protocol ModelFactory: Sendable {
    var name: String { get }
    func makeModel(batchSize: Int, threads: Int) throws -> any ClassifierModel
}
