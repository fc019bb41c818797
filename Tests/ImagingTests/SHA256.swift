import Crypto

/// Lowercase hex SHA-256 (swift-crypto), to compare decoded pixels with the hashes in the image manifest.
enum Digest {
    static func sha256Hex<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        SHA256.hash(data: Array(bytes)).map { byte in
            let digits = String(byte, radix: 16)
            return digits.count == 1 ? "0" + digits : digits
        }.joined()
    }
}
