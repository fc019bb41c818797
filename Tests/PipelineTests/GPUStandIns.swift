import Foundation
import Inference
@testable import Pipeline

/// Host memory that counts what it hands out (the pinned allocator of a GPU model, without a GPU).
final class CountingAllocator: HostMemoryAllocator, @unchecked Sendable {
    private let lock = NSLock()
    private var live: Set<UnsafeMutableRawPointer> = []
    private(set) var allocations = 0

    func allocate(byteCount: Int) throws -> UnsafeMutableRawPointer {
        let pointer = UnsafeMutableRawPointer.allocate(byteCount: byteCount, alignment: 64)
        lock.withLock {
            allocations += 1
            live.insert(pointer)
        }
        return pointer
    }

    func deallocate(_ pointer: UnsafeMutableRawPointer) {
        lock.withLock { _ = live.remove(pointer) }
        pointer.deallocate()
    }

    var outstanding: Int { lock.withLock { live.count } }
    var total: Int { lock.withLock { allocations } }

    func owns(_ pointer: UnsafeRawPointer?) -> Bool {
        guard let pointer else { return false }
        return lock.withLock { live.contains(UnsafeMutableRawPointer(mutating: pointer)) }
    }
}

/// `HashModel` as a GPU model reads its input: uint8 HWC crops from pinned memory, divided by 255 "on the device",
/// so its logits equal `HashModel`'s on `CropPreprocessor`'s float input, bit for bit.
final class PixelHashModel: ClassifierModel {
    let inputShape = [3, 4, 4]
    let classCount = 10
    let allocator: CountingAllocator
    let device: String
    private var uploaded = 0, downloaded = 0, batches = 0
    /// Whether every batch it read lay in memory from `allocator`.
    private(set) var readPinnedOnly = true

    init(allocator: CountingAllocator, device: String) {
        self.allocator = allocator
        self.device = device
    }

    var inputEncoding: ModelInputEncoding { .uint8NHWC(InputNormalization(mean: [0, 0, 0], std: [1, 1, 1], divisor: 255)) }
    var hostAllocator: (any HostMemoryAllocator)? { allocator }
    var deviceStatistics: DeviceStatistics? {
        DeviceStatistics(device: device, busySeconds: Double(batches) * 0.001, hostToDeviceBytes: uploaded, deviceToHostBytes: downloaded)
    }

    struct FloatInput: Error, CustomStringConvertible { var description: String { "a uint8 model was given float32 input" } }

    func classify(_ input: UnsafeBufferPointer<Float>, count: Int, logits: UnsafeMutableBufferPointer<Float>) throws {
        throw FloatInput()
    }

    func classify(pixels: UnsafeRawBufferPointer, count: Int, logits: UnsafeMutableBufferPointer<Float>) throws {
        if !allocator.owns(pixels.baseAddress) { readPinnedOnly = false }
        var chw = [Float](repeating: 0, count: count * 48)
        for n in 0..<count {
            for y in 0..<4 {
                for x in 0..<4 {
                    for c in 0..<3 { chw[n * 48 + c * 16 + y * 4 + x] = Float(pixels[n * 48 + (y * 4 + x) * 3 + c]) / 255 }
                }
            }
        }
        try chw.withUnsafeBufferPointer { try HashModel().classify($0, count: count, logits: logits) }
        uploaded += count * 48
        downloaded += count * classCount * 4
        batches += 1
    }
}

/// Builds `PixelHashModel`s as if on `placement`'s GPUs: copy k lands on `placement.ordinal(ofCopy: k)`.
final class PixelHashModelFactory: ModelFactory, @unchecked Sendable {
    let placement: DevicePlacement
    let allocator = CountingAllocator()
    private let lock = NSLock()
    private(set) var copiesMade: [Int: String] = [:]
    private var models: [PixelHashModel] = []

    init(placement: DevicePlacement) { self.placement = placement }

    var name: String { "pixel hash" }

    func makeModel(batchSize: Int, threads: Int) throws -> any ClassifierModel {
        try makeModel(batchSize: batchSize, threads: threads, copy: 0)
    }

    func makeModel(batchSize: Int, threads: Int, copy: Int) throws -> any ClassifierModel {
        let device = "cuda:\(placement.ordinal(ofCopy: copy) ?? -1) stand-in"
        let model = PixelHashModel(allocator: allocator, device: device)
        lock.withLock {
            copiesMade[copy] = device
            models.append(model)
        }
        return model
    }

    var allReadPinnedMemory: Bool { lock.withLock { models.allSatisfy(\.readPinnedOnly) } }
}

extension CropPreprocessor.Worker {
    /// The same top-left 4×4 crop as `preprocess(_:into:)`, as uint8 HWC pixels, not divided.
    func preprocess(_ payload: RecordPayload, intoPixels slot: UnsafeMutableBufferPointer<UInt8>) throws {
        switch payload {
        case let .pixels(bytes, shape):
            let width = shape[1]
            for y in 0..<4 {
                for x in 0..<4 {
                    for c in 0..<3 { slot[(y * 4 + x) * 3 + c] = bytes[(y * width + x) * 3 + c] }
                }
            }
        case let .encoded(bytes):
            guard bytes.count == 48, bytes.first != 0xFF else { throw Corrupt() }
            for c in 0..<3 {
                for i in 0..<16 { slot[i * 3 + c] = bytes[c * 16 + i] }
            }
        case .preprocessed:
            throw RecordPayload.preprocessedIntoPixels
        }
    }
}
