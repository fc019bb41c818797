import Dispatch
import Foundation
import Parquet

/// Writes a synthetic image dataset in Ray Data's layout: Parquet files of `rowsPerFile` 256×256×3 uint8
/// tensors in a column named `image`, as the public benchmark's dataset is stored.
public struct DatasetGenerator: Sendable {
    public enum Format: String, Sendable, CaseIterable {
        /// Raw HWC uint8 tensors (Ray's ArrowTensorType).
        case raw
        /// JPEG bytes in a binary column (needs the Imaging module's encoder).
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

    public init(images: Int) { self.images = images }

    public struct Report: Sendable {
        public var files: [String]
        public var images: Int
        public var bytes: Int64
        public var seconds: Double
    }

    /// Writes the files into `directory` (created if needed), each under a temporary name renamed once
    /// complete. `progress` is called after each file.
    public func write(to directory: String, progress: (String) -> Void = { _ in }) throws -> Report {
        guard format == .raw else {
            throw ParquetError(.unsupported, "--format jpeg needs the JPEG encoder of the Imaging module, which is not built yet; use --format raw")
        }
        guard images > 0, rowsPerFile > 0 else {
            throw ParquetError(.invalidArgument, "need a positive number of images and rows per file")
        }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
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
            let path = (directory as NSString).appendingPathComponent(name)
            let temporary = path + ".tmp"
            let writer = try ParquetFileWriter(path: temporary, fields: [
                .tensor(name: "image", element: .uint8, shape: [height, width, 3], layout: layout),
            ], options: options)
            try buffer.withUnsafeBytes { try writer.writeTensorRowGroup(UnsafeRawBufferPointer(rebasing: $0[0..<rows * imageBytes]), rows: rows) }
            try writer.close()
            guard rename(temporary, path) == 0 else {
                throw ParquetError(.io, "cannot rename \(temporary) to \(path): \(String(cString: strerror(errno)))")
            }
            total += Int64((try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0)
            files.append(path)
            progress(path)
            first += rows
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        return Report(files: files, images: images, bytes: total, seconds: seconds)
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
