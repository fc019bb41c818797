import Foundation
import Inference
import Testing
@testable import ONNX

/// Seeded byte mutations of the tiny model: every one either loads or throws an ONNXError, never traps;
/// some of those that load are compiled and run too. SLUICE_ONNX_MUTATIONS and SLUICE_ONNX_SEED run more or others.
struct MutationTests {
    struct SplitMix {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    @Test func mutatedModelsLoadOrThrowTypedErrors() throws {
        let original = try Data(contentsOf: URL(fileURLWithPath: ONNXFixtures.path("tiny_opset17.onnx")))
        let environment = ProcessInfo.processInfo.environment
        var random = SplitMix(state: UInt64(environment["SLUICE_ONNX_SEED"] ?? "") ?? 17)
        let count = Int(environment["SLUICE_ONNX_MUTATIONS"] ?? "") ?? 1500
        var loaded = 0, refused = 0, ran = 0
        let input = try Tensor(shape: [1, 3, 32, 32], values: [Float](repeating: 0.5, count: 3 * 32 * 32))
        for _ in 0..<count {
            var bytes = [UInt8](original)
            for _ in 0..<(1 + Int(random.next() % 4)) {
                let position = Int(random.next() % UInt64(bytes.count))
                switch random.next() % 4 {
                case 0: bytes[position] = UInt8(truncatingIfNeeded: random.next())
                case 1: bytes[position] ^= 1 << UInt8(random.next() % 8)
                case 2: bytes[position] = [0x00, 0x01, 0x7F, 0x80, 0xFF][Int(random.next() % 5)]
                default: bytes.removeSubrange(position..<min(bytes.count, position + 1 + Int(random.next() % 8)))
                }
            }
            do {
                let model = try ONNXModel.load(data: Data(bytes), file: "mutated.onnx")
                loaded += 1
                if ran < 40, model.input.sampleShape == [3, 32, 32] {
                    ran += 1
                    _ = try? OneDNNBackend(threads: 1).compile(model.graph, batchSize: 1, precision: .fp32).run(input)
                }
            } catch is ONNXError {
                refused += 1
            } catch {
                Issue.record("not an ONNXError: \(error)")
            }
        }
        print("mutations: \(loaded) loaded (\(ran) run), \(refused) refused")
        #expect(refused > 0)
        #expect(loaded > 0)
    }
}
