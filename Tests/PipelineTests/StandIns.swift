import Foundation
@testable import Pipeline

/// Small, exact stand-ins for the Imaging and Inference modules, so the executor is tested on its own.
/// The preprocessor takes the top-left 4×4 of an HWC uint8 image to CHW floats /255; encoded payloads
/// must be exactly 48 bytes (a fake format) and a payload starting with 0xFF is "corrupt".
struct CropPreprocessor: RecordPreprocessor {
    var outputShape: [Int] { [3, 4, 4] }

    func makeWorker(memoryShare: Int) -> any PreprocessWorker { Worker() }

    final class Worker: PreprocessWorker {
        struct Corrupt: Error, CustomStringConvertible { var description: String { "corrupt test image" } }

        func preprocess(_ payload: RecordPayload, into slot: UnsafeMutableBufferPointer<Float>) throws {
            switch payload {
            case let .pixels(bytes, shape):
                let width = shape[1]
                for c in 0..<3 {
                    for y in 0..<4 {
                        for x in 0..<4 { slot[c * 16 + y * 4 + x] = Float(bytes[(y * width + x) * 3 + c]) / 255 }
                    }
                }
            case let .encoded(bytes):
                guard bytes.count == 48, bytes.first != 0xFF else { throw Corrupt() }
                for i in 0..<48 { slot[i] = Float(bytes[i]) / 255 }
            case let .preprocessed(values, shape):
                try RecordPayload.copy(values, shape: shape, into: slot)
            }
        }
    }
}

/// logits[k] = Σ input[i] · ((i·7 + k·13) mod 17 − 8): deterministic, sensitive to every input value.
final class HashModel: ClassifierModel {
    let inputShape = [3, 4, 4]
    let classCount = 10
    var batchesBeforeFailure: Int?
    struct Failure: Error {}

    init(batchesBeforeFailure: Int? = nil) { self.batchesBeforeFailure = batchesBeforeFailure }

    func classify(_ input: UnsafeBufferPointer<Float>, count: Int, logits: UnsafeMutableBufferPointer<Float>) throws {
        if let remaining = batchesBeforeFailure {
            guard remaining > 0 else { throw Failure() }
            batchesBeforeFailure = remaining - 1
        }
        for n in 0..<count {
            for k in 0..<classCount {
                var sum: Float = 0
                for i in 0..<48 { sum += input[n * 48 + i] * Float((i * 7 + k * 13) % 17 - 8) }
                logits[n * classCount + k] = sum
            }
        }
    }
}

struct HashModelFactory: ModelFactory {
    var name: String { "hash" }
    var batchesBeforeFailure: Int?
    func makeModel(batchSize: Int, threads: Int) throws -> any ClassifierModel { HashModel(batchesBeforeFailure: batchesBeforeFailure) }
}
