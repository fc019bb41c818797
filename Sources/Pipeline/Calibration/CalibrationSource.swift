/// Where int8's calibration samples come from: a .npy file of preprocessed inputs, or the first `count` images
/// of the job's own input, preprocessed as the job preprocesses them (`--calibration auto[:N]`).
public enum CalibrationSource: Sendable, Equatable, CustomStringConvertible {
    case file(String)
    case auto(count: Int)

    /// 256 images: max-abs scales stop moving after a few hundred typical images (MLPerf's ImageNet calibration
    /// list has 500, OpenVINO's default subset 300), and 256 × 3 × 224 × 224 float32 is 154 MB, well inside the
    /// default --max-memory of 2 GiB; one fp32 pass over them takes a few seconds.
    public static let defaultAutoCount = 256

    /// "auto", "auto:N" (N ≥ 1) or a path. A path that happens to be named "auto" can be given as "./auto".
    public static func parse(_ text: String) throws -> CalibrationSource {
        guard text == "auto" || text.hasPrefix("auto:") else { return .file(text) }
        if text == "auto" { return .auto(count: defaultAutoCount) }
        let number = text.dropFirst("auto:".count)
        guard let count = Int(number), count >= 1 else {
            throw PipelineError.configuration("--calibration: 'auto:N' needs a whole number of images N >= 1, got '\(text)'")
        }
        return .auto(count: count)
    }

    public var description: String {
        switch self {
        case let .file(path): path
        case let .auto(count): "auto:\(count)"
        }
    }
}
