import Foundation
import Imaging
import Inference
@testable import Pipeline
import Testing

@Suite("--device: parsing, precisions, resolution against the GPUs a probe finds")
struct DeviceSelectionTests {
    @Test("cpu, cuda, cuda:N, cuda:all and auto parse; anything else is a configuration error naming the flag")
    func parsing() throws {
        #expect(try DeviceSelection.parse("cpu") == .cpu)
        #expect(try DeviceSelection.parse("cuda") == .cuda(0))
        #expect(try DeviceSelection.parse("CUDA:3") == .cuda(3))
        #expect(try DeviceSelection.parse("cuda:all") == .cudaAll)
        #expect(try DeviceSelection.parse("auto") == .auto)
        for bad in ["tpu", "cuda:", "cuda:-1", "cuda:x", "cuda:1,2", ""] {
            #expect {
                try DeviceSelection.parse(bad)
            } throws: { error in
                guard case let .configuration(message)? = error as? PipelineError else { return false }
                return message.contains("--device") && message.contains("'\(bad)' is not a device")
            }
        }
    }

    @Test("precision defaults to fp16 on a GPU and fp32 on the CPU; int8 on a GPU and fp16/tf32 on the CPU are refused")
    func precisions() throws {
        #expect(try DevicePlacement.cpu.precision(nil) == .fp32)
        #expect(try DevicePlacement.cuda([0]).precision(nil) == .fp16)
        #expect(try DevicePlacement.cuda([0]).precision(.tf32) == .tf32)
        #expect(try DevicePlacement.cpu.precision(.bf16) == .bf16)
        func refused(_ placement: DevicePlacement, _ precision: Precision, saying text: String) {
            #expect {
                try placement.precision(precision)
            } throws: { error in
                guard case let .configuration(message)? = error as? PipelineError else { return false }
                return message.contains("--precision \(precision.rawValue)") && message.contains(text)
            }
        }
        refused(.cuda([0]), .int8, saying: "runs on the CPU only")
        refused(.cpu, .fp16, saying: "needs a GPU")
        refused(.cpu, .tf32, saying: "needs a GPU")
    }

    struct NoDriver: Error, CustomStringConvertible {
        var description: String { "libcuda.so.1 not found (searched /nowhere)" }
    }

    @Test("cpu never probes; cuda without a driver fails with the loader's words; auto falls back to the CPU and says why")
    func resolution() throws {
        let probes = Counter()
        let failing = DeviceResolver(probe: { probes.add(); throw NoDriver() })
        #expect(try failing.resolve(.cpu).placement == .cpu)
        #expect(probes.value == 0)
        #expect {
            try failing.resolve(.cuda(0))
        } throws: { error in
            "\(error)".contains("--device cuda:0: libcuda.so.1 not found (searched /nowhere)")
        }
        let auto = try failing.resolve(.auto)
        #expect(auto.placement == .cpu)
        #expect(auto.note.contains("auto → cpu") && auto.note.contains("libcuda.so.1 not found"))
        #expect(try DeviceResolver(probe: { [] }).resolve(.auto).placement == .cpu)
        #expect(throws: PipelineError.self) { try DeviceResolver(probe: { [] }).resolve(.cudaAll) }
    }

    @Test("cuda:N picks that GPU; cuda:all takes every GPU with two copies each, copies 2k and 2k+1 on the k-th")
    func placements() throws {
        let two = DeviceResolver(probe: { [GPUDevice(ordinal: 0, name: "A"), GPUDevice(ordinal: 1, name: "B")] })
        #expect(try two.resolve(.cuda(1)).placement == .cuda([1]))
        #expect(try two.resolve(.auto).placement == .cuda([0]))
        let all = try two.resolve(.cudaAll).placement
        #expect(all == .cuda([0, 1]))
        #expect(all.modelCopies == 4)
        #expect((0..<4).map { all.ordinal(ofCopy: $0) } == [0, 0, 1, 1])
        #expect(DevicePlacement.cpu.modelCopies == nil)
        #expect {
            try two.resolve(.cuda(5))
        } throws: { error in
            "\(error)".contains("this machine has 2 GPUs")
        }
    }

    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var count = 0
        func add() { lock.withLock { count += 1 } }
        var value: Int { lock.withLock { count } }
    }
}

@Suite("uint8 preprocessing for a GPU model: the crop's pixels, no float work")
struct PixelPreprocessingTests {
    /// A raw HWC image whose pixels all differ.
    static func image(height: Int, width: Int) -> [UInt8] {
        (0..<(height * width * 3)).map { UInt8(truncatingIfNeeded: ($0 &* 2654435761) >> 13) }
    }

    static func both(_ pixels: [UInt8], shape: [Int], spec: PreprocessSpec = .imagenet) throws -> (bytes: [UInt8], floats: [Float]) {
        let preprocessor = try StandardPreprocessor(spec: spec)
        let worker = preprocessor.makeWorker(memoryShare: 64 << 20)
        let count = preprocessor.outputShape.reduce(1, *)
        var bytes = [UInt8](repeating: 0xAA, count: count), floats = [Float](repeating: .nan, count: count)
        try pixels.withUnsafeBytes { raw in
            try bytes.withUnsafeMutableBufferPointer { try worker.preprocess(.pixels(raw, shape: shape), intoPixels: $0) }
            try floats.withUnsafeMutableBufferPointer { try worker.preprocess(.pixels(raw, shape: shape), into: $0) }
        }
        return (bytes, floats)
    }

