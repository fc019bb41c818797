#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// One of the CUDA libraries Sluice loads, with the file names it may have, most preferred first.
public struct CUDALibrary: Sendable, Equatable {
    /// What a user calls it: "CUDA driver", "cuDNN", "cuBLASLt", "NVRTC".
    public let name: String
    public let fileNames: [String]
    /// Where a user gets it.
    public let installHint: String

    public static let driver = CUDALibrary(
        name: "CUDA driver", fileNames: ["libcuda.so.1"],
        installHint: "it comes with the NVIDIA driver: a machine without an NVIDIA GPU and its driver has none")
    public static let cudnn = CUDALibrary(
        name: "cuDNN", fileNames: ["libcudnn.so.9"], installHint: "pip install nvidia-cudnn-cu13 (or -cu12) provides it")
    public static let cublasLt = CUDALibrary(
        name: "cuBLASLt", fileNames: ["libcublasLt.so.13", "libcublasLt.so.12"],
        installHint: "pip install nvidia-cublas (or nvidia-cublas-cu12) provides it")
    public static let nvrtc = CUDALibrary(
        name: "NVRTC", fileNames: ["libnvrtc.so.13", "libnvrtc.so.12"],
        installHint: "pip install nvidia-cuda-nvrtc (or nvidia-cuda-nvrtc-cu12) provides it")

    /// The library whose label (as `CUDAError.libraryNotFound` names it) is `label`.
    static func labelled(_ label: String) -> CUDALibrary? {
        [driver, cudnn, cublasLt, nvrtc].first { $0.label == label }
    }

    /// "cuDNN (libcudnn.so.9)", for messages.
    public var label: String { "\(name) (\(fileNames.joined(separator: " or ")))" }
}

/// The ordered folders where the CUDA libraries are looked for: the `SLUICE_CUDA_LIBRARY_PATH` override, then
/// `LD_LIBRARY_PATH`, then the system linker's folders (/etc/ld.so.conf and the usual CUDA install places), then
/// the `nvidia/*/lib` folders of Python's site-packages, where pip's CUDA wheels (and PyTorch's) put them.
/// The first folder holding one of a library's file names wins, so the override beats everything else.
public struct CUDALibrarySearch: Sendable, Equatable {
    public static let overrideVariable = "SLUICE_CUDA_LIBRARY_PATH"

