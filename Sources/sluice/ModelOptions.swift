import ArgumentParser
import Inference
import ObjectStore
import Pipeline

extension Precision: ExpressibleByArgument {}
extension ConvolutionAlgorithm: ExpressibleByArgument {}

/// The model options `run`, `predict`, `bench`, `serve` and `eval` share.
struct ModelOptions: ParsableArguments {
    @Option(help: "resnet18, resnet34, resnet50, resnet101, resnet152, or an ONNX file (FILE.onnx: a CNN classifier taking [N, C, H, W] float32).")
    var model = "resnet50"

    @Option(help: "A safetensors file holding a torchvision state_dict (default: deterministic seeded weights).")
    var weights: String?

    @Option(help: "fp32, bf16 (AVX512-BF16 where the CPU has it) or int8 (calibrated by --calibration; run and eval default to auto).")
    var precision = Precision.fp32

    @Option(help: "int8: auto[:N] (the first N images of the input, preprocessed as the job preprocesses them; N defaults to \(CalibrationSource.defaultAutoCount)), or a .npy float32 [N,3,224,224] batch of typical preprocessed inputs. It sets the quantization scales.")
    var calibration: String?

    @Option(help: "fastest (Winograd for float32 3×3 layers where oneDNN has it: outputs differ from direct in the last bits) or direct.")
    var convolution = ConvolutionAlgorithm.fastest

    func validate() throws {
        if let calibration {
            do { _ = try CalibrationSource.parse(calibration) } catch { throw ValidationError("\(error)") }
        }
    }

    /// --calibration as given; int8 without it calibrates on the input (`auto`).
    var calibrationSource: CalibrationSource? {
        if let calibration, let source = try? CalibrationSource.parse(calibration) { return source }
        return precision == .int8 ? .auto(count: CalibrationSource.defaultAutoCount) : nil
    }

    /// The options besides --model, --weights and --precision, as `sluice run` arguments (what `bench` passes on).
    var arguments: [String] {
        var arguments = ["--convolution", convolution.rawValue]
        if let calibration { arguments += ["--calibration", calibration] }
        return arguments
    }

    /// The model as given; `--calibration auto` is left to resolve (a command without an input dataset refuses it
    /// when the model is compiled, with a message that says so).
    func factory() -> ResNetFactory {
        ResNetFactory(model: model, weights: weights, precision: precision, calibration: calibrationSource, convolutionAlgorithm: convolution)
    }

    /// The model, with `--calibration auto` (or int8 without --calibration) resolved on the job's input: the first
    /// N images, preprocessed by `preprocessor`. Also returns those samples (their ids are what eval leaves out).
    func factory(calibratingOn configuration: RunConfiguration, preprocessor: any RecordPreprocessor, storage: ObjectStorage,
                 command: String) throws -> (factory: ResNetFactory, calibration: AutoCalibration.Samples?) {
        let plain = factory()
        guard plain.needsAutoCalibration, case let .auto(count)? = plain.calibration else { return (plain, nil) }
        if calibration == nil {
            printError("sluice \(command): --precision int8 without --calibration: calibrating on the input (--calibration auto:\(count))")
        }
        let samples = try AutoCalibration(count: count, configuration: configuration, preprocessor: preprocessor, storage: storage).collect()
        if configuration.progress { printError("sluice \(command): \(samples.summary(asked: count))") }
        return (plain.calibrated(with: samples.tensor), samples)
    }
}
