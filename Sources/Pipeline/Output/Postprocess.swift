/// Softmax and top-k over one image's logits.
enum Postprocess {
    /// Writes the `k` best class indices (best first) and their softmax probabilities.
    static func topK(_ logits: UnsafeBufferPointer<Float>, k: Int, indices: UnsafeMutableBufferPointer<Int32>,
                     scores: UnsafeMutableBufferPointer<Float>) {
        var largest = -Float.infinity
        for value in logits where value > largest { largest = value }
        var sum: Float = 0
        for value in logits { sum += expf(value - largest) }
        // Insertion into a short sorted list: k is small (5), the class count large (1000).
        var best: [(value: Float, index: Int)] = []
        best.reserveCapacity(k + 1)
        for (i, value) in logits.enumerated() {
            if best.count < k || value > best[best.count - 1].value {
                var position = best.count
                while position > 0 && best[position - 1].value < value { position -= 1 }
                best.insert((value, i), at: position)
                if best.count > k { best.removeLast() }
            }
        }
        for (slot, entry) in best.enumerated() {
            indices[slot] = Int32(entry.index)
            scores[slot] = expf(entry.value - largest) / sum
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
