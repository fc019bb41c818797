import Foundation
import Parquet

/// What the user said about untagged tensor columns (`--image-shape`, `--image-layout`, `--preprocessed`),
/// and the input shape the preprocessor produces (preprocessed tensors must have it).
public struct TensorInputOptions: Sendable, Equatable {
    /// Height, width, channels.
    public var shape: [Int]?
    public var order: ImageAxisOrder?
    public var preprocessed = false
    /// CHW, what the model takes; nil when unknown (then preprocessed tensors are not checked up front).
    public var modelInput: [Int]?

    public init(shape: [Int]? = nil, order: ImageAxisOrder? = nil, preprocessed: Bool = false, modelInput: [Int]? = nil) {
        self.shape = shape
        self.order = order
        self.preprocessed = preprocessed
        self.modelInput = modelInput
    }
}

/// How a numeric tensor column is read: as stored (`shape` in `order`), into HWC uint8 pixels or, for a
/// float column, CHW float32 model input.
public struct TensorRead: Sendable, Equatable {
    public var layout: TensorColumnLayout
    /// Row-major, as the values are stored.
    public var shape: [Int]
    public var order: ImageAxisOrder
    public var element: TensorElement
    /// Where the shape came from (an inferred one carries the line to log).
    public var shapeSource: ResolvedTensorShape.Source

    public var isPreprocessed: Bool { element == .float32 }

    /// The shape records are handed on in: HWC pixels, or CHW model input.
    public var deliveredShape: [Int] {
        let (h, w, c) = order == .hwc ? (shape[0], shape[1], shape[2]) : (shape[1], shape[2], shape[0])
        return isPreprocessed ? [c, h, w] : [h, w, c]
    }

    /// Whether rows must be transposed on the way (stored order differs from the delivered one).
    public var needsTranspose: Bool { isPreprocessed ? order == .hwc : order == .chw }

    /// One line for `sluice inspect` and logs: what `run` does with the column.
    public var summary: String {
        let stored = "\(layout), stored \(shape) \(order)"
        let shapeFrom: String
        switch shapeSource {
        case .user: shapeFrom = "shape from --image-shape"
        case .metadata: shapeFrom = "shape from the file's metadata"
        case .inferred: shapeFrom = "shape inferred from the row length"
        }
        let what = isPreprocessed
            ? "fed to the model as preprocessed \(deliveredShape) float32 input (no resizing or normalising)"
            : "read as \(deliveredShape[0])×\(deliveredShape[1])×\(deliveredShape[2]) uint8 pixels, then preprocessed"
        return "\(stored); \(shapeFrom); \(what)" + (needsTranspose ? " (transposed from \(order))" : "")
    }

    /// How `run` would read column `name` of `reader`; throws (with the option to pass) when it cannot.
    public static func plan(_ reader: ParquetFileReader, column name: String, layout: TensorColumnLayout,
                            options: TensorInputOptions) throws -> TensorRead {
        let file = reader.source.name
        guard let storage = layout.storage else {
            throw PipelineError.input("\(file): column '\(name)' is not a numeric tensor column (\(layout))")
        }
        if options.preprocessed && !storage.isFloatingPoint {
            throw PipelineError.input("\(file): --preprocessed, but column '\(name)' holds \(storage) values; preprocessed input is float16, float32 or float64")
        }
        let isTagged: Bool
        if case .taggedTensor = layout { isTagged = true } else { isTagged = false }
        // Pixels are stored HWC unless told otherwise; float tensors CHW (torchvision's order, what `staged` writes).
        let order = options.order ?? (storage.isFloatingPoint ? .chw : .hwc)
        let resolved: ResolvedTensorShape
        do {
            resolved = try TensorShapeInference.resolve(file: reader, column: name, layout: layout,
                                                        requested: isTagged ? nil : options.shape, order: order)
        } catch let error as ParquetError {
            throw PipelineError.input("\(error)")
        }
        guard resolved.shape.count == 3 else {
            throw PipelineError.input("\(file): column '\(name)' holds tensors of shape \(resolved.shape); images need three dimensions (H,W,C or C,H,W)")
        }
        let read = TensorRead(layout: layout, shape: resolved.shape, order: order,
                              element: storage.isFloatingPoint ? .float32 : .uint8, shapeSource: resolved.source)
        let channels = read.isPreprocessed ? read.deliveredShape[0] : read.deliveredShape[2]
        guard [1, 3, 4].contains(channels) || read.isPreprocessed else {
            throw PipelineError.input("\(file): column '\(name)' holds \(channels)-channel images (shape \(resolved.shape) \(order)); give --image-shape H,W,C and --image-layout hwc|chw if the order is another")
        }
        if read.isPreprocessed, let model = options.modelInput, model != read.deliveredShape {
            throw PipelineError.input("\(file): column '\(name)' holds preprocessed float tensors of shape \(read.deliveredShape) (CHW), but the model takes \(model); preprocess to the model's input size, or store uint8 pixels")
        }
        return read
    }
}

