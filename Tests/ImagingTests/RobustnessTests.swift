import Foundation
import SluiceTestSupport
@testable import Imaging
import Testing

/// Mutated real images (truncations, bit flips, overwritten runs, and for PNG the same with every chunk
/// CRC repaired so the damage reaches zlib and the filters) must give a result or an `ImagingError`:
/// never a crash, a hang, or another kind of error.
@Suite("Decoding survives mutated bytes")
struct RobustnessTests {
    static let seeds = [
        "jpeg-420-peacock.jpg", "jpeg-422-peacock.jpg", "jpeg-progressive-peacock.jpg", "jpeg-arithmetic-progressive-32x32.jpg",
        "jpeg-restart-33x33.jpg", "jpeg-cmyk-mozilla-32x32.jpg", "jpeg-gray-peacock.jpg", "jpeg-sampling-odd-peacock.jpg",
        "png-gama-peacock.png", "png-interlaced-hippopotamus-36x28.png", "png-suite-basn3p04.png", "png-suite-basn6a16.png",
        "png-16bit-gray-trns.png", "png-rgba-hippopotamus-36x28.png",
    ]
    static let mutationsPerImage = 500

    static func mutate(_ original: [UInt8], _ random: inout SplitMix64) -> [UInt8] {
        var bytes = original
        switch random.below(4) {
        case 0:
            bytes.removeLast(random.below(bytes.count) + 1)
        case 1:
            for _ in 0...random.below(8) {
                let i = random.below(bytes.count)
                bytes[i] ^= UInt8(1) << UInt8(random.below(8))
            }
        case 2:
            let start = random.below(bytes.count), length = min(bytes.count - start, random.below(16) + 1)
            for i in start..<start + length { bytes[i] = UInt8(truncatingIfNeeded: random.next()) }
        default:
            // Flips near the start, where the headers are.
            for _ in 0...random.below(3) {
                let i = random.below(min(bytes.count, 700))
                bytes[i] = UInt8(truncatingIfNeeded: random.next())
            }
        }
        if original.starts(with: [0x89, 0x50]) && random.below(2) == 0 {
            bytes = repairingPNGChecksums(bytes)
        }
        return bytes
    }

    @Test("mutations of real images give a result or a typed error", arguments: Self.seeds)
    func mutations(_ name: String) throws {
        let original = try TestPaths.image(name)
        var random = SplitMix64(seed: UInt64(truncatingIfNeeded: name.hashValue == 0 ? 1 : name.utf8.reduce(17) { $0 &* 31 &+ Int($1) }))
        let preprocessor = try ImagePreprocessor(spec: PreprocessSpec(resize: .shorterSide(64), crop: .square(56)), maxPixels: 1 << 22)
        var output = [Float](repeating: 0, count: 3 * 56 * 56)
        var decoded = 0, failed = 0
        for _ in 0..<Self.mutationsPerImage {
            let bytes = Self.mutate(original, &random)
            do {
                try bytes.withUnsafeBytes { input in
                    try output.withUnsafeMutableBufferPointer { _ = try preprocessor.preprocess(encoded: input, into: .nchwFloat32($0)) }
                }
                decoded += 1
                let finite = output.allSatisfy { $0.isFinite }
                #expect(finite)
            } catch is ImagingError {
                failed += 1
            } catch {
                Issue.record("\(name): a mutation threw \(error), not an ImagingError")
            }
        }
        #expect(decoded + failed == Self.mutationsPerImage)
    }

    /// Every cut gives a typed error, except a PNG cut after its image data (only the last CRC or IEND is
    /// missing), which decodes to the whole image, as in Pillow.
    @Test("every prefix of a small JPEG and PNG")
    func everyPrefix() throws {
        let decoder = try ImageDecoder(maxPixels: 1 << 20)
        for name in ["jpeg-tiny-17x17.jpg", "png-suite-basn3p02.png", "jpeg-progressive-successive-approx-gray-32x32.jpg"] {
            let bytes = try TestPaths.image(name)
            let whole = try decoder.decodeRGB(bytes).rgb
            for length in 0..<bytes.count {
                do {
                    let cut = try decoder.decodeRGB(Array(bytes[0..<length]))
                    #expect(name.hasSuffix(".png") && cut.rgb == whole && length >= bytes.count - 16, "\(name) cut to \(length) bytes decoded")
                } catch let error as ImagingError {
                    #expect(error.kind != .io, "\(name) cut to \(length) bytes: \(error)")
                }
            }
        }
    }
}
