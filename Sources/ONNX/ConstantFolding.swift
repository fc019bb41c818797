import Inference

/// Evaluation of the operators exporters apply to constants (shape and padding arithmetic), on small
/// row-major arrays. Sizes are bounded by `limit` so that a crafted model cannot ask for huge constants.
enum ConstantFolding {
    static let limit = 1 << 24

    static func count(_ shape: [Int]) -> Int? {
        var n = 1
        for d in shape {
            guard d >= 0 else { return nil }
            let (p, o) = n.multipliedReportingOverflow(by: d)
            guard !o, p <= limit else { return nil }
            n = p
        }
        return n
    }

    /// Elements the shape would hold with its zero dimensions counted as one, if within `limit`. An empty
    /// constant holds no data that bounds its other dimensions (dims [0, 2^40, 2^40] is 0 bytes), yet folding
    /// builds index lists and strides from every dimension: such a constant must be small this way too.
    static func nominalCount(_ shape: [Int]) -> Int? {
        count(shape.map { max($0, 1) })
    }

    /// Whether a constant of `shape` holding `elements` values can go through folding.
    static func foldable(_ shape: [Int], elements: Int) -> Bool {
        elements > 0 || nominalCount(shape) != nil
    }

    static func strides(_ shape: [Int]) -> [Int] {
        var result = [Int](repeating: 1, count: shape.count)
        var s = 1
        for axis in shape.indices.reversed() {
            result[axis] = s
            s *= shape[axis]
        }
        return result
    }

    /// Elements at the given per-axis indices (every combination, row-major).
    static func gather<T>(_ values: [T], shape: [Int], indices: [[Int]]) -> [T] {
        let st = strides(shape)
        var offsets = [0]
        for axis in shape.indices {
            offsets = offsets.flatMap { base in indices[axis].map { base + $0 * st[axis] } }
        }
        return offsets.map { values[$0] }
    }

    static func transpose<T>(_ values: [T], shape: [Int], perm: [Int]) -> (values: [T], shape: [Int]) {
        let outShape = perm.map { shape[$0] }
        let st = strides(shape)
        var offsets = [0]
        for axis in perm {
            offsets = offsets.flatMap { base in (0..<shape[axis]).map { base + $0 * st[axis] } }
        }
        return (offsets.map { values[$0] }, outShape)
    }

    /// Per-axis indices of ONNX Slice (negative starts/ends count from the end; steps may be negative).
    static func sliceIndices(extent: Int, start: Int, end: Int, step: Int) -> [Int] {
        func clampIndex(_ v: Int, _ low: Int, _ high: Int) -> Int { min(max(v, low), high) }
        var s = start < 0 ? start &+ extent : start
        var e = end < 0 ? end &+ extent : end
        var result: [Int] = []
        if step > 0 {
            s = clampIndex(s, 0, extent)
            e = clampIndex(e, 0, extent)
            var i = s
            while i < e { result.append(i); i += step }
        } else {
            s = clampIndex(s, -1, extent - 1)
            e = clampIndex(e, -1, extent - 1)
            var i = s
            while i > e { result.append(i); i += step }
        }
        return result
    }

    /// `a op b` where the shapes are equal or one operand has a single element.
    static func elementwise(_ a: [Double], _ aShape: [Int], _ b: [Double], _ bShape: [Int],
                            _ op: (Double, Double) -> Double) -> (values: [Double], shape: [Int])? {
        if a.count == b.count, aShape == bShape || a.count == 1 {
            return (zip(a, b).map(op), aShape.count >= bShape.count ? aShape : bShape)
        }
        if b.count == 1 { return (a.map { op($0, b[0]) }, aShape) }
        if a.count == 1 { return (b.map { op(a[0], $0) }, bShape) }
        return nil
    }
}
