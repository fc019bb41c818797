import Dispatch
import Foundation
import ObjectStore
import Imaging
import Parquet

/// Writes a synthetic image dataset in Ray Data's layout: Parquet files of `rowsPerFile` 256×256×3 uint8
/// tensors in a column named `image`, as the public benchmark's dataset is stored — or, with `.jpeg`, the
/// same images as JPEG bytes (quality `jpegQuality`, 4:2:0, libjpeg-turbo) in a binary column `image`.
public struct DatasetGenerator: Sendable {
    public enum Format: String, Sendable, CaseIterable {
        /// Raw HWC uint8 tensors (Ray's ArrowTensorType).
        case raw
        /// JPEG bytes in a binary column.
        case jpeg
    }

    public var images: Int
    public var rowsPerFile = 1000
    public var seed: UInt64 = 0
    public var height = 256
    public var width = 256
    public var format = Format.raw
    public var layout = TensorLayout.rayV2
    public var codec = CompressionCodec.snappy
    /// Quality of `.jpeg` images.
    public var jpegQuality = 90

    public init(images: Int) { self.images = images }

    public struct Report: Sendable {
        public var files: [String]
        public var images: Int
        public var bytes: Int64
        public var seconds: Double
    }

    /// Writes the files into `directory` (a local directory, created if needed, or an s3:// prefix), each
    /// published atomically once complete. `progress` is called after each file.
    public func write(to directory: String, storage: ObjectStorage = ObjectStorage(), progress: (String) -> Void = { _ in }) throws -> Report {
        guard images > 0, rowsPerFile > 0 else {
            throw ParquetError(.invalidArgument, "need a positive number of images and rows per file")
        }
        let start = DispatchTime.now()
        let generator = SyntheticImages(seed: seed, height: height, width: width)
        let imageBytes = generator.bytesPerImage
        var files: [String] = []
        var total: Int64 = 0
        var options = WriterOptions()
        options.codec = codec
        var buffer = [UInt8](repeating: 0, count: min(rowsPerFile, images) * imageBytes)
        var first = 0
        while first < images {
            let rows = min(rowsPerFile, images - first)
            buffer.withUnsafeMutableBufferPointer { all in
                let base = all.baseAddress!
                let firstImage = first
                nonisolated(unsafe) let destination = base
                DispatchQueue.concurrentPerform(iterations: rows) { i in
                    generator.render(index: firstImage + i,
                                     into: UnsafeMutableBufferPointer(start: destination + i * imageBytes, count: imageBytes))
                }
            }
            let name = "part-\(String(files.count).leftPadded(to: 5)).parquet"
            let path = directory.hasSuffix("/") ? directory + name : directory + "/" + name
            let sink = try storage.writer(path)
            do {
                switch format {
                case .raw:
                    let writer = try ParquetFileWriter(sink: sink, fields: [
                        .tensor(name: "image", element: .uint8, shape: [height, width, 3], layout: layout),
                    ], options: options)
                    try buffer.withUnsafeBytes { try writer.writeTensorRowGroup(UnsafeRawBufferPointer(rebasing: $0[0..<rows * imageBytes]), rows: rows) }
                    try writer.close()
                case .jpeg:
                    let encoded = try encodeJPEG(buffer, rows: rows, imageBytes: imageBytes)
                    var jpegOptions = options
                    jpegOptions.dictionary = false  // every value is distinct
                    let writer = try ParquetFileWriter(sink: sink, fields: [
                        .primitive(name: "image", type: .byteArray, nullable: false),
                    ], options: jpegOptions)
                    try writer.writeRowGroup(rows: rows, columns: [ColumnWriteData(values: .byteArray(encoded))])
                    try writer.close()
                }
            } catch {
                sink.abort()
                throw error
            }
            total += sink.bytesWritten
            files.append(path)
            progress(path)
            first += rows
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        return Report(files: files, images: images, bytes: total, seconds: seconds)
    }
}

extension DatasetGenerator {
    /// The first `rows` images of `buffer` as JPEG bytes, encoded in parallel (one encoder per thread).
    func encodeJPEG(_ buffer: [UInt8], rows: Int, imageBytes: Int) throws -> BinaryValues {
        let quality = jpegQuality, width = width, height = height
        let workers = max(1, min(rows, ProcessInfo.processInfo.activeProcessorCount))
        let results = ResultSlots(count: workers)
        buffer.withUnsafeBytes { all in
            nonisolated(unsafe) let all = all
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                results.set(worker, Result {
                    let encoder = try JPEGEncoder(quality: quality)
                    var images: [[UInt8]] = []
                    for i in stride(from: worker, to: rows, by: workers) {
                        let pixels = try PixelView(UnsafeRawBufferPointer(rebasing: all[i * imageBytes..<(i + 1) * imageBytes]),
                                                   width: width, height: height, layout: .rgb)
                        images.append(try encoder.encode(pixels))
                    }
                    return images
                })
            }
        }
        let perWorker = try (0..<workers).map { try results.get($0).get() }
        var values = BinaryValues()
        values.offsets.reserveCapacity(rows + 1)
        for i in 0..<rows {
            values.bytes.append(contentsOf: perWorker[i % workers][i / workers])
            values.offsets.append(values.bytes.count)
        }
        return values
    }
}

/// One result slot per worker of a `concurrentPerform`, each written by its worker only.
private final class ResultSlots: @unchecked Sendable {
    private var slots: [Result<[[UInt8]], any Error>?]
    private let lock = NSLock()

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ result: Result<[[UInt8]], any Error>) {
        lock.lock()
        slots[index] = result
        lock.unlock()
    }

    func get(_ index: Int) throws -> Result<[[UInt8]], any Error> {
        lock.lock()
        defer { lock.unlock() }
        guard let result = slots[index] else { throw ParquetError(.invalidArgument, "JPEG worker \(index) produced nothing") }
        return result
    }
}