    public var directories: [String]
    /// After the folders, ask the dynamic loader for the bare file name, which consults /etc/ld.so.cache (a driver
    /// installed where no listed folder points). Off for `init(directories:)`, which searches exactly what it is given.
    public var usesLinkerCache: Bool

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        var folders = Self.pathList(environment[Self.overrideVariable])
        folders += Self.pathList(environment["LD_LIBRARY_PATH"])
        folders += Self.linkerConfigurationFolders(configuration: "/etc/ld.so.conf")
        folders += Self.standardFolders
        folders += Self.pythonWheelFolders(environment: environment)
        directories = Self.unique(folders)
        usesLinkerCache = true
    }

    /// Exactly these folders, in this order, and nothing else (tests; an embedding application).
    public init(directories: [String]) {
        self.directories = Self.unique(directories.map(Self.normalised).filter { !$0.isEmpty })
        usesLinkerCache = false
    }

    /// What an error lists as searched: the folders, and the linker cache when it is consulted.
    var searchedDescription: [String] {
        usesLinkerCache ? directories + ["the dynamic linker's cache (/etc/ld.so.cache)"] : directories
    }

    /// Where the CUDA toolkit and Debian/RHEL packages install, whether or not ld.so.conf names them.
    static let standardFolders = [
        "/usr/lib/x86_64-linux-gnu",
        "/usr/lib64",
        "/usr/local/cuda/lib64",
        "/usr/local/cuda/targets/x86_64-linux/lib",
    ]

    /// The existing files for `library`, in folder order, then file-name order within a folder.
    func candidates(for library: CUDALibrary) -> [String] {
        var found: [String] = []
        for folder in directories {
            for fileName in library.fileNames {
                let path = folder + "/" + fileName
                if access(path, F_OK) == 0 { found.append(path) }
            }
        }
        return found
    }

    // MARK: - Sources of folders

    static func pathList(_ value: String?) -> [String] {
        guard let value else { return [] }
        return value.split(separator: ":", omittingEmptySubsequences: true).map { normalised(String($0)) }
            .filter { !$0.isEmpty }
    }

    /// The folders /etc/ld.so.conf lists, following its `include` lines (globs, relative to the including file's
    /// folder when not absolute), as ldconfig reads them. Read directly: no `ldconfig -p` subprocess.
    static func linkerConfigurationFolders(configuration path: String, depth: Int = 0) -> [String] {
        guard depth < 8, let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        let base = (path as NSString).deletingLastPathComponent
        var folders: [String] = []
        for rawLine in text.split(whereSeparator: \.isNewline) {
            var line = Substring(rawLine)
            if let hash = line.firstIndex(of: "#") { line = line[..<hash] }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            if trimmed.hasPrefix("include") && trimmed.dropFirst("include".count).first?.isWhitespace == true {
                for pattern in trimmed.dropFirst("include".count).split(whereSeparator: \.isWhitespace) {
                    let absolute = pattern.hasPrefix("/") ? String(pattern) : base + "/" + pattern
                    for file in expand(absolute) {
                        folders += linkerConfigurationFolders(configuration: file, depth: depth + 1)
                    }
                }
            } else if trimmed.hasPrefix("hwcap") {
                continue
            } else {
                // "dir" or the old "dir=TYPE" form; several may share a line, separated by spaces, commas or colons.
                for entry in trimmed.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "," || $0 == ":" }) {
                    let folder = String(entry.split(separator: "=").first ?? entry)
                    if folder.hasPrefix("/") { folders.append(normalised(folder)) }
                }
            }
        }
        return folders
    }

    /// Every `nvidia/*/lib` in the site-packages (dist-packages) of the Python installs pip's CUDA wheels live in.
    static func pythonWheelFolders(environment: [String: String]) -> [String] {
        var sitePackages: [String] = []
        for variable in ["VIRTUAL_ENV", "CONDA_PREFIX"] {
            if let prefix = environment[variable].map(normalised), !prefix.isEmpty {
                sitePackages += expand(prefix + "/lib/python3*/site-packages")
            }
        }
        if let home = environment["HOME"].map(normalised), !home.isEmpty {
            sitePackages += expand(home + "/.local/lib/python3*/site-packages")
            sitePackages += expand(home + "/.pyenv/versions/*/lib/python3*/site-packages")
        }
        sitePackages += expand("/usr/local/lib/python3*/dist-packages")
        sitePackages += expand("/usr/local/lib/python3*/site-packages")
        sitePackages += expand("/usr/lib/python3/dist-packages")
        sitePackages += expand("/opt/conda/lib/python3*/site-packages")
        var folders = sitePackages.flatMap { expand($0 + "/nvidia/*/lib") }
        // conda's own cudnn / cuda packages install into the environment's lib folder.
        if let prefix = environment["CONDA_PREFIX"].map(normalised), !prefix.isEmpty { folders.append(prefix + "/lib") }
        return folders
    }

    // MARK: - Helpers

    static func normalised(_ folder: String) -> String {
        var folder = folder
        while folder.count > 1 && folder.hasSuffix("/") { folder.removeLast() }
        return folder
    }

    static func unique(_ folders: [String]) -> [String] {
        var seen = Set<String>()
        return folders.filter { seen.insert($0).inserted }
    }

    /// The paths matching a shell pattern, sorted; none when nothing matches.
    static func expand(_ pattern: String) -> [String] {
        var matches = glob_t()
        defer { globfree(&matches) }
        guard glob(pattern, 0, nil, &matches) == 0 else { return [] }
        var paths: [String] = []
        for index in 0..<Int(matches.gl_pathc) {
            if let path = matches.gl_pathv[index] { paths.append(String(cString: path)) }
        }
        return paths.sorted()
    }
}
