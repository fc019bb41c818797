import ArgumentParser
import Imaging
import Inference
import Pipeline

/// The model and preprocessing options `run` and `bench` share.
struct ModelOptions: ParsableArguments {
    @Option(help: "resnet18, resnet34, resnet50, resnet101 or resnet152.")
    var model = "resnet50"

    @Option(help: "A safetensors file holding a torchvision state_dict (default: deterministic seeded weights).")
    var weights: String?

    @Option(help: "fp32, bf16 (AVX512-BF16 where the CPU has it) or int8 (needs --calibration).")
    var precision = "fp32"

    @Option(help: "int8: a .npy float32 [N,3,224,224] batch of typical preprocessed inputs that sets the quantization scales.")
    var calibration: String?

    @Option(help: "fastest (Winograd for float32 3×3 layers where oneDNN has it: outputs differ from direct in the last bits) or direct.")
    var convolution = ConvolutionAlgorithm.fastest.rawValue

    @Option(help: "Resize the shorter side to this many pixels (torchvision's Resize).")
    var resize = 256

    @Option(help: "Center crop size (torchvision's CenterCrop).")
    var crop = 224

    @Flag(help: "Decode large JPEGs at 1/2, 1/4 or 1/8 scale before resizing (faster, not bit-exact).")
    var fastDecode = false

    /// The options besides model, weights and precision, as `sluice run` arguments (what `bench` passes on).
    var runOptions: [String] {
        var arguments = ["--convolution", convolution, "--resize", String(resize), "--crop", String(crop)]
        if let calibration { arguments += ["--calibration", calibration] }
        if fastDecode { arguments.append("--fast-decode") }
        return arguments
    }

    func preprocessor() throws -> StandardPreprocessor {
        var spec = PreprocessSpec.imagenet
        spec.resize = .shorterSide(resize)
        spec.crop = .square(crop)
        spec.fastDecode = fastDecode
        return try StandardPreprocessor(spec: spec)
    }

    func factory() throws -> ResNetFactory {
        guard let precision = Precision(rawValue: precision) else { throw ValidationError("--precision must be fp32, bf16 or int8") }
        if precision == .int8, calibration == nil { throw ValidationError("--precision int8 needs --calibration FILE.npy") }
        guard let algorithm = ConvolutionAlgorithm(rawValue: convolution) else { throw ValidationError("--convolution must be fastest or direct") }
        return ResNetFactory(model: model, weights: weights, precision: precision, calibration: calibration, convolutionAlgorithm: algorithm)
    }
}
