import Foundation
@testable import Imaging
import Testing

/// Crafted headers that declare more than the bytes hold, and the limits that refuse them before anything
/// is allocated.
@Suite("Image limits and hostile headers")
struct LimitsTests {
    /// A PNG of `width` × `height` 8-bit gray pixels (colour type 0) whose IDAT holds one zero-filter row
    /// only: enough for the header to be read and the decode to start.
    static func png(width: UInt32, height: UInt32, colorType: UInt8 = 0, bitDepth: UInt8 = 8) -> [UInt8] {
        func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
            let length = UInt32(data.count)
            let body = Array(type.utf8) + data
            let crc = crc32(body[...])
            return [UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)] + body
                + [UInt8(crc >> 24), UInt8(crc >> 16 & 0xFF), UInt8(crc >> 8 & 0xFF), UInt8(crc & 0xFF)]
        }
        func be(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
        let ihdr = be(width) + be(height) + [bitDepth, colorType, 0, 0, 0]
        // zlib stream of a single stored block holding two zero bytes (filter 0, one sample).
        let idat: [UInt8] = [0x78, 0x01, 0x01, 0x02, 0x00, 0xFD, 0xFF, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01]
        return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", ihdr) + chunk("IDAT", idat) + chunk("IEND", [])
    }

    static func preprocessError(_ bytes: [UInt8], spec: PreprocessSpec) -> ImagingError? {
        imagingError {
            let preprocessor = try ImagePreprocessor(spec: spec)
            let size = try spec.checkedOutputSize(width: 1, height: 1)
            var out = [Float](repeating: 0, count: 3 * size.width * size.height)
            try bytes.withUnsafeBytes { input in
                try out.withUnsafeMutableBufferPointer { _ = try preprocessor.preprocess(encoded: input, into: .nchwFloat32($0)) }
            }
        }
    }

    @Test("a tiny PNG declaring 65535×1 pixels: without a crop its output is refused from the header (was a 51 GB allocation)")
    func wideStripWithoutCrop() throws {
        let png = Self.png(width: 65535, height: 1)
        #expect(png.count < 100)
        let header = try png.withUnsafeBytes { try PNGDecoder().header($0) }
        #expect(header.width == 65535 && header.height == 1)
        let spec = PreprocessSpec(crop: nil)
        let error = imagingError { _ = try spec.checkedOutputSize(width: header.width, height: header.height) }
        #expect(error?.kind == .tooLarge, "\(String(describing: error))")
        #expect(error?.message.contains("16776960×256") == true, "\(String(describing: error))")
        #expect(error?.message.contains("ImageLimits.maxOutputElements") == true)
        // The preprocessor refuses it too, before resampling.
        let preprocessor = try ImagePreprocessor(spec: spec)
        var slot = [Float](repeating: 0, count: 3)
        let direct = imagingError {
            try png.withUnsafeBytes { input in
                try slot.withUnsafeMutableBufferPointer { _ = try preprocessor.preprocess(encoded: input, into: .nchwFloat32($0)) }
            }
        }
        #expect(direct?.kind == .tooLarge, "\(String(describing: direct))")
    }

    /// Every colour type and bit depth (valid or not), at sizes up to the PNG maximum, with image data that
    /// is too short: each gives a typed error (or, for 1×1, decodes), never a trap or a huge allocation.
    @Test("IHDR combinations with short image data")
    func ihdrCombinations() throws {
        let preprocessor = try ImagePreprocessor(spec: PreprocessSpec(resize: .shorterSide(8), crop: .square(8)), maxPixels: 1 << 24)
        var out = [Float](repeating: 0, count: 3 * 8 * 8)
        for colorType: UInt8 in [0, 2, 3, 4, 6, 5, 7] {
            for bitDepth: UInt8 in [1, 2, 4, 8, 16, 3, 32] {
                for (width, height): (UInt32, UInt32) in [(1, 1), (65535, 1), (1, 65535), (0x7FFF_FFFF, 1), (0x8000_0000, 1), (5000, 5000)] {
                    let png = Self.png(width: width, height: height, colorType: colorType, bitDepth: bitDepth)
                    let error = imagingError {
                        try png.withUnsafeBytes { input in
                            try out.withUnsafeMutableBufferPointer { _ = try preprocessor.preprocess(encoded: input, into: .nchwFloat32($0)) }
                        }
                    }
                    if let error {
                        #expect(error.kind != .io, "\(colorType)/\(bitDepth) \(width)×\(height): \(error)")
                    }
                }
            }
        }
    }

    @Test("with a center crop the same strip is preprocessed within bounded memory")
    func wideStripWithCrop() throws {
        let png = Self.png(width: 65535, height: 1)
        let preprocessor = try ImagePreprocessor()
        var out = [Float](repeating: 1, count: 3 * 224 * 224)
        let error = imagingError {
            try png.withUnsafeBytes { input in
                try out.withUnsafeMutableBufferPointer { _ = try preprocessor.preprocess(encoded: input, into: .nchwFloat32($0)) }
            }
        }
        // The crafted IDAT holds one row of the 65535: libspng reports the data as too short.
        #expect(error == nil || error?.kind == .truncated || error?.kind == .corrupt, "\(String(describing: error))")
    }

    @Test("the decoded-pixel limit is checked from the header before decoding, and names the limit")
    func decodedPixelLimit() throws {
        let png = Self.png(width: 70000, height: 70000)
        let error = BadInputTests.decodeError(png)
        #expect(error?.kind == .tooLarge, "\(String(describing: error))")
        #expect(error?.message.contains("70000×70000") == true && error?.message.contains("ImageLimits.maxDecodedPixels") == true,
                "\(String(describing: error))")
        var limits = ImageLimits.default
        limits.maxDecodedPixels = 100
        let small = Self.preprocessError(Self.png(width: 11, height: 10), spec: PreprocessSpec(limits: limits))
        #expect(small?.kind == .tooLarge && small?.message.contains("110 pixels") == true, "\(String(describing: small))")
    }

    @Test("encoded input over the byte limit is refused before decoding")
    func encodedLimit() throws {
        var limits = ImageLimits.default
        limits.maxEncodedBytes = 1000
        let jpeg = try TestPaths.image("photo-rocket.jpg")
        let error = Self.preprocessError(jpeg, spec: PreprocessSpec(limits: limits))
        #expect(error?.kind == .tooLarge && error?.message.contains("ImageLimits.maxEncodedBytes") == true, "\(String(describing: error))")
    }

    @Test("a tall strip squeezed onto a wide exact output needs too many intermediate rows")
    func intermediateLimit() throws {
        // 1 pixel wide, 100,000 high, resized to 1 row of 2,000: every source row feeds the one output row.
        var limits = ImageLimits.default
        limits.maxDecodedPixels = 10_000_000
        let spec = PreprocessSpec(resize: .exact(.init(width: 2000, height: 1)), crop: nil, limits: limits)
        let preprocessor = try ImagePreprocessor(spec: spec)
        let pixels = [UInt8](repeating: 9, count: 100_000)
        var out = [Float](repeating: 0, count: 3 * 2000)
        let error = imagingError {
            try pixels.withUnsafeBytes { input in
                try out.withUnsafeMutableBufferPointer { try preprocessor.preprocess(tensor: input, shape: [100_000, 1, 1], into: .nchwFloat32($0)) }
            }
        }
        #expect(error?.kind == .tooLarge && error?.message.contains("intermediate") == true, "\(String(describing: error))")
    }

    @Test("--crop none on an empty image is a zero-size error, not a trap")
    func emptyImageWithoutCrop() throws {
        for resize in [PreprocessSpec.Resize.shorterSide(256), .shorterSideAtMost(256, maxSize: 300), .none, .exact(.square(8))] {
            let spec = PreprocessSpec(resize: resize, crop: nil)
            for (width, height) in [(0, 0), (0, 5), (5, 0)] {
                let error = imagingError { _ = try spec.checkedOutputSize(width: width, height: height) }
                #expect(error?.kind == .zeroSize, "\(resize) \(width)×\(height): \(String(describing: error))")
                #expect(spec.resizedSize(width: width, height: height).width >= 0)
            }
        }
        // A shorter-side resize with max_size that shrinks a strip to nothing.
        let strip = PreprocessSpec(resize: .shorterSideAtMost(256, maxSize: 300), crop: nil)
        #expect(imagingError { _ = try strip.checkedOutputSize(width: 100_000, height: 1) }?.kind == .invalidArgument)
    }

    @Test("limits from a memory budget keep one image's working memory within it")
    func budget() {
        for budget in [64 << 20, 1 << 30, 16 << 30] {
            let limits = ImageLimits(memoryBudget: budget)
            #expect(limits.workingBytes <= budget, "\(budget): \(limits)")
            #expect(limits.maxDecodedPixels >= budget / 64)
        }
        #expect(PreprocessSpec.imagenet.limits == .default)
        var bad = PreprocessSpec.imagenet
        bad.limits.maxOutputElements = 0
        #expect(imagingError { try bad.validate() }?.kind == .invalidArgument)
    }

    @Test("image files are size-checked before they are read, and pipes are cut off at the limit")
    func fileSize() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-limits-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var limits = ImageLimits.default
        limits.maxEncodedBytes = 4096
        let big = directory.appendingPathComponent("big.jpg")
        try Data([0xFF, 0xD8, 0xFF] + [UInt8](repeating: 0, count: 5000)).write(to: big)
        let error = imagingError { _ = try ImageFile.read(big.path, limits: limits) }
        #expect(error?.kind == .tooLarge && error?.source == big.path && error?.message.contains("5003 bytes") == true,
                "\(String(describing: error))")
        let small = directory.appendingPathComponent("small.png")
        try Data(Self.png(width: 1, height: 1)).write(to: small)
        #expect(try ImageFile.read(small.path, limits: limits) == Self.png(width: 1, height: 1))
        // A device with no size: read up to the limit, then refused.
        let endless = imagingError { _ = try ImageFile.read("/dev/zero", limits: limits) }
        #expect(endless?.kind == .tooLarge && endless?.message.contains("more than 4096") == true, "\(String(describing: endless))")
        #expect(imagingError { _ = try ImageFile.read(directory.path, limits: limits) }?.kind == .io)
        #expect(imagingError { _ = try ImageFile.read(directory.appendingPathComponent("missing").path, limits: limits) }?.kind == .io)
        // A raw tensor may be as large as its pixels, not only maxEncodedBytes.
        let raw = directory.appendingPathComponent("raw.npy")
        let pixels = [UInt8](repeating: 1, count: 200 * 200 * 3)
        try pixels.withUnsafeBytes { try NPY.write($0, dtype: .uint8, shape: [200, 200, 3], to: raw.path) }
        #expect(try ImageFile.read(raw.path, limits: limits).count > 4096)
        #expect(try NPY.read(raw.path, limits: limits).shape == [200, 200, 3])
        limits.maxDecodedPixels = 100
        #expect(imagingError { _ = try NPY.read(raw.path, limits: limits) }?.kind == .tooLarge)
    }
}
