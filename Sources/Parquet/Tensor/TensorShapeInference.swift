/// The order of an image's values within a row: height, width, channels (numpy/PIL, Ray) or channels first
/// (torchvision's model input, what `staged` writes).
public enum ImageAxisOrder: String, Sendable, CaseIterable, CustomStringConvertible {
    case hwc, chw

    public var description: String { rawValue }

    /// The row-major shape of an image `height × width × channels` in this order.
    public func shape(height: Int, width: Int, channels: Int) -> [Int] {
        self == .hwc ? [height, width, channels] : [channels, height, width]
    }
}

/// Where a tensor column's shape came from, and the shape.
public struct ResolvedTensorShape: Sendable, Equatable {
    public enum Source: Sendable, Equatable {
        case user, metadata
        /// Inferred from the row length; `note` is the line to log.
        case inferred(note: String)
    }

    /// Row-major, as the values are stored.
    public var shape: [Int]
    public var source: Source
}

/// Finds the shape of an untagged list column: given by the user, carried in metadata, or inferred from
/// the length of the first rows when exactly one square 1- or 3-channel image fits it.
public enum TensorShapeInference {
    /// Rows (at most) and pages (at most) whose levels are read from the first row group to learn the row
    /// length: a handful of rows, so that opening a file of large images stays cheap.
    public static let probeRows = 8
    public static let probePages = 16

    /// The square images of 1 or 3 channels that `elements` values can hold, as [height, width, channels].
    public static func squareShapes(elements: Int) -> [[Int]] {
        guard elements > 0 else { return [] }
        return [1, 3].compactMap { channels in
            guard elements % channels == 0 else { return nil }
            let area = elements / channels
            var side = Int(Double(area).squareRoot().rounded())
            while side > 0 && side * side > area { side -= 1 }
            while (side + 1) * (side + 1) <= area { side += 1 }
            return side * side == area ? [side, side, channels] : nil
        }
    }

    /// The stored shape of `column` in `file`: `requested` (height, width, channels) in `order` when given,
    /// else the metadata's, else inferred from the first rows. Errors say what to pass.
    public static func resolve(file: ParquetFileReader, column: String, layout: TensorColumnLayout,
                               requested: [Int]?, order: ImageAxisOrder?, options: ReadOptions = ReadOptions()) throws -> ResolvedTensorShape {
        let at = ParquetError.Location(file: file.source.name, column: column)
        if let requested {
            guard requested.count == 3, requested.allSatisfy({ $0 > 0 }) else {
                throw ParquetError(.invalidArgument, "--image-shape must be three positive numbers H,W,C, got \(requested)", at: at)
            }
            let stored = (order ?? .hwc).shape(height: requested[0], width: requested[1], channels: requested[2])
            if case let .flatList(_, length?) = layout, TensorType.product(stored) != length {
                throw ParquetError(.invalidArgument, "--image-shape \(requested.map(String.init).joined(separator: ",")) holds \(TensorType.product(stored) ?? 0) values, but every row of '\(column)' holds \(length) (fixed_size_list)", at: at)
            }
            return ResolvedTensorShape(shape: stored, source: .user)
        }
        if let shape = layout.shape { return ResolvedTensorShape(shape: shape, source: .metadata) }
        let length: Int
        if case let .flatList(_, fixed?) = layout {
            length = fixed
        } else {
            let lengths = try TensorRowLengthProbe.firstRowLengths(file: file, column: column, options: options)
            let distinct = Set(lengths)
            guard let first = lengths.first else {
                throw ParquetError(.invalidArgument, "cannot infer the image shape of '\(column)': its first rows are null or empty; pass --image-shape H,W,C", at: at)
            }
            guard distinct.count == 1 else {
                throw ParquetError(.invalidArgument, "cannot infer the image shape of '\(column)': its first \(lengths.count) rows hold different numbers of values (\(distinct.sorted().prefix(4).map(String.init).joined(separator: ", "))\(distinct.count > 4 ? ", …" : "")); pass --image-shape H,W,C (rows of another length then fail one by one)", at: at)
            }
            length = first
        }
        let fits = squareShapes(elements: length)
        guard fits.count == 1, let hwc = fits.first else {
            let why = fits.isEmpty ? "no square image of 1 or 3 channels holds \(length) values"
                : "\(length) values fit \(fits.map { "\($0)" }.joined(separator: " and "))"
            throw ParquetError(.invalidArgument, "cannot infer the image shape of '\(column)': \(why); pass --image-shape H,W,C (and --image-layout hwc|chw)", at: at)
        }
        let resolvedOrder = order ?? (layout.holdsFloats ? .chw : .hwc)
        let stored = resolvedOrder.shape(height: hwc[0], width: hwc[1], channels: hwc[2])
        let note = "column '\(column)': rows of \(length) values read as \(hwc[0])×\(hwc[1]) images of \(hwc[2]) channel\(hwc[2] == 1 ? "" : "s"), \(resolvedOrder) (inferred; --image-shape and --image-layout override)"
        return ResolvedTensorShape(shape: stored, source: .inferred(note: note))
    }
}