    /// torchvision's Normalize of ToTensor's value, in its order of operations.
    static func normalised(_ value: UInt8, channel: Int, spec: PreprocessSpec = .imagenet) -> Float {
        (Float(value) / spec.divisor - spec.mean[channel]) / spec.std[channel]
    }

    @Test("a 256×256 raw tensor: the slot holds exactly the centre 224×224 window, HWC (numpy's image[16:240, 16:240])")
    func exactCrop() throws {
        let image = Self.image(height: 256, width: 256)
        let (bytes, floats) = try Self.both(image, shape: [256, 256, 3])
        var mismatches = 0
        for y in 0..<224 {
            for x in 0..<224 {
                for c in 0..<3 {
                    let expected = image[((y + 16) * 256 + (x + 16)) * 3 + c]
                    if bytes[(y * 224 + x) * 3 + c] != expected { mismatches += 1 }
                    // The float path's crop, before normalisation, is the same pixel.
                    if floats[c * 224 * 224 + y * 224 + x] != Self.normalised(expected, channel: c) { mismatches += 1 }
                }
            }
        }
        #expect(mismatches == 0)
    }

    @Test("an image that needs resizing: the uint8 pixels are the float path's before normalisation", arguments: [[300, 280, 3], [180, 240, 3], [256, 300, 1]])
    func resized(_ shape: [Int]) throws {
        let image = Self.image(height: shape[0], width: shape[1]).prefix(shape.reduce(1, *))
        let (bytes, floats) = try Self.both(Array(image), shape: shape)
        var mismatches = 0
        for y in 0..<224 {
            for x in 0..<224 {
                for c in 0..<3 where floats[c * 224 * 224 + y * 224 + x] != Self.normalised(bytes[(y * 224 + x) * 3 + c], channel: c) {
                    mismatches += 1
                }
            }
        }
        #expect(mismatches == 0)
    }

    @Test("a JPEG: decoded, resized and cropped into the uint8 slot exactly as into the float path's, before normalisation")
    func jpeg() throws {
        let image = Self.image(height: 300, width: 340)
        let jpeg = try image.withUnsafeBytes { try JPEGEncoder(quality: 90).encode(try PixelView.tensor($0, shape: [300, 340, 3])) }
        let preprocessor = try StandardPreprocessor()
        let worker = preprocessor.makeWorker(memoryShare: 64 << 20)
        var bytes = [UInt8](repeating: 0xAA, count: 3 * 224 * 224), floats = [Float](repeating: .nan, count: 3 * 224 * 224)
        try jpeg.withUnsafeBytes { encoded in
            try bytes.withUnsafeMutableBufferPointer { try worker.preprocess(.encoded(encoded), intoPixels: $0) }
            try floats.withUnsafeMutableBufferPointer { try worker.preprocess(.encoded(encoded), into: $0) }
        }
        var mismatches = 0
        for i in 0..<(224 * 224) {
            for c in 0..<3 where floats[c * 224 * 224 + i] != Self.normalised(bytes[i * 3 + c], channel: c) { mismatches += 1 }
        }
        #expect(mismatches == 0)
    }

    @Test("a crop larger than the image: the padding is pixel 0, as the float path's padding is normalised 0")
    func padded() throws {
        var spec = PreprocessSpec.imagenet
        spec.resize = .none
        spec.crop = .square(8)
        let image = Self.image(height: 5, width: 6)
        let (bytes, floats) = try Self.both(image, shape: [5, 6, 3], spec: spec)
        for i in 0..<64 {
            for c in 0..<3 {
                #expect(floats[c * 64 + i] == Self.normalised(bytes[i * 3 + c], channel: c, spec: spec))
            }
        }
        #expect(bytes[0] == 0)  // row 0 is padding (the image is 5 rows high)
    }

    @Test("float32 preprocessed tensors cannot feed a uint8 model: the record's error says so")
    func preprocessedRefused() throws {
        let worker = try StandardPreprocessor().makeWorker(memoryShare: 1 << 20)
        let values = [Float](repeating: 0, count: 3 * 224 * 224)
        var slot = [UInt8](repeating: 0, count: 3 * 224 * 224)
        #expect {
            try values.withUnsafeBufferPointer { v in
                try slot.withUnsafeMutableBufferPointer { try worker.preprocess(.preprocessed(v, shape: [3, 224, 224]), intoPixels: $0) }
            }
        } throws: { error in
            "\(error)".contains("cannot feed a model that reads uint8 pixels")
        }
    }
}

