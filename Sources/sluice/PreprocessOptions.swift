import ArgumentParser
import Imaging

/// What the model sees: torchvision's ImageNet evaluation transform by default, every parameter an option.
/// Shared by `run`, `predict`, `preprocess` and `bench`, so the same flags mean the same everywhere.
struct PreprocessOptions: ParsableArguments {
    @Option(help: "Resize: N (shorter side, torchvision's Resize(N)), HxW (Resize((H, W))), or none.")
    var resize = "256"

    @Option(help: "With --resize N: cap the longer side (torchvision's max_size).")
    var maxSize: Int?

    @Option(help: "Center crop: N, HxW, or none (run and predict need one size for every image).")
    var crop = "224"

    @Option(help: "Per-channel mean (R,G,B) subtracted after the division.")
    var mean = "0.485,0.456,0.406"

    @Option(help: "Per-channel standard deviation (R,G,B).")
    var std = "0.229,0.224,0.225"

    @Option(help: "Pixels are divided by this first (255 = ToTensor; 1 reproduces the benchmark scripts that skip it).")
    var divisor: Float = 255

    @Flag(help: "Decode large JPEGs reduced by 2, 4 or 8 in the DCT domain before resizing (faster, not bit-exact).")
    var fastDecode = false

    func spec() throws -> PreprocessSpec {
        do {
            let spec = PreprocessSpec(resize: try PreprocessSpec.parseResize(resize, maxSize: maxSize), crop: try PreprocessSpec.parseCrop(crop),
                                      mean: try PreprocessSpec.parseChannels(mean, what: "--mean"),
                                      std: try PreprocessSpec.parseChannels(std, what: "--std"), divisor: divisor, fastDecode: fastDecode)
            try spec.validate()
            return spec
        } catch let error as ImagingError {
            throw ValidationError("\(error)")
        }
    }

    /// The same options as `sluice run` arguments (what `bench` passes on to each run).
    var arguments: [String] {
        var arguments = ["--resize", resize, "--crop", crop, "--mean", mean, "--std", std, "--divisor", "\(divisor)"]
        if let maxSize { arguments += ["--max-size", String(maxSize)] }
        if fastDecode { arguments.append("--fast-decode") }
        return arguments
    }
}
