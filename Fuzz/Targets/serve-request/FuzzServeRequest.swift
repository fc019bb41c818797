import Foundation
import FuzzSupport
import NumpyFormat

// `POST /invocations` bodies through the decoders `sluice serve` runs before any record is preprocessed
// (RequestRecords.swift and ServingError.swift here are links into Sources/Serving, compiled into the target
// so that the fuzz build needs neither Hummingbird nor NIO). The first byte picks the decoder and, for
// `.npy`, the model input shape; the rest is the body.

private let modelInputs: [[Int]] = [[3, 224, 224], [3, 4, 4], [1, 2, 2], [3]]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzServeRequest(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(fuzzBytes(data, size))
    let choice = Int(input.byte())
    let body = Array(input.rest())
    switch choice & 3 {
    case 0, 1:
        if let records = try? RequestDecoding.npy(body, modelInput: modelInputs[choice >> 2 & 3]) {
            _ = records.count
        }
    case 2:
        _ = RequestDecoding.jsonLines(body).count
    default:
        _ = RequestFormat(contentType: String(decoding: body.prefix(256), as: UTF8.self))?.isMultiRecord
    }
    return 0
}

@_cdecl("fuzz_serve_request_main")
public func fuzzServeRequestMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzServeRequest) { seeds in
        func npy(_ descr: String, _ shape: [Int], _ payload: Int) -> [UInt8] {
            let dims = shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? "," : "")
            var text = Array("{'descr': '\(descr)', 'fortran_order': False, 'shape': (\(dims)), }".utf8)
            while (text.count + 11) % 64 != 0 { text.append(0x20) }
            text.append(0x0a)
            return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(text.count & 0xff), UInt8(text.count >> 8)] + text
                + [UInt8](repeating: 0x3f, count: payload)
        }
        // Model input [3, 4, 4] (choice 4): one and two preprocessed records; pixels; a shape that fits nothing.
        try seeds.write("npy-preprocessed", [4] + npy("<f4", [3, 4, 4], 3 * 4 * 4 * 4))
        try seeds.write("npy-preprocessed-batch", [4] + npy("<f4", [2, 3, 4, 4], 2 * 3 * 4 * 4 * 4))
        try seeds.write("npy-pixels", [4] + npy("|u1", [2, 2, 3], 12))
        try seeds.write("npy-pixels-batch", [4] + npy("|u1", [2, 1, 2, 3], 12))
        try seeds.write("npy-mismatch", [4] + npy("<f4", [5, 4], 80))
        let jpeg = Data([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0, 1]).base64EncodedString()
        let lines = ["\"\(jpeg)\"", jpeg, "{\"b64\": \"\(jpeg)\"}", "{\"image_bytes\": {\"b64\": \"\(jpeg)\"}}", "", "{}", "[1]"]
        try seeds.write("jsonlines", [2] + Array(lines.joined(separator: "\n").utf8))
        try seeds.write("content-type", [3] + Array("application/x-npy; charset=binary".utf8))
    }
}
