import ArgumentParser
import Foundation
import Imaging
import Inference
import Pipeline

struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Classify a few images or preprocessed arrays and print one JSON line per input.",
        discussion: """
        An input is a JPEG or PNG file (preprocessed as torchvision's ImageNet evaluation transform: resize \
        the shorter side to 256, centre-crop 224, normalise), or a .npy float32 array of shape [3,224,224] or \
        [N,3,224,224], already preprocessed. Without --weights the model has deterministic seeded weights \
        (for checks and benchmarks, not for real answers). To export torchvision's pretrained weights:
          python3 -c 'from torchvision.models import resnet50, ResNet50_Weights; import safetensors.torch; \
        safetensors.torch.save_file(resnet50(weights=ResNet50_Weights.DEFAULT).state_dict(), "resnet50.safetensors")'
        """
    )

    @OptionGroup var options: ModelOptions

    @OptionGroup(title: "Preprocessing (for JPEG and PNG inputs)") var preprocessing: PreprocessOptions

    @Option(help: "How many classes to print per input.")
    var topK = 5

    @Flag(help: "Also print every logit.")
    var logits = false

    @Option(help: "A text file of class names, one per line, to print beside the indices.")
    var labels: String?

    @Option(help: "Samples per run of the model.")
    var batchSize = 16

    @Option(help: "Threads for the convolutions (default: every core).")
    var threads: Int?

    @Flag(help: "Print, to standard error, which oneDNN implementation (on a GPU: which cuDNN engine or algorithm) each layer dispatched to.")
    var verbose = false

    @Argument(help: "Input JPEG, PNG or .npy files.")
    var inputs: [String]

    func run() throws {
        let (placement, precision) = try options.placement(command: "predict")
        // A few inputs, some already normalised (.npy): on a GPU too the model reads float32 NCHW here.
        let factory = options.factory(on: placement, precision: precision)
        let (spec, source) = try preprocessing.resolved(model: options.model)
        if verbose || source != PreprocessOptions.defaultSource {
            FileHandle.standardError.write(Data("sluice predict: preprocessing from \(source): \(spec.summary)\n".utf8))
        }
        let compiled = try factory.compile(batchSize: batchSize, threads: threads)
        if verbose {
            var report = placement.isGPU ? "CUDA (cuDNN, cuBLASLt): \(factory.name), batch \(batchSize)\n"
                : "oneDNN \(OneDNNInfo.version), best ISA here: \(OneDNNInfo.effectiveISA); \(factory.name), batch \(batchSize)\n"
            for record in compiled.dispatchReport { report += "  \(record)\n" }
            FileHandle.standardError.write(Data(report.utf8))
        }
        if inputs.contains(where: { !$0.lowercased().hasSuffix(".npy") }) {
            let size = spec.crop ?? .square(224)
            try InputContract.check(model: compiled.inputShape, preprocessing: [3, size.height, size.width])
        }
        let names = try labels.map(ClassLabels.load)
        let predictor = Predictor(model: compiled, topK: topK)
        var images: ImagePreprocessor?
        for input in inputs {
            let predictions: [Prediction]
            if input.lowercased().hasSuffix(".npy") {
                predictions = try predictor.predict(npyPath: input)
            } else {
                let preprocessor = try images ?? ImagePreprocessor(spec: spec)
                images = preprocessor
                predictions = try predictor.predict(try Self.preprocess(input, with: preprocessor),
                                                    name: (input as NSString).lastPathComponent)
            }
            for prediction in predictions {
                print(prediction.jsonLine(includeLogits: logits, labels: names))
            }
        }
    }

    /// An encoded image as the model's [3, 224, 224] float32 input.
    static func preprocess(_ path: String, with preprocessor: ImagePreprocessor) throws -> Tensor {
        let bytes = try ImageFile.read(path, limits: preprocessor.limits)
        let size = preprocessor.spec.crop ?? .square(224)
        let tensor = try Tensor.zeros([3, size.height, size.width])
        // Invariant: the tensor owns 3 × height × width aligned floats.
        let output = UnsafeMutableBufferPointer(start: tensor.storage.bytes.assumingMemoryBound(to: Float.self),
                                                count: tensor.elementCount)
        _ = try bytes.withUnsafeBytes { try preprocessor.preprocess(encoded: $0, into: .nchwFloat32(output)) }
        return tensor
    }
}
