import ArgumentParser
import Parquet
import Pipeline

/// How to read image columns that are plain numeric lists (no Ray/Arrow tensor type): shared by `run`,
/// `bench` (passed on to each run) and `inspect` (which shows what `run` would do).
struct TensorInputArguments: ParsableArguments {
    @Option(help: "For numeric list columns without a shape in their metadata: height, width, channels of each image (e.g. 256,256,3). Without it a square 1- or 3-channel shape is inferred from the row length when only one fits.")
    var imageShape: String?

    @Option(help: "Order of each row's values in such a column: hwc (numpy, PIL, Spark; default for integers) or chw (default for float tensors).")
    var imageLayout: ImageAxisOrder?

    @Flag(help: "The image column holds preprocessed float tensors of the model's input shape (e.g. 3,224,224, as --strategy staged writes): fed to the model as they are. Float columns are detected without it.")
    var preprocessed = false

    func options() throws -> TensorInputOptions {
        var shape: [Int]?
        if let imageShape {
            let parts = imageShape.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard parts.count == 3, let values = parts as? [Int], values.allSatisfy({ $0 > 0 && $0 <= 1 << 16 }) else {
                throw ValidationError("--image-shape must be three positive numbers H,W,C (e.g. 256,256,3), got '\(imageShape)'")
            }
            shape = values
        }
        return TensorInputOptions(shape: shape, order: imageLayout, preprocessed: preprocessed)
    }

    /// The same options as `sluice run` arguments.
    var arguments: [String] {
        var arguments: [String] = []
        if let imageShape { arguments += ["--image-shape", imageShape] }
        if let imageLayout { arguments += ["--image-layout", imageLayout.rawValue] }
        if preprocessed { arguments.append("--preprocessed") }
        return arguments
    }
}

extension ImageAxisOrder: ExpressibleByArgument {}
