import CFuzzerDriver
#if canImport(Glibc)
import Glibc
#endif

/// What libFuzzer calls with each input.
public typealias FuzzCallback = @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt

/// The body of every fuzz target's `main`: `--write-seeds DIR [FILE...]` writes the target's generated seed
/// inputs (made with Sluice's own encoders) into DIR, anything else is handed to libFuzzer.
public func runFuzzer(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ callback: FuzzCallback,
                      seeds: (SeedWriter) throws -> Void = { _ in }) -> CInt {
    let arguments = (0..<Int(argc)).compactMap { argv?[$0].map { String(cString: $0) } }
    if arguments.count >= 3, arguments[1] == "--write-seeds" {
        let writer = SeedWriter(directory: arguments[2], inputs: Array(arguments.dropFirst(3)))
        do {
            try seeds(writer)
        } catch {
            print("writing seeds failed: \(error)")
            return 1
        }
        return 0
    }
    var count = argc
    var vector = argv
    return LLVMFuzzerRunDriver(&count, &vector, callback)
}

/// The input libFuzzer hands over, as a buffer (empty when `size` is 0).
public func fuzzBytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> UnsafeRawBufferPointer {
    UnsafeRawBufferPointer(start: size > 0 ? data : nil, count: size)
}

public struct SeedWriterError: Error, CustomStringConvertible {
    public let description: String
}

/// Writes generated seeds into the corpus directory the script names.
public struct SeedWriter {
    public let directory: String
    /// Extra files named after the directory (e.g. Parquet files to take seeds from).
    public let inputs: [String]

    public func write(_ name: String, _ bytes: [UInt8]) throws {
        let path = directory + "/" + name
        guard let file = fopen(path, "wb") else { throw SeedWriterError(description: "cannot create \(path)") }
        defer { fclose(file) }
        guard bytes.isEmpty || fwrite(bytes, 1, bytes.count, file) == bytes.count else {
            throw SeedWriterError(description: "cannot write \(path)")
        }
    }

    public func read(_ path: String) throws -> [UInt8] {
        guard let file = fopen(path, "rb") else { throw SeedWriterError(description: "cannot open \(path)") }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = fread(&chunk, 1, chunk.count, file)
            if n <= 0 { break }
            bytes += chunk[0..<n]
        }
        return bytes
    }
}

/// Takes parameters off the front of a fuzz input: each call consumes bytes, and reads zeros past the end.
public struct FuzzInput {
    public let bytes: UnsafeRawBufferPointer
    public private(set) var position = 0

    public init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    public mutating func byte() -> UInt8 {
        defer { position += 1 }
        return position < bytes.count ? bytes[position] : 0
    }

    public mutating func uint16() -> Int { Int(byte()) | Int(byte()) << 8 }

    public mutating func uint32() -> Int { uint16() | uint16() << 16 }

    /// `count` bytes (fewer at the end of the input).
    public mutating func take(_ count: Int) -> UnsafeRawBufferPointer {
        let start = min(position, bytes.count)
        let end = min(bytes.count, start + max(0, count))
        position = end
        return UnsafeRawBufferPointer(rebasing: bytes[start..<end])
    }

    /// Everything not yet consumed.
    public mutating func rest() -> UnsafeRawBufferPointer { take(bytes.count) }
}
