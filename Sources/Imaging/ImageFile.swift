#if canImport(Glibc)
import Glibc
private let systemRead = Glibc.read
#elseif canImport(Darwin)
import Darwin
private let systemRead = Darwin.read
#endif

/// Reads an image file whole, after checking its size against the limits: an encoded image may have
/// `maxEncodedBytes`, a `.npy` raw tensor as many bytes as `maxDecodedPixels` RGBX pixels. A file that
/// grows while being read, or a pipe or device that has no size, is cut off at the limit, never read on.
public enum ImageFile {
    /// The bytes a file may have under `limits`, given that it starts with `prefix`.
    public static func maxBytes(startingWith prefix: some Collection<UInt8>, limits: ImageLimits) -> Int {
        guard prefix.starts(with: NPY.magic) else { return limits.maxEncodedBytes }
        let (pixels, overflow) = limits.maxDecodedPixels.multipliedReportingOverflow(by: 4)
        let (total, overflow2) = pixels.addingReportingOverflow(NPY.maxHeaderLength + 12)
        return overflow || overflow2 ? .max : max(total, limits.maxEncodedBytes)
    }

    public static func read(_ path: String, limits: ImageLimits) throws -> [UInt8] {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw ImagingError(.io, "cannot open: \(String(cString: strerror(errno)))", source: path) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw ImagingError(.io, "cannot stat: \(String(cString: strerror(errno)))", source: path) }
        if info.st_mode & S_IFMT == S_IFDIR { throw ImagingError(.io, "is a directory, not an image file", source: path) }
        let regular = info.st_mode & S_IFMT == S_IFREG
        let declared = regular ? Int(info.st_size) : 0

        var bytes: [UInt8] = []
        while bytes.count < 8, try readSome(fd, into: &bytes, upTo: 8 - bytes.count, path) > 0 {}
        let limit = maxBytes(startingWith: bytes, limits: limits)
        if declared > limit { throw tooLarge(declared, limit, path) }
        bytes.reserveCapacity(min(declared, limit) + 1)
        var chunk = 1 << 16
        // One byte past the limit tells a file at the limit from one over it.
        while try readSome(fd, into: &bytes, upTo: min(chunk, limit - min(bytes.count, limit)) + 1, path) > 0 {
            if bytes.count > limit { throw tooLarge(nil, limit, path) }
            chunk = min(chunk * 2, 1 << 24)
        }
        return bytes
    }

    /// Appends up to `count` (> 0) bytes read from `fd`; returns how many (0 at the end of the file).
    private static func readSome(_ fd: Int32, into bytes: inout [UInt8], upTo count: Int, _ path: String) throws -> Int {
        let start = bytes.count
        bytes.append(contentsOf: repeatElement(0, count: count))
        while true {
            let (got, code) = bytes.withUnsafeMutableBytes { buffer in
                (buffer.baseAddress.map { systemRead(fd, $0 + start, count) } ?? 0, errno)
            }
            if got < 0 && code == EINTR { continue }
            bytes.removeLast(count - max(got, 0))
            guard got >= 0 else { throw ImagingError(.io, "cannot read: \(String(cString: strerror(code)))", source: path) }
            return got
        }
    }

    private static func tooLarge(_ size: Int?, _ limit: Int, _ path: String) -> ImagingError {
        ImagingError(.tooLarge, "the file has \(size.map(String.init) ?? "more than \(limit)") bytes, over the limit of \(limit) "
            + "for an image file (ImageLimits.maxEncodedBytes, which `sluice run` derives from --max-memory)", source: path)
    }
}
