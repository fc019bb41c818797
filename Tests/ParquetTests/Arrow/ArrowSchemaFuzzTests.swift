import Foundation
import SluiceTestSupport
import Testing
@testable import Parquet

@Suite("ARROW:schema fuzzing")
struct ArrowSchemaFuzzTests {
    /// Mutations per seed message; raise with ARROW_FUZZ_ITERATIONS for a longer local run.
    private let iterations = ProcessInfo.processInfo.environment["ARROW_FUZZ_ITERATIONS"].flatMap { Int($0) } ?? 400

    /// Decoding must either succeed or throw a ParquetError; it must never crash or hang.
    private func decodeMustNotCrash(_ bytes: [UInt8]) -> Bool {
        do {
            let schema = try ArrowSchema(ipcSchemaMessage: bytes)
            // Whatever decodes must also describe, detect tensors and round-trip without trouble.
            _ = schema.description
            for field in schema.fields { _ = field.tensorType }
            do {
                #expect(try ArrowSchema(ipcSchemaMessage: schema.ipcSchemaMessage()) == schema)
            } catch {
                Issue.record("a decoded schema does not round-trip: \(error)")
            }
            return true
        } catch let error as ParquetError {
            #expect(error.kind == .corruptMetadata || error.kind == .unsupported, "\(error)")
            return false
        } catch {
            Issue.record("non-Parquet error \(error)")
            return false
        }
    }

    private func seedMessages() -> [[UInt8]] {
        var messages = ArrowSchemaFixtures.all.compactMap { Data(base64Encoded: $0.base64).map { [UInt8]($0) } }
        messages.append(ArrowSchemaEncodingTests.everyType().ipcSchemaMessage())
        return messages
    }

    @Test("random byte flips", arguments: [1, 2, 3])
    func byteFlips(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        var decoded = 0
        for message in seedMessages() {
            for _ in 0..<iterations {
                var bytes = message
                for _ in 0...random.below(4) {
                    let index = random.below(bytes.count)
                    switch random.below(3) {
                    case 0: bytes[index] ^= UInt8(truncatingIfNeeded: 1 << random.below(8))
                    case 1: bytes[index] = UInt8(truncatingIfNeeded: random.next())
                    default: bytes[index] = [0x00, 0xFF, 0x7F, 0x80][random.below(4)]
                    }
                }
                if decodeMustNotCrash(bytes) { decoded += 1 }
            }
        }
        // Many flips land in padding or string bytes and still decode: the loop exercised both paths.
        #expect(decoded > 0 && decoded < seedMessages().count * iterations)
    }

    @Test("every truncation")
    func truncations() {
        for message in seedMessages() {
            for length in stride(from: 0, to: message.count, by: max(1, message.count / 300)) {
                _ = decodeMustNotCrash(Array(message.prefix(length)))
            }
        }
    }

    @Test("truncated flatbuffer with an honest length prefix")
    func truncatedFlatbuffers() {
        var random = SplitMix64(seed: 99)
        for message in seedMessages() where message.starts(with: [0xFF, 0xFF, 0xFF, 0xFF]) {
            for _ in 0..<200 {
                let keep = 8 + random.below(message.count - 8)
                var bytes = Array(message.prefix(keep))
                let length = keep - 8
                for index in 0..<4 { bytes[4 + index] = UInt8(truncatingIfNeeded: length >> (8 * index)) }
                _ = decodeMustNotCrash(bytes)
            }
        }
    }

    @Test("random 32-bit words written over offsets")
    func wordOverwrites() {
        var random = SplitMix64(seed: 7)
        for message in seedMessages() {
            for _ in 0..<iterations {
                var bytes = message
                let index = 8 + random.below(max(1, (bytes.count - 12) / 4)) * 4
                guard index + 4 <= bytes.count else { continue }
                let word = UInt32(truncatingIfNeeded: random.next() % 3 == 0 ? random.next() : random.next() % 4096)
                for offset in 0..<4 { bytes[index + offset] = UInt8(truncatingIfNeeded: word >> (8 * offset)) }
                _ = decodeMustNotCrash(bytes)
            }
        }
    }
}
