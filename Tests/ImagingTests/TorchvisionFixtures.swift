import Foundation
import Imaging

/// Tests/Fixtures/imaging/expected.json, written by Tests/Fixtures/make_imaging_fixtures.py with
/// torchvision 0.14 and Pillow 9.4.
struct TorchvisionFixtures: Decodable {
    struct Normalization: Decodable {
        var mean: [Float]
        var std: [Float]
        var values: [[Double]]
    }

    struct Transform: Decodable {
        /// An int (shorter side) or [height, width].
        var resize: [Int]
        /// An int (square), [height, width], or nil (no crop).
        var crop: [Int]?
        var mean: [Float]
        var std: [Float]
        var divisor: Float

        enum CodingKeys: String, CodingKey { case resize, crop, mean, std, divisor }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            if let side = try? c.decode(Int.self, forKey: .resize) {
                resize = [side]
            } else {
                resize = try c.decode([Int].self, forKey: .resize)
            }
            if try c.decodeNil(forKey: .crop) {
                crop = nil
            } else {
                if let side = try? c.decode(Int.self, forKey: .crop) {
                    crop = [side]
                } else {
                    crop = try c.decode([Int].self, forKey: .crop)
                }
            }
            mean = try c.decode([Float].self, forKey: .mean)
            std = try c.decode([Float].self, forKey: .std)
            divisor = try c.decode(Float.self, forKey: .divisor)
        }

        func spec(fastDecode: Bool) -> PreprocessSpec {
            let resizeSpec: PreprocessSpec.Resize = resize.count == 1
                ? .shorterSide(resize[0]) : .exact(.init(width: resize[1], height: resize[0]))
            let cropSize = crop.map { $0.count == 1 ? PreprocessSpec.Size.square($0[0]) : .init(width: $0[1], height: $0[0]) }
            return PreprocessSpec(resize: resizeSpec, crop: cropSize, mean: SIMD3(mean), std: SIMD3(std),
                                  divisor: divisor, fastDecode: fastDecode)
        }
    }

    struct Source: Decodable {
        var file: String?
        /// [height, width, channels] of a tensor made by `rawTensor`.
        var raw: [Int]?
    }

    struct Case: Decodable {
        var name: String
        var source: Source
        var transform: Transform
        /// pil, tensor or draft.
        var reference: String
        var shape: [Int]
        var sha256_float32: String
        var sha256_uint8_hwc: String?
        var channel_mean: [Double]
        var stride: Int
        var samples: [Float]
        var draft_scale: Int?
        var draft_size: [Int]?
        var draft_rgb_sha256: String?

        var label: String { "\(name) [\(reference)] \(shape)" }
    }

    struct Resize: Decodable {
        var width: Int
        var height: Int
        var size: [Int]
        var max_size: Int?
        var resized_width: Int
        var resized_height: Int
    }

    struct Crop: Decodable {
        var width: Int
        var height: Int
        /// [height, width]
        var crop: [Int]
        var offset_top: Int
        var offset_left: Int
    }

    struct Geometry: Decodable {
        var resizes: [Resize]
        var crops: [Crop]
    }

    struct Encoder: Decodable {
        var raw: [Int]
        var quality: Int
        var decoded_rgb_sha256: String
    }

    var normalization: Normalization
    var geometry: Geometry
    var encoder: Encoder
    var cases: [Case]

    static func load() throws -> TorchvisionFixtures {
        let data = try Data(contentsOf: TestPaths.fixtures.appendingPathComponent("expected.json"))
        return try JSONDecoder().decode(TorchvisionFixtures.self, from: data)
    }

    /// The fixture script's synthetic raw image (`raw_pixel`), HWC uint8.
    static func rawTensor(height: Int, width: Int, channels: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: height * width * channels)
        for y in 0..<height {
            for x in 0..<width {
                for c in 0..<channels {
                    let value = x * (3 + c) + y * (5 - c) + (x * y) / 64 + 31 * ((x / 16 + y / 16) % 2)
                    out[(y * width + x) * channels + c] = UInt8(((value % 256) + 256) % 256)
                }
            }
        }
        return out
    }
}
