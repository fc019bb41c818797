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

    @Option(help: "Where the model runs: cpu; cuda (= cuda:0) or cuda:N, one GPU; cuda:all, every GPU (2 model copies each); auto, a GPU when the CUDA driver finds one, else the CPU (the log says which). The CUDA libraries are loaded at run time from SLUICE_CUDA_LIBRARY_PATH, LD_LIBRARY_PATH, the linker's paths and pip's nvidia/*/lib folders; without a GPU, cuda fails at once (exit 2) before any input is read.")
    var device = "cpu"

    @Option(help: "On the CPU: fp32 (default), bf16 (AVX512-BF16 where the CPU has it) or int8 (calibrated by --calibration; run and eval default to auto). On a GPU: fp16 (default), bf16, tf32 or fp32.")
    var precision: Precision?

    @Option(help: "int8: auto[:N] (the first N images of the input, preprocessed as the job preprocesses them; N defaults to \(CalibrationSource.defaultAutoCount)), or a .npy float32 [N,3,224,224] batch of typical preprocessed inputs. It sets the quantization scales.")
    var calibration: String?

    @Option(help: "int8: the share of the calibration samples (0 to 1, e.g. 0.99) on which int8's top-1 class must agree with float32's. The layers whose quantisation moves the logits most then compute in float32, fewest first, until it does: a slower start (each layer is measured) and a model somewhat slower than plain int8. Default: every layer oneDNN has an int8 kernel for computes in int8.")
    var int8Agreement: Double?

    @Option(help: "fastest (Winograd for float32 3×3 layers where oneDNN has it: outputs differ from direct in the last bits) or direct.")
    var convolution = ConvolutionAlgorithm.fastest

    func validate() throws {
        do { _ = try DeviceSelection.parse(device) } catch { throw ValidationError("\(error)") }
        if let int8Agreement {
            guard int8Agreement > 0, int8Agreement <= 1 else { throw ValidationError("--int8-agreement is a share in (0, 1], e.g. 0.99; got \(int8Agreement)") }
            guard precision == .int8 else { throw ValidationError("--int8-agreement applies to --precision int8") }
        }
        if let calibration {
            do { _ = try CalibrationSource.parse(calibration) } catch { throw ValidationError("\(error)") }
        }
    }

    /// --calibration as given; int8 without it calibrates on the input (`auto`).
    var calibrationSource: CalibrationSource? {
        if let calibration, let source = try? CalibrationSource.parse(calibration) { return source }
        return precision == .int8 ? .auto(count: CalibrationSource.defaultAutoCount) : nil
    }

    /// --device resolved against this machine, and the precision for it (--precision, else the device's default).
    /// A GPU is probed here, so call this before any input is opened: `--device cuda` without one fails at once.
    func placement(command: String) throws -> (placement: DevicePlacement, precision: Precision) {
        let selection = try DeviceSelection.parse(device)
        let (placement, note) = try CUDARuntime.resolver.resolve(selection)
        if selection != .cpu { printError("sluice \(command): \(note)") }
        return (placement, try placement.precision(precision))
    }

    /// The options besides --model, --weights and --precision, as `sluice run` arguments (what `bench` passes on).
    var arguments: [String] {
        var arguments = ["--convolution", convolution.rawValue]
        if device != "cpu" { arguments += ["--device", device] }
        if let calibration { arguments += ["--calibration", calibration] }
        if let int8Agreement { arguments += ["--int8-agreement", "\(int8Agreement)"] }
        return arguments
    }

    /// The model as given; `--calibration auto` is left to resolve (a command without an input dataset refuses it
    /// when the model is compiled, with a message that says so).
    func factory(on placement: DevicePlacement = .cpu, precision resolved: Precision? = nil, normalization: InputNormalization? = nil) -> ResNetFactory {
        ResNetFactory(model: model, weights: weights, precision: resolved ?? precision ?? placement.defaultPrecision, calibration: calibrationSource,
                      convolutionAlgorithm: convolution, placement: placement, inputNormalization: placement.isGPU ? normalization : nil,
                      int8AgreementTarget: int8Agreement)
    }

    /// The model, with `--calibration auto` (or int8 without --calibration) resolved on the job's input: the first
    /// N images, preprocessed by `preprocessor`. Also returns those samples (their ids are what eval leaves out).
    func factory(calibratingOn configuration: RunConfiguration, preprocessor: any RecordPreprocessor, storage: ObjectStorage,
                 command: String, placement: DevicePlacement = .cpu, precision resolved: Precision? = nil,
                 normalization: InputNormalization? = nil) throws -> (factory: ResNetFactory, calibration: AutoCalibration.Samples?) {
        let plain = factory(on: placement, precision: resolved, normalization: normalization)
        guard plain.needsAutoCalibration, case let .auto(count)? = plain.calibration else { return (plain, nil) }
        if calibration == nil {
            printError("sluice \(command): --precision int8 without --calibration: calibrating on the input (--calibration auto:\(count))")
        }
        let samples = try AutoCalibration(count: count, configuration: configuration, preprocessor: preprocessor, storage: storage).collect()
        if configuration.progress { printError("sluice \(command): \(samples.summary(asked: count))") }
        return (plain.calibrated(with: samples.tensor), samples)
    }
}
