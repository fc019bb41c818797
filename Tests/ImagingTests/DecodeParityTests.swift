import Foundation
@testable import Imaging
import Testing

@Suite("Decoding agrees with Pillow")
struct DecodeParityTests {
    @Test("every image Pillow decodes gives the same RGB bytes as Pillow's convert(\"RGB\")")
    func pixelsMatchPillow() throws {
        let manifest = try #require(ImageManifest.shared, "missing \(TestPaths.images.path)/manifest.json")
        let decoder = try ImageDecoder()
        var compared = 0
        for entry in manifest.images {
            guard let pillow = entry.pillow, pillow.ok, let expected = pillow.rgb_sha256 else { continue }
            let bytes = try TestPaths.image(entry.name)
            if entry.name == "bad/png-bad-crc-idat.png" {
                // Pillow does not check IDAT CRCs; we do, as libpng (and so torchvision) does.
                #expect(throws: ImagingError.self) { _ = try decoder.decodeRGB(bytes) }
                continue
            }
            do {
                let decoded = try decoder.decodeRGB(bytes)
                #expect(decoded.width == entry.width && decoded.height == entry.height, "\(entry.name): size")
                #expect(Digest.sha256Hex(decoded.rgb) == expected, "\(entry.name) (\(entry.mode ?? "?")): pixels differ from Pillow's")
                compared += 1
            } catch {
                Issue.record("\(entry.name): \(error)")
            }
        }
        #expect(compared > 130)
    }

    /// libjpeg keeps a reused decompressor's tables; a Motion-JPEG frame (no DHT) must still decode with
    /// the standard tables, as a fresh decoder (and Pillow) would.
    @Test("a JPEG without Huffman tables decodes the same after other JPEGs")
    func noStaleTables() throws {
        let manifest = try #require(ImageManifest.shared)
        let expected = try #require(manifest.images.first { $0.name == "jpeg-no-huffman-tables-mjpeg.jpg" }?.pillow?.rgb_sha256)
        let decoder = try ImageDecoder()
        for name in ["photo-rocket.jpg", "jpeg-progressive-coffee.jpg", "jpeg-optimized-huffman-peacock.jpg"] {
            _ = try decoder.decodeRGB(try TestPaths.image(name))
            #expect(Digest.sha256Hex(try decoder.decodeRGB(try TestPaths.image("jpeg-no-huffman-tables-mjpeg.jpg")).rgb) == expected, "after \(name)")
        }
    }
}
