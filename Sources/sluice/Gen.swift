import ArgumentParser
import Foundation
import Parquet
import Pipeline

struct Gen: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a synthetic image dataset in Ray Data's Parquet layout.",
        discussion: """
        Images are deterministic from --seed: 256×256×3 uint8 photos-alike (gradients, blobs, texture, noise) \
        in a tensor column named `image`, --rows-per-file rows per file, SNAPPY-compressed and \
        dictionary-encoded as pyarrow writes them. The public benchmark's dataset has 16,232 images.
        """
    )

    @Option(help: "Output directory (created if missing) or s3:// prefix.")
    var out: String

    @OptionGroup var storage: StorageOptions

    @Option(help: "Number of images.")
    var images = 2000

    @Option(help: "Rows per Parquet file.")
    var rowsPerFile = 1000

    @Option(help: "Seed of the image generator.")
    var seed: UInt64 = 0

    @Option(help: "raw (HWC uint8 tensors) or jpeg (the same images as JPEG bytes in a binary column).")
    var format = DatasetGenerator.Format.raw

    @Option(help: "JPEG quality (1-100) of --format jpeg.")
    var quality = 90

    @Option(help: "Tensor type name in the Arrow schema: \(TensorLayout.allCases.map(\.rawValue).joined(separator: ", ")).")
    var layout = TensorLayout.rayV2

    @Option(help: "Compression codec: snappy, zstd, gzip, lz4_raw or none.")
    var codec = CompressionCodec.snappy

    func run() throws {
        var generator = DatasetGenerator(images: images)
        generator.rowsPerFile = rowsPerFile
        generator.seed = seed
        generator.format = format
        generator.layout = layout
        generator.codec = codec
        guard (1...100).contains(quality) else { throw ValidationError("--quality must be 1...100") }
        generator.jpegQuality = quality
        let objectStorage = try storage.makeStorage()
        defer { objectStorage.shutdown() }
        let report = try generator.write(to: out, storage: objectStorage) { print("wrote \($0)") }
        let rate = Double(report.images) / max(report.seconds, 1e-9)
        print("\(report.images) images in \(report.files.count) files, \(formatBytes(report.bytes)), \(String(format: "%.1f", report.seconds)) s (\(Int(rate)) images/s)")
    }
}

extension DatasetGenerator.Format: ExpressibleByArgument {}
extension TensorLayout: ExpressibleByArgument {}
