import Foundation
import NumpyFormat

/// One record of a request body, before preprocessing.
enum RequestRecord {
    /// JPEG or PNG bytes.
    case encoded([UInt8])
    /// HWC uint8 pixels of `shape` (an `.npy` uint8 array).
    case pixels([UInt8], shape: [Int])
    /// Already the model's input (an `.npy` float32 array of the model's shape).
    case preprocessed([Float])
    /// A record that cannot be used; the reason goes into its answer.
    case invalid(String)
}

/// The media types `POST /invocations` takes, as SageMaker Batch Transform sends them.
enum RequestFormat: Sendable, Equatable {
    case image, npy, jsonLines, parquet

    /// The format of a Content-Type (parameters ignored); nil when not supported. A missing or empty one
    /// means an image, as SageMaker sends a record without a content type.
    init?(contentType: String?) {
        let header = (contentType ?? "").trimmingCharacters(in: .whitespaces)
        let type = header.isEmpty ? "application/x-image"
            : header.split(separator: ";", omittingEmptySubsequences: false)[0].trimmingCharacters(in: .whitespaces).lowercased()
        switch type {
        case "image/jpeg", "image/jpg", "image/png", "application/x-image", "application/octet-stream": self = .image
        case "application/x-npy", "application/npy": self = .npy
        case "application/jsonlines", "application/x-jsonlines", "application/jsonl": self = .jsonLines
        case "application/x-parquet", "application/vnd.apache.parquet": self = .parquet
        default: return nil
        }
    }

    static let supported = "image/jpeg, image/png, application/x-image, application/x-npy, application/jsonlines, application/x-parquet"

    /// Whether one bad record fails the whole request (a body that is one record) or only its own line.
    var isMultiRecord: Bool { self != .image }
}

enum RequestDecoding {
    /// The records of an `.npy` body: float32 `[C,H,W]` or `[N,C,H,W]` of the model's input shape, or uint8
    /// `[H,W,3]` or `[N,H,W,3]` pixels.
    static func npy(_ body: [UInt8], modelInput: [Int]) throws -> [RequestRecord] {
        let header: NumpyArrayHeader
        do {
            header = try body.withUnsafeBytes { try NumpyArrayHeader.parse($0) }
        } catch {
            throw ServingError.badRequest("application/x-npy body: \(error)")
        }
        let shape = header.shape
        let data = body[header.dataOffset...]
        switch header.dtype {
        case .float32 where shape == modelInput || Array(shape.dropFirst()) == modelInput:
            let count = shape == modelInput ? 1 : shape[0]
            let elements = modelInput.reduce(1, *)
            let floats: [Float] = data.withUnsafeBytes { raw in (0..<(count * elements)).map { raw.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) } }
            return (0..<count).map { .preprocessed(Array(floats[($0 * elements)..<(($0 + 1) * elements)])) }
        case .uint8 where (shape.count == 3 || shape.count == 4) && shape.last == 3:
            let count = shape.count == 3 ? 1 : shape[0]
            let image = Array(shape.suffix(3))
            let bytes = image.reduce(1, *)
            let pixels = Array(data)
            return (0..<count).map { .pixels(Array(pixels[($0 * bytes)..<(($0 + 1) * bytes)]), shape: image) }
        default:
            throw ServingError.badRequest("application/x-npy body holds \(header.dtype) \(shape); expected float32 \(modelInput) or [N, \(modelInput.map(String.init).joined(separator: ", "))] (preprocessed), or uint8 [H, W, 3] or [N, H, W, 3] (pixels)")
        }
    }

    /// The records of a JSON Lines body: each line a base64 string (a JSON string or bare), or an object with
    /// the base64 in "b64", "image", "data" or {"image_bytes": {"b64": …}}. A line that is none of these is an
    /// invalid record.
    static func jsonLines(_ body: [UInt8]) -> [RequestRecord] {
        var lines = String(decoding: body, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        while lines.last?.isEmpty == true { lines.removeLast() }
        return lines.enumerated().map { number, line in
            guard !line.isEmpty else { return .invalid("line \(number + 1) is empty") }
            // A bare base64 line (not JSON) is taken as the image too.
            let value = (try? JSONSerialization.jsonObject(with: Data(line.utf8), options: [.fragmentsAllowed])) ?? line
            let text: String? = switch value {
            case let string as String: string
            case let object as [String: Any]:
                (object["b64"] ?? object["image"] ?? object["data"]) as? String
                    ?? ((object["image_bytes"] as? [String: Any])?["b64"] as? String)
            default: nil
            }
            guard let text else { return .invalid("line \(number + 1) has no base64 image (a string, or \"b64\"/\"image\"/\"data\")") }
            guard let bytes = Data(base64Encoded: text, options: .ignoreUnknownCharacters), !bytes.isEmpty else {
                return .invalid("line \(number + 1) is not base64")
            }
            return .encoded([UInt8](bytes))
        }
    }
}
