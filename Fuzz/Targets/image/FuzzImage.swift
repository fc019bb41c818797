import FuzzSupport
import Imaging

// JPEG/PNG bytes decoded and preprocessed as `sluice run` and `sluice preprocess` do. The first byte picks
// the transform (resize, crop, fast decode, output layout); the rest is the image file.

private let decodeLimit = 1 << 24

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzImage(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(fuzzBytes(data, size))
    let choice = Int(input.byte())
    let image = input.rest()
    let resizes: [PreprocessSpec.Resize] = [.shorterSide(256), .exact(.init(width: 64, height: 48)),
                                            .shorterSideAtMost(32, maxSize: 40), .none]
    let spec = PreprocessSpec(resize: resizes[choice & 3], crop: choice & 4 == 0 ? .square(224) : nil,
                              fastDecode: choice & 8 != 0)
    guard let preprocessor = try? ImagePreprocessor(spec: spec, maxPixels: decodeLimit) else { return 0 }
    // As the pipeline does: the header gives the output size, which sizes the slot the pixels go to.
    guard let decoded = try? preprocessor.decoder.decode(image) else { return 0 }
    // The output size is checked against the limits from the header, before the slot is allocated.
    guard let count = try? preprocessor.outputCount(width: decoded.width, height: decoded.height), count > 0 else { return 0 }
    switch choice >> 4 & 3 {
    case 0:
        var output = [Float](repeating: 0, count: count)
        output.withUnsafeMutableBufferPointer { _ = try? preprocessor.preprocess(encoded: image, into: .nchwFloat32($0)) }
    case 1:
        var output = [Float](repeating: 0, count: count)
        output.withUnsafeMutableBufferPointer { _ = try? preprocessor.preprocess(encoded: image, into: .nhwcFloat32($0)) }
    default:
        var output = [UInt8](repeating: 0, count: count)
        output.withUnsafeMutableBufferPointer { _ = try? preprocessor.preprocess(encoded: image, into: .nhwcUInt8($0)) }
    }
    return 0
}

@_cdecl("fuzz_image_main")
public func fuzzImageMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzImage) { seeds in
        // The images named after the directory, each behind a transform byte, and small encoded ones.
        for (n, path) in seeds.inputs.enumerated() {
            guard let bytes = try? seeds.read(path), bytes.count <= 256 << 10 else { continue }
            try seeds.write("input-\(n)", [UInt8(truncatingIfNeeded: n * 37)] + bytes)
        }
        for (n, (width, height)) in [(1, 1), (3, 2), (17, 9), (64, 64)].enumerated() {
            let pixels = (0..<(width * height * 3)).map { UInt8(truncatingIfNeeded: $0 * 13) }
            let jpeg = try pixels.withUnsafeBytes {
                try JPEGEncoder(quality: 80).encode(try PixelView($0, width: width, height: height, layout: .rgb))
            }
            try seeds.write("jpeg-\(n)", [UInt8(n * 16 + n)] + jpeg)
        }
    }
}
