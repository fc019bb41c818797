import Foundation
@testable import Imaging
import Testing

@Suite("Bad input gives a typed error naming what was wrong")
struct BadInputTests {
    static func decodeError(_ bytes: [UInt8], maxPixels: Int = JPEGDecoder.defaultMaxPixels) -> ImagingError? {
        imagingError {
            let decoder = try ImageDecoder(maxPixels: maxPixels)
            _ = try bytes.withUnsafeBytes { try decoder.decode($0) }
        }
    }

    @Test("the broken files of the shared image set", arguments: [
        ("bad/empty-zero-bytes.jpg", ImagingError.Kind.empty, "no bytes"),
        ("bad/text-not-an-image.jpg", .unknownFormat, "text"),
        ("bad/jpeg-truncated-half.jpg", .truncated, "ends before its EOI"),
        ("bad/jpeg-garbage-after-sos.jpg", .corrupt, "libjpeg"),
        ("bad/png-bad-crc-ihdr.png", .corrupt, "CRC"),
        ("bad/png-bad-crc-idat.png", .corrupt, "CRC"),
        ("bad/png-truncated-half.png", .truncated, "libspng"),
    ])
    func sharedBadFiles(_ name: String, _ kind: ImagingError.Kind, _ phrase: String) throws {
        let error = try #require(Self.decodeError(try TestPaths.image(name)), "\(name) decoded")
        #expect(error.kind == kind, "\(name): \(error)")
        #expect(error.message.contains(phrase), "\(name): \(error)")
    }

    @Test("valid encodings this decoder does not support", arguments: [
        ("jpeg-12bit-monkey.jpg", "12-bit"),
        ("jpeg-12bit-ycbcr-32x32.jpg", "12-bit"),
        ("jpeg-lossless-32x32.jpg", "lossless"),
        ("jpeg-dnl-32x32.jpg", "DNL"),
    ])
    func unsupportedEncodings(_ name: String, _ phrase: String) throws {
        let error = try #require(Self.decodeError(try TestPaths.image(name)), "\(name) decoded")
        #expect(error.kind == .unsupported && error.message.contains(phrase), "\(name): \(error)")
    }

    @Test("every file the manifest expects to fail fails with a typed error")
    func manifestExpectations() throws {
        let manifest = try #require(ImageManifest.shared)
        for entry in manifest.images where entry.expect_error == true {
            #expect(Self.decodeError(try TestPaths.image(entry.name)) != nil, "\(entry.name) decoded")
        }
    }

    @Test("recoverable libjpeg warnings are reported, not fatal")
    func warnings() throws {
        let decoder = try ImageDecoder()
        for name in ["jpeg-extraneous-bytes-before-eoi-16x16.jpg", "photo-scan-portrait-extraneous-bytes.jpg", "jpeg-no-huffman-tables-mjpeg.jpg"] {
            let decoded = try decoder.decodeRGB(try TestPaths.image(name))
            #expect(decoded.warnings.contains { $0.contains("Corrupt JPEG data") && $0.contains("extraneous bytes") }, "\(name): \(decoded.warnings)")
        }
        #expect(try decoder.decodeRGB(try TestPaths.image("photo-rocket.jpg")).warnings.isEmpty)
    }

    @Test("zero-size images")
    func zeroSize() throws {
        // A PNG whose IHDR declares a width of 0 (with a valid CRC).
        var png = try TestPaths.image("png-tiny-1x1-chelsea.png")
        png[16..<20] = [0, 0, 0, 0]
        png = repairingPNGChecksums(png)
        #expect(Self.decodeError(png)?.kind == .zeroSize)
        // A JPEG whose frame header declares a width of 0.
        var jpeg = try TestPaths.image("jpeg-tiny-2x2.jpg")
        let sof = try #require(jpeg.indices.dropLast().first { jpeg[$0] == 0xFF && jpeg[$0 + 1] == 0xC0 })
        jpeg[sof + 7] = 0
        jpeg[sof + 8] = 0
        #expect(Self.decodeError(jpeg)?.kind == .zeroSize)
        // A raw tensor with no rows.
        let error = imagingError { _ = try [UInt8]().withUnsafeBytes { try PixelView.tensor($0, shape: [0, 4, 3]) } }
        #expect(error?.kind == .zeroSize)
    }

