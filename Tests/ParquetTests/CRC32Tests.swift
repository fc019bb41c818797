import Testing
@testable import Parquet

@Suite("crc32 matches zlib.crc32")
struct CRC32Tests {
    @Test("values computed by Python's zlib.crc32")
    func matchesPython() {
        for vector in CodecTestVectors.crc32 {
            let data = codecBytes(base64: vector.dataBase64)
            #expect(data.withUnsafeBytes { crc32($0, initial: vector.initial) } == vector.crc, "\(vector.name)")
        }
    }

    @Test("continuing from a running value equals one pass over the whole buffer")
    func chains() {
        let data = codecImageLikeBytes(count: 10_000, seed: 3)
        let whole = data.withUnsafeBytes { crc32($0) }
        let head = data[..<3333].withUnsafeBytes { crc32($0) }
        let both = data[3333...].withUnsafeBytes { crc32($0, initial: head) }
        #expect(both == whole)
    }
}
