enum WeightFingerprint {
    /// A 64-bit FNV-1a over 8-byte words of `bytes` (then its tail) and its length: which upload in the
    /// `CUDAWeightCache` holds these converted weights.
    static func of(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        let words = bytes.count / 8
        for index in 0..<words {
            hash = (hash ^ bytes.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self)) &* 0x100_0000_01b3
        }
        for index in (words * 8)..<bytes.count {
            hash = (hash ^ UInt64(bytes[index])) &* 0x100_0000_01b3
        }
        return hash ^ UInt64(bytes.count)
    }
}
