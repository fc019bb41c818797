import ArgumentParser
import Imaging
import Pipeline

/// What the model sees: torchvision's ImageNet evaluation transform by default, every parameter an option.
/// Shared by `run`, `predict`, `preprocess`, `bench` and `serve`, so the same flags mean the same everywhere.
/// An ONNX model's preprocessing can live beside it (`model.preprocess.json`, or --preprocess-config); each flag
/// given on the command line overrides the file's setting.
struct PreprocessOptions: ParsableArguments {
    @Option(help: "Resize: N (shorter side, torchvision's Resize(N)), HxW (Resize((H, W))), or none. (default: 256)")
    var resize: String?

    @Option(help: "With --resize N: cap the longer side (torchvision's max_size).")
    var maxSize: Int?

    @Option(help: "Center crop: N, HxW, or none (run and predict need one size for every image). (default: 224)")
    var crop: String?

    @Option(help: "Per-channel mean (R,G,B) subtracted after the division. (default: 0.485,0.456,0.406)")
    var mean: String?

    @Option(help: "Per-channel standard deviation (R,G,B). (default: 0.229,0.224,0.225)")
    var std: String?

    @Option(help: "Pixels are divided by this first (255 = ToTensor; 1 reproduces the benchmark scripts that skip it). (default: 255)")
    var divisor: Float?

    @Flag(help: "Decode large JPEGs reduced by 2, 4 or 8 in the DCT domain before resizing (faster, not bit-exact).")
    var fastDecode = false

    @Option(help: "A JSON file of preprocessing settings (resize, max_size, crop, mean, std, divisor, interpolation, layout, channel_order). Default: MODEL.preprocess.json beside an ONNX --model, when it exists. Flags override it.")
    var preprocessConfig: String?

    /// The preprocessing from the flags and --preprocess-config (no model to look beside).
    func spec() throws -> PreprocessSpec {
        try resolved(model: nil).spec
    }

    /// The preprocessing for `model`: each setting from its flag, else the sidecar (--preprocess-config, or the
    /// one beside an ONNX model), else the default; `source` says which, for the line a run prints.
    func resolved(model: String?) throws -> (spec: PreprocessSpec, source: String) {
        let sidecar: PreprocessSidecar?
        do {
            sidecar = try preprocessConfig.map(PreprocessSidecar.load) ?? model.flatMap(PreprocessSidecar.beside)
        } catch let error as PreprocessSidecarError {
            throw ValidationError("\(error)")
        }
        do {
            let maxSize = self.maxSize ?? sidecar?.maxSize
            let resize: PreprocessSpec.Resize
            if let text = self.resize {
                resize = try PreprocessSpec.parseResize(text, maxSize: maxSize)
            } else if let fromFile = sidecar?.resize {
                if case let .shorterSide(n) = fromFile, let maxSize { resize = .shorterSideAtMost(n, maxSize: maxSize) } else { resize = fromFile }
            } else {
                resize = try PreprocessSpec.parseResize("256", maxSize: maxSize)
            }
            let crop = try self.crop.map(PreprocessSpec.parseCrop) ?? sidecar?.crop ?? .square(224)
            let defaults = PreprocessSpec.imagenet
            let spec = PreprocessSpec(
                resize: resize, crop: crop,
                mean: try self.mean.map { try PreprocessSpec.parseChannels($0, what: "--mean") } ?? sidecar?.mean ?? defaults.mean,
                std: try self.std.map { try PreprocessSpec.parseChannels($0, what: "--std") } ?? sidecar?.std ?? defaults.std,
                divisor: self.divisor ?? sidecar?.divisor ?? defaults.divisor, fastDecode: fastDecode)
            try spec.validate()
            return (spec, source(sidecar))
        } catch let error as ImagingError {
            throw ValidationError(sidecar.map { "\(error) (preprocessing from \($0.file) and the flags)" } ?? "\(error)")
        }
    }

    /// The flags given on the command line, by their JSON key.
    private var flagsGiven: [String] {
        var given: [String] = []
        if resize != nil { given.append("--resize") }
        if maxSize != nil { given.append("--max-size") }
        if crop != nil { given.append("--crop") }
        if mean != nil { given.append("--mean") }
        if std != nil { given.append("--std") }
        if divisor != nil { given.append("--divisor") }
        return given
    }

    static let defaultSource = "defaults (torchvision's ImageNet evaluation transform)"

    private func source(_ sidecar: PreprocessSidecar?) -> String {
        let flags = flagsGiven
        guard let sidecar else {
            return flags.isEmpty ? Self.defaultSource
                : "flags \(flags.joined(separator: " ")), defaults for the rest"
        }
        var text = "\(sidecar.file)"
        if !flags.isEmpty { text += ", overridden by \(flags.joined(separator: " "))" }
        return text
    }

    /// The same options as `sluice run` arguments (what `bench` passes on to each run): only those given, so
    /// that each run resolves the sidecar the same way.
    var arguments: [String] {
        var arguments: [String] = []
        if let resize { arguments += ["--resize", resize] }
        if let crop { arguments += ["--crop", crop] }
        if let mean { arguments += ["--mean", mean] }
        if let std { arguments += ["--std", std] }
        if let divisor { arguments += ["--divisor", "\(divisor)"] }
        if let maxSize { arguments += ["--max-size", String(maxSize)] }
        if let preprocessConfig { arguments += ["--preprocess-config", preprocessConfig] }
        if fastDecode { arguments.append("--fast-decode") }
        return arguments
    }
}

extension PreprocessSpec {
    /// One line for logs: "resize 256, crop 224×224, mean [..], std [..], divisor 255".
    var summary: String {
        let resizeText: String
        switch resize {
        case let .shorterSide(n): resizeText = "resize \(n) (shorter side)"
        case let .shorterSideAtMost(n, maxSize): resizeText = "resize \(n) (shorter side, longer at most \(maxSize))"
        case let .exact(size): resizeText = "resize \(size)"
        case .none: resizeText = "no resize"
        }
        func list(_ v: SIMD3<Float>) -> String { "[\(v[0]), \(v[1]), \(v[2])]" }
        return "\(resizeText), crop \(crop.map(\.description) ?? "none"), mean \(list(mean)), std \(list(std)), divisor \(divisor)"
    }
}
