import Foundation
import ObjectStore

/// Where a job writes, checked against where it reads: an output that is an input directory, or inside
/// one, would take the inputs for committed parts (or overwrite them).
enum OutputLocation {
    static func checkOutsideInputs(output: String, inputs: [String]) throws {
        let out = try canonical(output)
        for input in inputs {
            let inputURL = try canonical(input)
            // A single file reads nothing else in its directory: only that directory itself is refused.
            let isFile = isFileInput(input)
            let directory = isFile ? parent(inputURL) : inputURL
            if out == directory || (!isFile && out.hasPrefix(directory.hasSuffix("/") ? directory : directory + "/")) {
                throw PipelineError.configuration("--output \(output) is \(out == directory ? "" : "inside ")the input \(isFile ? "file's directory" : "directory") \(input): write the predictions somewhere else")
            }
        }
    }

    private static func isFileInput(_ text: String) -> Bool {
        if ObjectURL.isRemote(text) { return text.hasSuffix(".parquet") }
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: text, isDirectory: &isDirectory) && !isDirectory.boolValue
    }

    private static func parent(_ url: String) -> String {
        guard let slash = url.dropLast().lastIndex(of: "/") else { return url }
        return String(url[..<slash])
    }

    /// An S3 URL without a trailing slash, or an absolute local path with symbolic links resolved (for the
    /// part that exists: the output may not exist yet).
    private static func canonical(_ text: String) throws -> String {
        if ObjectURL.isRemote(text) {
            var url = text
            while url.hasSuffix("/") { url.removeLast() }
            return url
        }
        var path = URL(fileURLWithPath: text).standardizedFileURL.path
        var missing: [String] = []
        while !FileManager.default.fileExists(atPath: path), path != "/" {
            missing.insert((path as NSString).lastPathComponent, at: 0)
            path = (path as NSString).deletingLastPathComponent
        }
        var resolved = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        for component in missing { resolved = (resolved as NSString).appendingPathComponent(component) }
        return resolved
    }
}
