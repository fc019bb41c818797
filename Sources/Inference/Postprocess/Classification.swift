import Foundation

/// Turning logits into answers: softmax and top-k.
public enum Classification {
    /// Numerically stable softmax of one row.
    public static func softmax(_ logits: ArraySlice<Float>) -> [Float] {
        guard let maximum = logits.max() else { return [] }
        var exps = logits.map { Double($0 - maximum).exponential }
        let sum = exps.reduce(0, +)
        for i in exps.indices { exps[i] /= sum }
        return exps.map { Float($0) }
    }

    /// Indices of the k largest values, largest first (ties: lower index first).
    public static func topK(_ values: ArraySlice<Float>, k: Int) -> [Int] {
        let base = values.startIndex
        let order = values.indices.sorted { values[$0] != values[$1] ? values[$0] > values[$1] : $0 < $1 }
        return order.prefix(max(0, k)).map { $0 - base }
    }
}

private extension Double {
    var exponential: Double { exp(self) }
}
