/// Where a weight's values come from and how they are rearranged into the weights buffer.
struct CUDAWeightPayload: Sendable {
    enum Values: Sendable {
        case tensor(Tensor)
        case floats([Float])
        case zeros
    }

    enum Arrangement: Sendable, Equatable {
        /// Row-major as given.
        case asIs
        /// [K, C, R, S] → [K, R, S, paddedC], zeros in channels C..<paddedC.
        case filterKRSC(k: Int, c: Int, r: Int, s: Int, paddedC: Int)
        /// A constant of per-sample shape [C, H, W] (already broadcast-padded to rank 3) → [H, W, C].
        case chwToHWC(c: Int, h: Int, w: Int)
    }

    let values: Values
    let arrangement: Arrangement
}

enum CUDAWeightPacking {
    /// float32 bits → bfloat16 bits, round to nearest even (NaN stays NaN).
    static func bfloat16Bits(_ value: Float) -> UInt16 {
        let bits = value.bitPattern
        if value.isNaN { return UInt16(truncatingIfNeeded: bits >> 16) | 0x40 }
        let rounding = UInt32(0x7FFF) + ((bits >> 16) & 1)
        return UInt16(truncatingIfNeeded: (bits &+ rounding) >> 16)
    }

    /// The weight's values in buffer order, as Float (before conversion to its type).
    static func arranged(_ payload: CUDAWeightPayload, count: Int) throws -> [Float] {
        let source: [Float]
        switch payload.values {
        case .tensor(let t): source = try t.floats()
        case .floats(let f): source = f
        case .zeros: return [Float](repeating: 0, count: count)
        }
        switch payload.arrangement {
        case .asIs:
            guard source.count == count else {
                throw InferenceError(.shapeMismatch, "weight of \(source.count) values where \(count) were planned")
            }
            return source
        case .filterKRSC(let k, let c, let r, let s, let paddedC):
            guard source.count == k * c * r * s, count == k * r * s * paddedC else {
                throw InferenceError(.shapeMismatch, "filter of \(source.count) values for [\(k), \(c), \(r), \(s)]")
            }
            var out = [Float](repeating: 0, count: count)
            for ko in 0..<k {
                for ci in 0..<c {
                    for y in 0..<r {
                        for x in 0..<s {
                            out[((ko * r + y) * s + x) * paddedC + ci] = source[((ko * c + ci) * r + y) * s + x]
                        }
                    }
                }
            }
            return out
        case .chwToHWC(let c, let h, let w):
            guard source.count == c * h * w, count == source.count else {
                throw InferenceError(.shapeMismatch, "constant of \(source.count) values for [\(c), \(h), \(w)]")
            }
            var out = [Float](repeating: 0, count: count)
            for ci in 0..<c {
                for y in 0..<h {
                    for x in 0..<w { out[(y * w + x) * c + ci] = source[(ci * h + y) * w + x] }
                }
            }
            return out
        }
    }

    /// Writes `values` as `type` at `target`.
    static func store(_ values: [Float], as type: CUDADataType, to target: UnsafeMutableRawPointer) {
        switch type {
        case .float32:
            for (i, v) in values.enumerated() { target.storeBytes(of: v, toByteOffset: i * 4, as: Float.self) }
        case .float16:
            for (i, v) in values.enumerated() {
                target.storeBytes(of: Float16(v).bitPattern, toByteOffset: i * 2, as: UInt16.self)
            }
        case .bfloat16:
            for (i, v) in values.enumerated() { target.storeBytes(of: bfloat16Bits(v), toByteOffset: i * 2, as: UInt16.self) }
        case .uint8:
            for (i, v) in values.enumerated() {
                target.storeBytes(of: UInt8(clamping: Int(v.rounded())), toByteOffset: i, as: UInt8.self)
            }
        }
    }
}

extension CUDAPlan {
    /// Writes every weight, converted and rearranged, at its offset into `buffer` (at least `weightsByteCount`
    /// bytes; the gaps between weights are left as they are).
    public func packWeights(into buffer: UnsafeMutableRawBufferPointer) throws {
        guard let base = buffer.baseAddress, buffer.count >= weightsByteCount else {
            throw InferenceError(.shapeMismatch, "a weights buffer of \(buffer.count) bytes; the plan needs \(weightsByteCount)")
        }
        for (weight, payload) in zip(weights, payloads) {
            let values = try CUDAWeightPacking.arranged(payload, count: weight.layout.elementCount)
            CUDAWeightPacking.store(values, as: weight.dtype, to: base + weight.offset)
        }
    }

    /// The weights buffer as bytes (for tests and for uploading at once).
    public func packedWeights() throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: weightsByteCount)
        try bytes.withUnsafeMutableBytes { try packWeights(into: $0) }
        return bytes
    }
}
