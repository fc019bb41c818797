import Foundation
@testable import Imaging
import Testing

@Suite("Output layouts and scratch reuse")
struct LayoutTests {
    @Test("NHWC float and NHWC uint8 hold the NCHW values, transposed and before normalising")
    func layoutsAgree() throws {
        let preprocessor = try ImagePreprocessor()
        let jpeg = try TestPaths.image("photo-hibiscus-parrots-portrait.jpg")
        let count = 3 * 224 * 224
        var nchw = [Float](repeating: 0, count: count), nhwc = nchw
        var bytes = [UInt8](repeating: 0, count: count)
        try jpeg.withUnsafeBytes { input in
            try nchw.withUnsafeMutableBufferPointer { _ = try preprocessor.preprocess(encoded: input, into: .nchwFloat32($0)) }
            try nhwc.withUnsafeMutableBufferPointer { _ = try preprocessor.preprocess(encoded: input, into: .nhwcFloat32($0)) }
            try bytes.withUnsafeMutableBufferPointer { _ = try preprocessor.preprocess(encoded: input, into: .nhwcUInt8($0)) }
        }
        let mean: [Float] = [0.485, 0.456, 0.406], std: [Float] = [0.229, 0.224, 0.225]
        for y in stride(from: 0, to: 224, by: 7) {
            for x in 0..<224 {
                for c in 0..<3 {
                    let planar = nchw[c * 224 * 224 + y * 224 + x]
                    #expect(nhwc[(y * 224 + x) * 3 + c] == planar)
                    #expect((Float(bytes[(y * 224 + x) * 3 + c]) / 255 - mean[c]) / std[c] == planar)
                }
            }
        }
    }

    @Test("a preprocessor gives the same output for an image whatever it processed before")
    func scratchReuse() throws {
        let names = ["photo-large-2000x1072.jpg", "jpeg-tiny-3x2-chelsea.jpg", "png-16bit-gray-monkey.png", "jpeg-elongated-1000x50-harvesters.jpg"]
        let images = try names.map { try TestPaths.image($0) }
        let fresh = try images.map { try ImagePreprocessor().nchw($0) }
        let shared = try ImagePreprocessor()
        for round in 0..<2 {
            for (i, image) in images.enumerated().reversed() {
                #expect(try shared.nchw(image) == fresh[i], "\(names[i]) in round \(round)")
            }
        }
    }

    @Test("raw tensors borrowed from a caller are read only within their bytes")
    func borrowedTensorBounds() throws {
        // The tensor is the last bytes of a page-aligned allocation: any read past it would fault.
        let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
        for (height, width, channels) in [(37, 53, 3), (64, 64, 4), (256, 256, 3), (30, 40, 1), (300, 7, 3)] {
            let count = height * width * channels
            let pages = (count + pageSize - 1) / pageSize + 1
            guard let base = mmap(nil, pages * pageSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
                  base != MAP_FAILED else { Issue.record("mmap failed"); return }
            defer { munmap(base, pages * pageSize) }
            // The page after the data is made unreadable.
            mprotect(base + (pages - 1) * pageSize, pageSize, PROT_NONE)
            let tensor = base + (pages - 1) * pageSize - count
            for i in 0..<count { tensor.storeBytes(of: UInt8(truncatingIfNeeded: i &* 31), toByteOffset: i, as: UInt8.self) }
            for spec in [PreprocessSpec(), PreprocessSpec(resize: .none, crop: nil), PreprocessSpec(resize: .exact(.init(width: width, height: height)), crop: nil)] {
                let preprocessor = try ImagePreprocessor(spec: spec)
                let size = spec.outputSize(width: width, height: height)
                var out = [Float](repeating: 0, count: 3 * size.width * size.height)
                try out.withUnsafeMutableBufferPointer {
                    try preprocessor.preprocess(tensor: UnsafeRawBufferPointer(start: tensor, count: count), shape: [height, width, channels], into: .nchwFloat32($0))
                }
            }
        }
    }
}
