import Foundation
import Imaging

/// The shared image set's manifest.json: per file, what Pillow 9.4 and torchvision 0.14 made of it
/// (measured by the manifest's own script, independently of this code).
struct ImageManifest: Decodable {
    struct Entry: Decodable {
        struct Decoder: Decodable {
            var ok: Bool
            var error: String?
            var rgb_sha256: String?
        }
        var name: String
        var format: String
        var width: Int?
        var height: Int?
        var mode: String?
        var expect_error: Bool?
        var expected: String?
        var pillow: Decoder?
        var torchvision: Decoder?
    }
    var images: [Entry]

    static let shared: ImageManifest? = {
        guard let data = try? Data(contentsOf: TestPaths.images.appendingPathComponent("manifest.json")) else { return nil }
        return try? JSONDecoder().decode(ImageManifest.self, from: data)
    }()
}

extension ImageDecoder {
    /// Decodes `bytes` and returns the RGB bytes (row-major HWC) of the result.
    func decodeRGB(_ bytes: [UInt8]) throws -> (width: Int, height: Int, rgb: [UInt8], warnings: [String]) {
        try bytes.withUnsafeBytes { buffer in
            let decoded = try decode(buffer)
            let pixels = decoded.pixels
            var rgb = [UInt8](repeating: 0, count: pixels.width * pixels.height * 3)
            rgb.withUnsafeMutableBufferPointer { out in
                var o = 0
                for y in 0..<pixels.height {
                    let row = (pixels.base + y * pixels.rowBytes).assumingMemoryBound(to: UInt8.self)
                    let step = pixels.layout.bytesPerPixel
                    for x in 0..<pixels.width {
                        let p = row + x * step
                        out[o] = p[0]
                        out[o + 1] = step == 1 ? p[0] : p[1]
                        out[o + 2] = step == 1 ? p[0] : p[2]
                        o += 3
                    }
                }
            }
            return (pixels.width, pixels.height, rgb, decoded.warnings)
        }
    }
}
