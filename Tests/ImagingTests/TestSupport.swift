import Foundation
import SluiceTestSupport
import Imaging


/// CRC-32 (IEEE), for building and repairing PNG chunks.
func crc32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes {
        crc ^= UInt32(byte)
        for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
    }
    return ~crc
}

/// Rewrites every chunk CRC of a PNG so that mutations inside chunks reach the decoder's later stages.
/// Stops at the first chunk whose length runs past the end.
func repairingPNGChecksums(_ png: [UInt8]) -> [UInt8] {
    var bytes = png
    var i = 8
    while i + 12 <= bytes.count {
        let length = Int(UInt32(bytes[i]) << 24 | UInt32(bytes[i + 1]) << 16 | UInt32(bytes[i + 2]) << 8 | UInt32(bytes[i + 3]))
        guard length <= bytes.count - i - 12 else { break }
        let crc = crc32(bytes[(i + 4)..<(i + 8 + length)])
        for k in 0..<4 { bytes[i + 8 + length + k] = UInt8(truncatingIfNeeded: crc >> UInt32(24 - 8 * k)) }
        i += 12 + length
    }
    return bytes
}

extension ImagePreprocessor {
    /// Preprocesses `bytes` into a fresh NCHW buffer.
    func nchw(_ bytes: [UInt8]) throws -> [Float] {
        let size = spec.fixedOutputSize ?? .square(0)
        var out = [Float](repeating: 0, count: 3 * size.width * size.height)
        try bytes.withUnsafeBytes { input in
            try out.withUnsafeMutableBufferPointer { _ = try preprocess(encoded: input, into: .nchwFloat32($0)) }
        }
        return out
    }
}

/// The error `body` throws, if it is an `ImagingError`.
func imagingError(_ body: () throws -> Void) -> ImagingError? {
    do {
        try body()
        return nil
    } catch let error as ImagingError {
        return error
    } catch {
        return ImagingError(.io, "not an ImagingError: \(error)")
    }
}
