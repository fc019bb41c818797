import Foundation
import Imaging

/// The preprocessing an ONNX model expects, kept next to it: `model.onnx` + `model.preprocess.json` (an ONNX
/// file carries no preprocessing). Every key is optional; what is missing comes from the command line's
/// flags or the defaults (torchvision's ImageNet evaluation transform), and flags override the file.
///
///     {"resize": 256, "max_size": 512, "crop": 224, "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225],
///      "divisor": 255, "interpolation": "bilinear", "layout": "nchw", "channel_order": "rgb", "comment": "…"}
///
/// resize: N (shorter side), "HxW", [H, W] or "none"; crop: N, "HxW", [H, W] or "none". interpolation, layout and
/// channel_order name what Sluice implements (antialiased bilinear as torchvision's Resize, NCHW, RGB) and
/// refuse anything else, so that a model that expects BGR or NHWC input fails before its predictions are wrong.
public struct PreprocessSidecar: Sendable, Equatable {
    public let file: String
    public var resize: PreprocessSpec.Resize?
    public var maxSize: Int?
    /// nil: not in the file; .some(nil): "none".
    public var crop: PreprocessSpec.Size??
    public var mean: SIMD3<Float>?
    public var std: SIMD3<Float>?
    public var divisor: Float?

    public static let keys: Set<String> = ["resize", "max_size", "crop", "mean", "std", "divisor", "interpolation",
                                           "layout", "channel_order", "comment"]
    /// A preprocessing description is a few hundred bytes; anything far larger is not one.
    public static let maximumFileSize = 1 << 20

    public init(file: String) { self.file = file }

    /// `dir/model.onnx` → `dir/model.preprocess.json`.
    public static func path(besideModel model: String) -> String {
        let url = URL(fileURLWithPath: model)
        return url.deletingPathExtension().path + ".preprocess.json"
    }

    /// The sidecar beside an ONNX `model`, when there is one.
    public static func beside(model: String) throws -> PreprocessSidecar? {
        guard model.lowercased().hasSuffix(".onnx") else { return nil }
        let path = path(besideModel: model)
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        return try load(path: path)
    }