/// Lines logged once per process (an inferred shape is told once, not once per file).
enum InputNotices {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var told: Set<String> = []

    static func tell(_ line: String) {
        let isNew = lock.withLock { told.insert(line).inserted }
        if isNew { FileHandle.standardError.write(Data("sluice: \(line)\n".utf8)) }
    }
}

enum TensorTranspose {
    /// Rows of `from` (h, w, c) elements of `T`, each transposed CHW → HWC or HWC → CHW.
    static func rows<T>(_ bytes: [UInt8], as _: T.Type, rows: Int, shape: [Int], from order: ImageAxisOrder) -> [UInt8] {
        let count = shape.reduce(1, *)
        let (h, w, c) = order == .hwc ? (shape[0], shape[1], shape[2]) : (shape[1], shape[2], shape[0])
        let rowBytes = count * MemoryLayout<T>.stride
        var out = [UInt8](repeating: 0, count: rows * rowBytes)
        bytes.withUnsafeBytes { source in
            out.withUnsafeMutableBytes { target in
                for r in 0..<rows {
                    let input = source.baseAddress!.advanced(by: r * rowBytes).assumingMemoryBound(to: T.self)
                    let output = target.baseAddress!.advanced(by: r * rowBytes).assumingMemoryBound(to: T.self)
                    for y in 0..<h {
                        for x in 0..<w {
                            for k in 0..<c {
                                let hwc = (y * w + x) * c + k, chw = (k * h + y) * w + x
                                if order == .chw { output[hwc] = input[chw] } else { output[chw] = input[hwc] }
                            }
                        }
                    }
                }
            }
        }
        return out
    }
}

enum NormalisedCheck {
    /// Normalised model input (ImageNet mean/std) lies within about ±3; 0...255 pixel values stored as floats
    /// do not. nil when the row looks normalised, else why not.
    static func problem(_ row: UnsafeBufferPointer<Float>) -> String? {
        var largest: Float = 0
        var nanCheck: Float = 0
        for value in row {
            largest = max(largest, value.magnitude)
            nanCheck += value * 0
        }
        if nanCheck.isNaN { return "the preprocessed tensor holds NaN or infinite values" }
        if largest > 16 {
            return "the preprocessed tensor holds values up to \(largest), which do not look normalised (about -3...3 expected); store uint8 pixels instead, or normalise first"
        }
        return nil
    }
}

/// What `sluice run` would do with each candidate image column of a file (for `sluice inspect`).
public enum ImageColumnReport {
    public static func lines(_ reader: ParquetFileReader, options: TensorInputOptions) -> [String] {
        let chosen = try? ImageColumn.find(in: reader, named: nil, options: options).name
        var lines: [String] = []
        for field in reader.schema.fields {
            let name = field.name
            let mark = name == chosen ? " [run's default image column]" : ""
            let layout: TensorColumnLayout
            do {
                layout = try TensorColumnLayout.describe(file: reader, field: name)
            } catch {
                lines.append("image column? \(name): cannot be read: \(error)")
                continue
            }
            switch layout {
            case .other:
                continue
            case .binaryImages:
                lines.append("image column \(name): encoded image bytes; decoded (JPEG, PNG) and preprocessed\(mark)")
            default:
                do {
                    lines.append("image column \(name): \(try TensorRead.plan(reader, column: name, layout: layout, options: options).summary)\(mark)")
                } catch {
                    lines.append("image column \(name): \(layout); run cannot use it as it is: \(error)")
                }
            }
        }
        if lines.isEmpty { lines.append("no image column: no tensor, numeric list, binary or struct<bytes> column") }
        return lines
    }
}
