import Foundation
@testable import Imaging
import Testing

/// Fast-decode mode reduces large JPEGs in the DCT domain (libjpeg-turbo's scaled IDCT, as Pillow's draft
/// mode and DALI do) before the same resize. Its output is not torchvision's; this measures by how much,
/// over every JPEG of the shared set that it applies to, against exact mode (itself bit-identical to
/// torchvision). The README quotes these bounds.
@Suite("Fast decode stays close to the exact path")
struct FastDecodeTests {
    @Test("deviation from exact mode on the real JPEGs at least twice the resize target")
    func deviation() throws {
        let manifest = try #require(ImageManifest.shared)
        let exact = try ImagePreprocessor()
        let fast = try ImagePreprocessor(spec: PreprocessSpec(fastDecode: true))
        var overall = Deviation()
        var measured = 0
        var lines: [String] = []
        for entry in manifest.images where entry.format == "jpeg" && entry.pillow?.ok == true && entry.expect_error != true {
            guard let width = entry.width, let height = entry.height, min(width, height) >= 512 else { continue }
            let bytes = try TestPaths.image(entry.name)
            let reference = try exact.nchw(bytes)
            let reduced = try fast.nchw(bytes)
            var deviation = Deviation()
            for (a, b) in zip(reference, reduced) { deviation.add(a, b) }
            overall.maxAbs = max(overall.maxAbs, deviation.maxAbs)
            overall.sumAbs += deviation.sumAbs
            overall.count += deviation.count
            let scale = JPEGDecoder.scaleDenominator(width: width, height: height, minimumWidth: 256, minimumHeight: 256)
            lines.append("\(entry.name) \(width)×\(height) 1/\(scale): \(deviation)")
            #expect(scale > 1)
            #expect(deviation.meanAbs <= 0.04 && deviation.maxAbs <= 0.8, "\(entry.name): \(deviation)")
            measured += 1
        }
        print("fast decode vs exact, normalised units:\n" + lines.joined(separator: "\n") + "\nall \(measured) images: \(overall)")
        #expect(measured >= 15)
        #expect(overall.meanAbs <= 0.02, "\(overall)")
    }

    @Test("small images and PNGs are decoded exactly in fast mode")
    func notApplied() throws {
        let exact = try ImagePreprocessor()
        let fast = try ImagePreprocessor(spec: PreprocessSpec(fastDecode: true))
        for name in ["photo-rocket.jpg", "photo-mountain.jpg", "photo-astronaut.png", "jpeg-tiny-3x2-chelsea.jpg"] {
            let bytes = try TestPaths.image(name)
            #expect(try exact.nchw(bytes) == fast.nchw(bytes), "\(name)")
        }
    }
}
