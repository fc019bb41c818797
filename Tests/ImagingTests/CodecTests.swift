import Foundation
@testable import Imaging
import Testing

@Suite("JPEG encoder and .npy files")
struct CodecTests {
    @Test("quality-90 JPEGs decode to the same pixels as Pillow's quality-90 JPEGs of the same image")
    func encoderMatchesPillow() throws {
        let reference = try #require(try? TorchvisionFixtures.load().encoder)
        let raw = TorchvisionFixtures.rawTensor(height: reference.raw[0], width: reference.raw[1], channels: reference.raw[2])
        let encoder = try JPEGEncoder(quality: reference.quality)
        let jpeg = try raw.withUnsafeBytes { try encoder.encode(try PixelView.tensor($0, shape: reference.raw)) }
        #expect(jpeg.starts(with: [0xFF, 0xD8, 0xFF]))
        let decoded = try ImageDecoder().decodeRGB(jpeg)
        #expect(Digest.sha256Hex(decoded.rgb) == reference.decoded_rgb_sha256)
    }

    @Test("the encoder reuses its buffer across sizes and layouts")
    func encoderReuse() throws {
        let encoder = try JPEGEncoder(quality: 75, subsampling: .s444)
        for (width, height, layout) in [(64, 48, PixelLayout.rgb), (300, 200, .rgbx), (17, 9, .gray), (64, 48, .rgb)] {
            let pixels = [UInt8]((0..<(width * height * layout.bytesPerPixel)).map { UInt8(truncatingIfNeeded: $0 * 7) })
            let jpeg = try pixels.withUnsafeBytes { try encoder.encode(try PixelView($0, width: width, height: height, layout: layout)) }
            let decoded = try ImageDecoder().decodeRGB(jpeg)
            #expect(decoded.width == width && decoded.height == height)
        }
    }

    @Test(".npy files are byte-identical to numpy.save's", arguments: [
        ("arange-f4-2x3x4.npy", NPY.DType.float32, [2, 3, 4]),
        ("arange-u1-3x5.npy", .uint8, [3, 5]),
        ("scalar-f4-7.npy", .float32, [7]),
    ])
    func npyMatchesNumpy(_ name: String, _ dtype: NPY.DType, _ shape: [Int]) throws {
        let expected = try [UInt8](Data(contentsOf: TestPaths.fixtures.appendingPathComponent(name)))
        let array = try NPY.decode(expected)
        #expect(array.dtype == dtype && array.shape == shape)
        let written = try array.data.withUnsafeBytes { try NPY.encode($0, dtype: dtype, shape: shape) }
        #expect(written == expected)
        #expect(written.count % 64 == array.data.count % 64, "the header is padded to 64 bytes")
        if dtype == .float32, shape == [2, 3, 4] {
            #expect(array.data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) } == (0..<24).map { Float($0) / 8 })
        }
        if dtype == .float32, shape == [7] {
            #expect(array.data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) } == [1.5, -2, 0, 3.25, 1e-3, 7e8, -0.0])
        }
    }

    @Test("malformed .npy files are refused")
    func npyErrors() throws {
        #expect(imagingError { _ = try NPY.decode(Array("not numpy".utf8)) }?.kind == .corrupt)
        let good = try [UInt8](Data(contentsOf: TestPaths.fixtures.appendingPathComponent("arange-u1-3x5.npy")))
        #expect(imagingError { _ = try NPY.decode(Array(good.dropLast())) }?.kind == .shapeMismatch)
        #expect(imagingError { _ = try NPY.decode(Array(good.prefix(20))) }?.kind == .truncated)
        var fortran = good
        if let range = String(decoding: good, as: UTF8.self).range(of: "False") {
            let offset = String(decoding: good, as: UTF8.self).utf8.distance(from: String(decoding: good, as: UTF8.self).startIndex, to: range.lowerBound)
            fortran.replaceSubrange(offset..<offset + 5, with: Array("True ".utf8))
        }
        #expect(imagingError { _ = try NPY.decode(fortran) }?.kind == .unsupported)
        #expect(imagingError { _ = try [UInt8](repeating: 0, count: 5).withUnsafeBytes { try NPY.encode($0, dtype: .float32, shape: [2]) } }?.kind == .invalidArgument)
    }
}
