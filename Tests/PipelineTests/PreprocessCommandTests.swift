import Foundation
import Testing

/// `sluice preprocess` on hostile files: a clear message naming the file and exit status 1, never a trap
/// or a memory bomb.
@Suite("sluice preprocess on hostile files", .serialized)
struct PreprocessCommandTests {
    /// Exit status and standard error of `sluice arguments...`.
    static func sluice(_ arguments: [String]) throws -> (status: Int32, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLineTests.sluice)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// A PNG of `width` × 1 8-bit gray pixels, all 128.
    static func stripPNG(width: UInt32) -> [UInt8] {
        func be(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
        func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
            var crc: UInt32 = 0xFFFF_FFFF
            for byte in Array(type.utf8) + data {
                crc ^= UInt32(byte)
                for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
            }
            return be(UInt32(data.count)) + Array(type.utf8) + data + be(~crc)
        }
        // One stored deflate block can hold at most 65535 bytes: the row (filter byte + pixels) is split.
        let row = [UInt8(0)] + [UInt8](repeating: 128, count: Int(width))
        var zlib: [UInt8] = [0x78, 0x01]
        var offset = 0
        while offset < row.count {
            let n = min(65535, row.count - offset)
            let final: UInt8 = offset + n == row.count ? 1 : 0
            zlib += [final, UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8(~n >> 8 & 0xFF)] + row[offset..<offset + n]
            offset += n
        }
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in row { a = (a + UInt32(byte)) % 65521; b = (b + a) % 65521 }
        zlib += be(b << 16 | a)
        return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", be(width) + be(1) + [8, 0, 0, 0, 0])
            + chunk("IDAT", zlib) + chunk("IEND", [])
    }

    @Test("a 65535×1 PNG with --crop none, an empty .npy, an overflowing .npy, a directory")
    func hostileFiles() throws {
        let directory = try CommandLineTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        func file(_ name: String, _ bytes: [UInt8]) throws -> String {
            let path = (directory as NSString).appendingPathComponent(name)
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            return path
        }
        func npy(_ shape: String, data: Int) -> [UInt8] {
            let dict = Array("{'descr': '|u1', 'fortran_order': False, 'shape': \(shape), }".utf8)
            return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(dict.count), 0] + dict + [UInt8](repeating: 0, count: data)
        }
        let out = (directory as NSString).appendingPathComponent("out")
        let strip = try file("strip.png", Self.stripPNG(width: 65535))
        let cases: [(path: String, crop: String, phrase: String)] = [
            (strip, "none", "tooLarge: a 65535×1 image becomes 16776960×256"),
            (try file("empty.npy", npy("(0, 0, 3)", data: 0)), "none", "zeroSize"),
            (try file("overflow.npy", npy("(4611686018427387904, 4, 3)", data: 12)), "224", "more than Int.max elements"),
            (directory, "224", "is a directory"),
        ]
        for (path, crop, phrase) in cases {
            let result = try Self.sluice(["preprocess", path, "--crop", crop, "--out", out])
            #expect(result.status == 1, "\(path): \(result.stderr)")
            #expect(result.stderr.contains("sluice preprocess: \(path): ") && result.stderr.contains(phrase), "\(path): \(result.stderr)")
        }
        // With the default crop the strip is fine.
        let cropped = try Self.sluice(["preprocess", strip, "--out", out])
        #expect(cropped.status == 0, "\(cropped.stderr)")
    }
}