@Suite("A GPU run's pipeline with a stand-in uint8 model", .serialized)
struct GPUPipelineTests {
    @Test("uint8 batches in the model's pinned memory give the float path's predictions, every strategy",
          arguments: [RunConfiguration.Strategy.streaming, .fused, .staged])
    func sameAsFloat(_ strategy: RunConfiguration.Strategy) throws {
        let directory = try PipelineTests.dataset()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        _ = try PipelineTests.run(directory, strategy: strategy, output: "float")
        let factory = PixelHashModelFactory(placement: .cuda([0]))
        var report: JobReport?
        do {
            var configuration = RunConfiguration(inputs: [(directory as NSString).appendingPathComponent("input")],
                                                 output: (directory as NSString).appendingPathComponent("pixels"))
            configuration.strategy = strategy
            configuration.batchSize = 8
            configuration.topK = 3
            configuration.progress = false
            report = try Job(configuration: configuration, preprocessor: CropPreprocessor(), model: factory).run()
        }
        let pixels = try #require(report)
        #expect(pixels.images == 75 && pixels.imagesFailed == 0)
        let float = try PipelineTests.predictions((directory as NSString).appendingPathComponent("float"))
        #expect(float.count == 75)
        #expect(try PipelineTests.predictions((directory as NSString).appendingPathComponent("pixels")) == float)
        #expect(factory.allocator.total > 0)
        #expect(factory.allReadPinnedMemory)
        #expect(factory.allocator.outstanding == 0, "every pinned batch is given back")
        #expect(pixels.device == "cuda:0")
        #expect(pixels.devices.map(\.device) == ["cuda:0 stand-in"])
        #expect(pixels.devices.first?.hostToDeviceBytes == 75 * 48)
        #expect(pixels.devices.first?.deviceToHostBytes == 75 * 10 * 4)
        #expect(!pixels.limitingStage.isEmpty)
    }

    @Test("cuda:all: two copies per GPU, each on its GPU, each with its own feeder; the statistics per GPU")
    func everyGPU() throws {
        let directory = try PipelineTests.dataset(files: 4, rows: 40)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let factory = PixelHashModelFactory(placement: .cuda([0, 1]))
        var configuration = RunConfiguration(inputs: [(directory as NSString).appendingPathComponent("input")],
                                             output: (directory as NSString).appendingPathComponent("out"))
        configuration.batchSize = 4
        configuration.progress = false
        let job = Job(configuration: configuration, preprocessor: CropPreprocessor(), model: factory)
        let report = try job.run()
        #expect(report.images == 160 && report.succeeded)
        #expect(report.modelLayout == "4 copies × 1 thread")
        #expect(factory.copiesMade == [0: "cuda:0 stand-in", 1: "cuda:0 stand-in", 2: "cuda:1 stand-in", 3: "cuda:1 stand-in"])
        #expect(report.stages.first { $0.stage == "infer" }?.threads == 4)
        let cores = ProcessInfo.processInfo.activeProcessorCount
        #expect(report.stages.first { $0.stage == "preprocess" }?.threads == max(1, cores - 1 - 4))
        #expect(Set(report.devices.map(\.device)) == ["cuda:0 stand-in", "cuda:1 stand-in"])
        #expect(report.devices.map(\.hostToDeviceBytes).reduce(0, +) == 160 * 48)
        #expect(report.render().contains("gpu cuda:0 stand-in: busy"))
        #expect(report.render().contains("limited by: "))
        let json = try report.json()
        #expect(json.contains("\"hostToDeviceBytes\"") && json.contains("\"limitingStage\""))
    }

    @Test("--preprocessed float tensors with a uint8 model: a configuration error before any record is read")
    func preprocessedInput() throws {
        let directory = try PipelineTests.dataset(files: 1, rows: 4)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var configuration = RunConfiguration(inputs: [(directory as NSString).appendingPathComponent("input")],
                                             output: (directory as NSString).appendingPathComponent("out"))
        configuration.tensorInput.preprocessed = true
        configuration.progress = false
        #expect {
            try Job(configuration: configuration, preprocessor: CropPreprocessor(), model: PixelHashModelFactory(placement: .cuda([0]))).run()
        } throws: { error in
            guard case let .configuration(message)? = error as? PipelineError else { return false }
            return message.contains("--preprocessed") && message.contains("uint8")
        }
    }

    @Test("a batch allocates from the model's allocator only when it has one, in its element type")
    func batchMemory() throws {
        let allocator = CountingAllocator()
        do {
            let batch = try Batch.make(capacity: 3, for: PixelHashModel(allocator: allocator, device: "x"))
            #expect(batch.element == .uint8)
            #expect(batch.inputBytes.count == 3 * 48)
            #expect(allocator.total == 1)
            guard case let .pixels(slot) = batch.slotInput(2) else { Issue.record("a uint8 batch gave a float slot"); return }
            #expect(slot.count == 48)
            #expect(slot.baseAddress == batch.inputBytes.baseAddress.map { $0.assumingMemoryBound(to: UInt8.self) + 96 })
            let float = try Batch.make(capacity: 3, for: HashModel())
            #expect(float.element == .float32 && float.inputs.count == 3 * 48 && allocator.total == 1)
        }
        #expect(allocator.outstanding == 0)
    }
}
