import ArgumentParser
import Foundation
import Inference

struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Classify a few preprocessed inputs and print one JSON line per input.",
        discussion: """
        An input is a .npy float32 array of shape [3,224,224] or [N,3,224,224], already resized, cropped and \
        normalised (ImageNet mean and std). Without --weights the model has deterministic seeded weights \
        (for checks and benchmarks, not for real answers). To export torchvision's pretrained weights:
          python3 -c 'from torchvision.models import resnet50, ResNet50_Weights; import safetensors.torch; \
        safetensors.torch.save_file(resnet50(weights=ResNet50_Weights.DEFAULT).state_dict(), "resnet50.safetensors")'
        """
    )

    @Option(help: "resnet18, resnet34, resnet50, resnet101 or resnet152.")
    var model = "resnet50"

    @Option(help: "A safetensors file holding the torchvision state_dict.")
    var weights: String?

    @Option(help: "fp32, bf16, or int8 (needs --calibration).")
    var precision = "fp32"

    @Option(help: "int8: a .npy float32 [N,3,224,224] batch of typical preprocessed inputs whose activations set the quantization scales.")
    var calibration: String?

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

    @Flag(help: "Print, to standard error, which oneDNN implementation each layer dispatched to.")
    var verbose = false

    @Argument(help: "Input .npy files.")
    var inputs: [String]

    func run() throws {
        guard let precision = Precision(rawValue: precision) else {
            throw ValidationError("--precision must be fp32, bf16 or int8")
        }
        if precision == .int8, calibration == nil {
            throw ValidationError("--precision int8 needs --calibration FILE.npy (typical inputs, [N,3,224,224])")
        }
        let graph = try ModelZoo.graph(model, weightsPath: weights)
        let samples = try calibration.map { try NumpyFile.read(path: $0) }
        let compiled = try OneDNNBackend(threads: threads, calibration: samples)
            .compile(graph, batchSize: batchSize, precision: precision)
        if verbose {
            var report = "oneDNN \(OneDNNInfo.version), best ISA here: \(OneDNNInfo.effectiveISA); \(model) \(precision.rawValue), batch \(batchSize)\n"
            for record in compiled.dispatchReport { report += "  \(record)\n" }
            FileHandle.standardError.write(Data(report.utf8))
        }
        let names = try labels.map { try String(contentsOfFile: $0, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).map(String.init) }
        let predictor = Predictor(model: compiled, topK: topK)
        for input in inputs {
            for prediction in try predictor.predict(npyPath: input) {
                print(prediction.jsonLine(includeLogits: logits, labels: names))
            }
        }
    }
}
