/// The model's per-image input against what preprocessing makes, checked before any record is read: a
/// mismatch would otherwise fail in the middle of a run, or (same element count, other shape) silently feed the
/// model a scrambled image.
public enum InputContract {
    public static func check(model: [Int], preprocessing: [Int]) throws {
        guard model != preprocessing else { return }
        var message = "the model takes \(model), preprocessing makes \(preprocessing)"
        if model.count == 3, preprocessing.count == 3 {
            if model[0] != preprocessing[0] {
                message += ": the model wants \(model[0]) channel(s) and Sluice feeds \(preprocessing[0]) (RGB)"
            } else {
                let size = model[1] == model[2] ? "\(model[1])" : "\(model[1])x\(model[2])"
                message += ": set the crop to the model's \(size) (--crop \(size), or \"crop\" in the model's .preprocess.json)"
            }
        } else if model.count != 3 {
            message += ": Sluice feeds images as [C, H, W] per sample"
        }
        throw PipelineError.configuration(message)
    }
}
