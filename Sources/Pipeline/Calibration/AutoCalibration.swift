import Foundation
import Inference
import ObjectStore

/// `--calibration auto[:N]`: the first N images of the job's input, in the job's deterministic order (input
/// units in name order, rows in file order; every shard takes the same images), preprocessed by the job's
/// preprocessing into one float32 [N, C, H, W] tensor. A record that cannot be read or preprocessed is
/// passed over (the run reports it as an error row), so the N are the first N usable images.
public struct AutoCalibration {
    /// The calibration tensor and the ids of its images, in order (what `sluice eval` leaves out of its scores).
    public struct Samples {
        public let tensor: Tensor
        public let ids: [String]
        /// Records passed over because they could not be read or preprocessed.
        public let skipped: Int
    }

    public let count: Int
    public let configuration: RunConfiguration
    public let preprocessor: any RecordPreprocessor
    public let storage: ObjectStorage

    public init(count: Int, configuration: RunConfiguration, preprocessor: any RecordPreprocessor, storage: ObjectStorage = ObjectStorage()) {
        self.count = count
        self.configuration = configuration
        self.preprocessor = preprocessor
        self.storage = storage
    }

    /// The bytes N preprocessed images take; refused (before anything is read) when they exceed --max-memory.
    static func bytes(count: Int, perImage elements: Int, maxMemory: Int64) throws -> Int {
        let (values, overflowValues) = count.multipliedReportingOverflow(by: elements)
        let (bytes, overflowBytes) = values.multipliedReportingOverflow(by: MemoryLayout<Float>.size)
        guard count >= 1, !overflowValues, !overflowBytes, Int64(bytes) <= maxMemory else {
            throw PipelineError.configuration(
                "--calibration auto:\(count) holds \(count) preprocessed images of \(elements) float32 values"
                + (overflowValues || overflowBytes ? ", more bytes than can be counted" : " (\(ByteSize.format(Int64(bytes))))")
                + ", more than --max-memory (\(ByteSize.format(maxMemory))): take fewer images or raise --max-memory")
        }
        return bytes
    }

    public func collect() throws -> Samples {
        let shape = preprocessor.outputShape
        let perImage = shape.reduce(1, *)
        let byteCount = try Self.bytes(count: count, perImage: perImage, maxMemory: configuration.maxMemory)
        let storageBuffer = try TensorStorage(zeroedByteCount: byteCount)
        let floats = storageBuffer.bytes.bindMemory(to: Float.self, capacity: count * perImage)
        let plan = MemoryPlan(configuration: configuration)
        let worker = preprocessor.makeWorker(memoryShare: plan.decodeBytes)
        var ids: [String] = []
        var skipped = 0
        let units = try InputDiscovery.units(configuration.inputs, storage: storage, imagesPerUnit: configuration.imagesPerPart)
        units: for (index, unit) in units.enumerated() {
            let source = try openSource(unit, index: index, configuration: configuration, storage: storage,
                                        maxChunkBytes: plan.maxChunkBytes, modelInput: shape)
            while let chunk = try source.next(targetRows: min(plan.chunkRows, count - ids.count)) {
                for i in 0..<chunk.rowCount {
                    guard ids.count < count else { break units }
                    guard chunk.valid[i] else { skipped += 1; continue }
                    let slot = UnsafeMutableBufferPointer(start: floats + ids.count * perImage, count: perImage)
                    do {
                        try chunk.withPayload(i) { payload in
                            if case let .preprocessed(values, valueShape) = payload {
                                try RecordPayload.copy(values, shape: valueShape, into: slot)
                            } else {
                                try worker.preprocess(payload, into: slot)
                            }
                        }
                        ids.append(chunk.ids[i])
                    } catch {
                        skipped += 1
                    }
                }
                if ids.count == count { break units }
            }
        }
        guard !ids.isEmpty else {
            throw PipelineError.input("--calibration auto:\(count): the input has no usable image to calibrate on")
        }
        let tensor = try Tensor(shape: [ids.count] + shape, dtype: .float32, storage: storageBuffer)
        return Samples(tensor: tensor, ids: ids, skipped: skipped)
    }
}

extension AutoCalibration.Samples {
    /// What the commands print: "calibrated on the first 256 images of the input (auto:256)".
    public func summary(asked: Int) -> String {
        var text = "int8 calibration: the first \(ids.count) images of the input (--calibration auto:\(asked))"
        if ids.count < asked { text += "; the input has only \(ids.count) usable images" }
        if skipped > 0 { text += "; \(skipped) unusable records passed over" }
        return text
    }
}
