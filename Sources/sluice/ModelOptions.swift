import ArgumentParser
import Inference
import Pipeline

extension Precision: ExpressibleByArgument {}
extension ConvolutionAlgorithm: ExpressibleByArgument {}

/// The model options `run`, `predict` and `bench` share.
struct ModelOptions: ParsableArguments {
    @Option(help: "resnet18, resnet34, resnet50, resnet101, resnet152, or an ONNX file (FILE.onnx: a CNN classifier taking [N, C, H, W] float32).")
    var model = "resnet50"

    @Option(help: "A safetensors file holding a torchvision state_dict (default: deterministic seeded weights).")
    var weights: String?

    @Option(help: "fp32, bf16 (AVX512-BF16 where the CPU has it) or int8 (needs --calibration).")
    var precision = Precision.fp32

    @Option(help: "int8: a .npy float32 [N,3,224,224] batch of typical preprocessed inputs that sets the quantization scales.")
    var calibration: String?

    @Option(help: "fastest (Winograd for float32 3×3 layers where oneDNN has it: outputs differ from direct in the last bits) or direct.")
    var convolution = ConvolutionAlgorithm.fastest

    func validate() throws {
        if precision == .int8, calibration == nil { throw ValidationError("--precision int8 needs --calibration FILE.npy") }
    }

    /// The options besides --model, --weights and --precision, as `sluice run` arguments (what `bench` passes on).
    var arguments: [String] {
        var arguments = ["--convolution", convolution.rawValue]
        if let calibration { arguments += ["--calibration", calibration] }
        return arguments
    }

    func factory() -> ResNetFactory {
        ResNetFactory(model: model, weights: weights, precision: precision, calibration: calibration, convolutionAlgorithm: convolution)
    }
}