    @Test("unknown formats say what the bytes look like", arguments: [
        (Array("GIF89a....".utf8), "GIF"),
        ([0x52, 0x49, 0x46, 0x46, 0, 0, 0, 0, 0x57, 0x45, 0x42, 0x50], "WebP"),
        (Array("BM......".utf8), "BMP"),
        ([0x00, 0x01, 0x02, 0x03, 0xF0, 0x9F], "bytes 00 01 02 03"),
        ([0xFF, 0xD8], "start-of-image marker"),
    ])
    func unknownFormat(_ bytes: [UInt8], _ phrase: String) {
        let error = Self.decodeError(bytes)
        #expect(error?.kind == .unknownFormat && error?.message.contains(phrase) == true, "\(String(describing: error))")
    }

    @Test("raw tensors whose bytes do not match their shape")
    func rawShapeMismatch() throws {
        let preprocessor = try ImagePreprocessor()
        var out = [Float](repeating: 0, count: 3 * 224 * 224)
        for (count, shape, phrase) in [(256 * 256 * 3 - 1, [256, 256, 3], "needs 196608 bytes; got 196607"),
                                       (100, [10, 10], "needs 100"),  // fine: gray
                                       (200, [10, 10, 2], "1, 3 or 4 channels"),
                                       (300, [10, 10, 3, 1], "[height, width, channels]")] {
            let bytes = [UInt8](repeating: 7, count: count)
            let error = imagingError {
                try bytes.withUnsafeBytes { input in
                    try out.withUnsafeMutableBufferPointer { try preprocessor.preprocess(tensor: input, shape: shape, into: .nchwFloat32($0)) }
                }
            }
            if shape == [10, 10] {
                #expect(error == nil, "a gray HW tensor is an image: \(String(describing: error))")
            } else {
                #expect(error?.kind == .shapeMismatch && error?.message.contains(phrase) == true, "\(shape): \(String(describing: error))")
            }
        }
    }

    @Test("images over the pixel limit are refused before decoding")
    func tooLarge() throws {
        let error = Self.decodeError(try TestPaths.image("photo-rocket.jpg"), maxPixels: 1000)
        #expect(error?.kind == .tooLarge && error?.message.contains("640×427") == true, "\(String(describing: error))")
        let png = Self.decodeError(try TestPaths.image("photo-astronaut.png"), maxPixels: 1000)
        #expect(png?.kind == .tooLarge, "\(String(describing: png))")
    }

    @Test("impossible parameters and slots")
    func invalidArguments() throws {
        #expect(imagingError { _ = try ImagePreprocessor(spec: PreprocessSpec(resize: .shorterSide(0))) }?.kind == .invalidArgument)
        #expect(imagingError { _ = try ImagePreprocessor(spec: PreprocessSpec(crop: .square(-1))) }?.kind == .invalidArgument)
        #expect(imagingError { _ = try ImagePreprocessor(spec: PreprocessSpec(std: [0.2, 0, 0.2])) }?.kind == .invalidArgument)
        #expect(imagingError { _ = try ImagePreprocessor(spec: PreprocessSpec(divisor: 0)) }?.kind == .invalidArgument)
        let preprocessor = try ImagePreprocessor()
        let jpeg = try TestPaths.image("photo-rocket.jpg")
        var small = [Float](repeating: 0, count: 100)
        let error = imagingError {
            try jpeg.withUnsafeBytes { input in
                try small.withUnsafeMutableBufferPointer { _ = try preprocessor.preprocess(encoded: input, into: .nchwFloat32($0)) }
            }
        }
        #expect(error?.kind == .invalidArgument && error?.message.contains("150528") == true, "\(String(describing: error))")
    }

    @Test("errors name their source when the caller gives one")
    func namedErrors() {
        let error = ImagingError(.truncated, "ends early").from("part-00003.parquet row 17")
        #expect(error.description == "part-00003.parquet row 17: truncated: ends early")
    }
}