    public static func load(path: String) throws -> PreprocessSidecar {
        let size: Int
        do {
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            size = (attributes[.size] as? NSNumber)?.intValue ?? 0
        } catch {
            throw PreprocessSidecarError(file: path, "cannot read it: \(error.localizedDescription)")
        }
        guard size <= maximumFileSize else {
            throw PreprocessSidecarError(file: path, "\(size) bytes: larger than \(maximumFileSize), not a preprocessing description")
        }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw PreprocessSidecarError(file: path, "cannot read it: \(error.localizedDescription)")
        }
        return try parse(data, file: path)
    }

    public static func parse(_ data: Data, file: String) throws -> PreprocessSidecar {
        let root: JSONValue
        do { root = try JSONDecoder().decode(JSONValue.self, from: data) } catch {
            throw PreprocessSidecarError(file: file, "not valid JSON (\(Self.reason(error)))")
        }
        guard case let .object(entries) = root else {
            throw PreprocessSidecarError(file: file, "must be a JSON object of preprocessing settings, not \(root.kind)")
        }
        var sidecar = PreprocessSidecar(file: file)
        for key in entries.keys.sorted() where !keys.contains(key) {
            throw PreprocessSidecarError(file: file, key: key, "unknown key; known: \(keys.sorted().joined(separator: ", "))")
        }
        for (key, value) in entries.sorted(by: { $0.key < $1.key }) {
            func fail(_ reason: String) -> PreprocessSidecarError { PreprocessSidecarError(file: file, key: key, reason) }
            switch key {
            case "resize":
                guard let size = try sizeValue(value, fail) else { sidecar.resize = PreprocessSpec.Resize.none; continue }
                if case .number = value { sidecar.resize = .shorterSide(size.width) }
                else if case let .string(text) = value, !text.lowercased().contains("x") { sidecar.resize = .shorterSide(size.width) }
                else { sidecar.resize = .exact(size) }
            case "max_size":
                sidecar.maxSize = try sideValue(value, fail)
            case "crop":
                sidecar.crop = .some(try sizeValue(value, fail))
            case "mean":
                sidecar.mean = try channelValues(value, fail)
            case "std":
                let std = try channelValues(value, fail)
                guard std[0] != 0, std[1] != 0, std[2] != 0 else { throw fail("must be non-zero, got \(Self.list(std))") }
                sidecar.std = std
            case "divisor":
                guard case let .number(n) = value, n.isFinite, n != 0, Float(n).isFinite else {
                    throw fail("must be a finite non-zero number (255 = ToTensor), got \(value)")
                }
                sidecar.divisor = Float(n)
            case "interpolation":
                try expect(value, oneOf: ["bilinear", "linear"], fail,
                           "Sluice resizes with antialiased bilinear interpolation (torchvision's default)")
            case "layout":
                try expect(value, oneOf: ["nchw"], fail, "Sluice feeds models NCHW float32")
            case "channel_order":
                try expect(value, oneOf: ["rgb"], fail, "Sluice feeds channels in RGB order")
            case "comment":
                guard case .string = value else { throw fail("must be a string, got \(value)") }
            default:
                break
            }
        }
        if let maxSize = sidecar.maxSize {
            switch sidecar.resize {
            case let .shorterSide(n)?:
                guard maxSize > n else {
                    throw PreprocessSidecarError(file: file, key: "max_size", "must be larger than resize (\(n)), got \(maxSize)")
                }
            case .exact?, PreprocessSpec.Resize.none?:
                throw PreprocessSidecarError(file: file, key: "max_size", "applies only to a shorter-side resize (resize: N)")
            default:
                break
            }
        }
        return sidecar
    }

    /// What the sidecar sets, for the line a run prints.
    public var settings: [String] {
        var names: [String] = []
        if resize != nil { names.append("resize") }
        if maxSize != nil { names.append("max_size") }
        if crop != nil { names.append("crop") }
        if mean != nil { names.append("mean") }
        if std != nil { names.append("std") }
        if divisor != nil { names.append("divisor") }
        return names
    }

    private static func sideValue(_ value: JSONValue, _ fail: (String) -> PreprocessSidecarError) throws -> Int {
        guard case let .number(n) = value, n == n.rounded(), n >= 1, n <= Double(PreprocessSpec.maxSide) else {
            throw fail("must be a whole number of pixels in 1...\(PreprocessSpec.maxSide), got \(value)")
        }
        return Int(n)
    }

    /// N, "N", "HxW", [H, W], "none" or null (nil).
    private static func sizeValue(_ value: JSONValue, _ fail: (String) -> PreprocessSidecarError) throws -> PreprocessSpec.Size? {
        switch value {
        case .null:
            return nil
        case .number:
            return .square(try sideValue(value, fail))
        case let .array(items) where items.count == 2:
            return PreprocessSpec.Size(width: try sideValue(items[1], fail), height: try sideValue(items[0], fail))
        case let .string(text):
            let parsed: PreprocessSpec.Size?
            do { parsed = try PreprocessSpec.parseCrop(text) } catch {
                throw fail("must be N, \"HxW\", [H, W] or \"none\", got \(value)")
            }
            if let parsed, parsed.width > PreprocessSpec.maxSide || parsed.height > PreprocessSpec.maxSide {
                throw fail("sides must be in 1...\(PreprocessSpec.maxSide), got \(value)")
            }
            return parsed
        default:
            throw fail("must be N, \"HxW\", [H, W] or \"none\", got \(value)")
        }
    }

    private static func channelValues(_ value: JSONValue, _ fail: (String) -> PreprocessSidecarError) throws -> SIMD3<Float> {
        guard case let .array(items) = value, items.count == 3 else {
            throw fail("must be three numbers [R, G, B], got \(value)")
        }
        var result = SIMD3<Float>()
        for (i, item) in items.enumerated() {
            guard case let .number(n) = item, n.isFinite, Float(n).isFinite else {
                throw fail("must be three finite numbers [R, G, B], got \(value)")
            }
            result[i] = Float(n)
        }
        return result
    }

    private static func expect(_ value: JSONValue, oneOf accepted: [String], _ fail: (String) -> PreprocessSidecarError,
                               _ why: String) throws {
        guard case let .string(text) = value, accepted.contains(text.lowercased()) else {
            throw fail("\(why); got \(value)")
        }
    }

    static func list(_ v: SIMD3<Float>) -> String { "[\(v[0]), \(v[1]), \(v[2])]" }

    private static func reason(_ error: Error) -> String {
        if case let DecodingError.dataCorrupted(context) = error {
            return (context.underlyingError.map { "\($0)" } ?? context.debugDescription)
        }
        return "\(error)"
    }
}

public struct PreprocessSidecarError: Error, CustomStringConvertible, Sendable {
    public let file: String
    public let key: String?
    public let reason: String

    public init(file: String, key: String? = nil, _ reason: String) {
        self.file = file
        self.key = key
        self.reason = reason
    }

    public var description: String {
        key.map { "\(file): key \"\($0)\": \(reason)" } ?? "\(file): \(reason)"
    }
}

/// Any JSON value, decoded without losing the difference between numbers, booleans and strings.
enum JSONValue: Decodable, Equatable, CustomStringConvertible {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let b = try? container.decode(Bool.self) { self = .bool(b) }
        else if let n = try? container.decode(Double.self) { self = .number(n) }
        else if let s = try? container.decode(String.self) { self = .string(s) }
        else if let a = try? container.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }

    var kind: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }

    var description: String {
        switch self {
        case .null: "null"
        case let .bool(b): "\(b)"
        case let .number(n): n == n.rounded() && abs(n) < 1e15 ? "\(Int(n))" : "\(n)"
        case let .string(s): "\"\(s)\""
        case let .array(items): "[" + items.map(\.description).joined(separator: ", ") + "]"
        case .object: "{…}"
        }
    }
}
