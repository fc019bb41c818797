import ArgumentParser
import Foundation
import Imaging

struct Preprocess: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write what the model sees for each image, as .npy files.",
        discussion: """
        Each IMAGE (JPEG or PNG, recognised from its bytes, or a .npy uint8 [height, width, channels] raw tensor) \
        goes through torchvision's ImageNet evaluation transform — Resize(256) with antialiased bilinear \
        resampling, CenterCrop(224), ToTensor (÷255), Normalize(mean, std) — exactly as torchvision does it on \
        Pillow images, and is written to DIR/<name>.npy as float32 [3, 224, 224]. Compare with numpy: \
        numpy.load("DIR/<name>.npy").
        """
    )

    @Argument(help: "Images: JPEG or PNG files, or .npy uint8 HWC tensors.")
    var images: [String]

    @Option(help: "Output directory (created if missing).")
    var out: String

    @OptionGroup(title: "Preprocessing") var preprocessing: PreprocessOptions

    enum Layout: String, ExpressibleByArgument, CaseIterable {
        case nchw, nhwc
        case nhwcUInt8 = "nhwc-uint8"
    }

    @Option(help: "nchw (float32 [3,H,W]), nhwc (float32 [H,W,3]) or nhwc-uint8 (uint8 [H,W,3], not normalised).")
    var layout = Layout.nchw

    func run() throws {
        let spec = try preprocessing.spec()
        let preprocessor: ImagePreprocessor
        do {
            preprocessor = try ImagePreprocessor(spec: spec)
        } catch {
            throw ValidationError("\(error)")
        }
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        var used = Set<String>()
        var failures = 0
        for path in images {
            do {
                let line = try process(path, preprocessor, spec, names: &used)
                print(line)
            } catch {
                failures += 1
                // Errors that already name the file are printed once with it.
                var described = "\(error)"
                if var imaging = error as? ImagingError, imaging.source == path {
                    imaging.source = nil
                    described = "\(imaging)"
                }
                printError("sluice preprocess: \(path): \(described)")
            }
        }
        if failures > 0 { throw ExitCode(1) }
    }

    private func process(_ path: String, _ preprocessor: ImagePreprocessor, _ spec: PreprocessSpec, names: inout Set<String>) throws -> String {
        let bytes = try ImageFile.read(path, limits: spec.limits)
        let url = URL(fileURLWithPath: path)
        var name = url.deletingPathExtension().lastPathComponent
        if names.contains(name) { name = url.lastPathComponent }
        names.insert(name)
        let destination = (out as NSString).appendingPathComponent(name + ".npy")

        var described: String
        var width: Int, height: Int
        var raw: NPY.Array?
        if bytes.starts(with: NPY.magic) {
            let array = try NPY.decode(bytes)
            guard array.dtype == .uint8 else {
                throw ImagingError(.unsupported, "a .npy input must be a uint8 [height, width, channels] tensor, not \(array.dtype)")
            }
            guard array.shape.count == 2 || array.shape.count == 3 else {
                throw ImagingError(.shapeMismatch, "a .npy input must be a uint8 [height, width, channels] tensor, not shape \(array.shape)")
            }
            raw = array
            (height, width) = (array.shape[0], array.shape[1])
            try spec.limits.checkDecoded(width: width, height: height, format: "raw tensor")
            described = "raw \(array.shape)"
        } else {
            let header = try bytes.withUnsafeBytes { buffer -> (ImageFormat, Int, Int) in
                let format = try ImageFormat.detect(buffer)
                switch format {
                case .jpeg:
                    let h = try preprocessor.decoder.jpeg.header(buffer)
                    return (format, h.width, h.height)
                case .png:
                    let h = try preprocessor.decoder.png.header(buffer)
                    return (format, h.width, h.height)
                }
            }
            (width, height) = (header.1, header.2)
            try spec.limits.checkDecoded(width: width, height: height, format: header.0 == .jpeg ? "JPEG" : "PNG")
            described = "\(header.0.rawValue) \(width)×\(height)"
        }
        let size = try spec.checkedOutputSize(width: width, height: height)
        let count = 3 * size.width * size.height
        var warnings: [String] = []
        let shape = layout == .nchw ? [3, size.height, size.width] : [size.height, size.width, 3]

        func run(_ output: PreprocessOutput) throws {
            if let raw {
                try raw.data.withUnsafeBytes { try preprocessor.preprocess(tensor: $0, shape: raw.shape, into: output) }
            } else {
                let report = try bytes.withUnsafeBytes { try preprocessor.preprocess(encoded: $0, into: output) }
                warnings = report.warnings
                if report.scaleDenominator > 1 { described += ", decoded at 1/\(report.scaleDenominator)" }
            }
        }
        if layout == .nhwcUInt8 {
            var values = [UInt8](repeating: 0, count: count)
            try values.withUnsafeMutableBufferPointer { try run(.nhwcUInt8($0)) }
            try values.withUnsafeBytes { try NPY.write($0, dtype: .uint8, shape: shape, to: destination) }
        } else {
            var values = [Float](repeating: 0, count: count)
            try values.withUnsafeMutableBufferPointer { try run(layout == .nchw ? .nchwFloat32($0) : .nhwcFloat32($0)) }
            try values.withUnsafeBytes { try NPY.write($0, dtype: .float32, shape: shape, to: destination) }
        }
        for warning in warnings { printError("sluice preprocess: \(path): warning: \(warning)") }
        return "\(path) (\(described)) → \(destination) \(shape)"
    }
}
