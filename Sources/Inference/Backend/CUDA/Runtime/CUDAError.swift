/// What can go wrong while finding, loading and calling the CUDA libraries, naming the library file, the
/// C function and the status code, so that a user can tell a missing install from a wrong version or a device fault.
public enum CUDAError: Error, CustomStringConvertible, Equatable, Sendable {
    /// None of `library`'s file names (e.g. "libcudnn.so.9") is in any of the `searched` folders.
    case libraryNotFound(library: String, searched: [String])
    /// The file at `library` (a path) loaded but is too old or too new: `found` and `required` are versions.
    case incompatibleVersion(library: String, found: String, required: String)
    /// The file at `library` (a path) lacks the C entry point `symbol`.
    case missingSymbol(library: String, symbol: String)
    /// A file named like the library exists but the dynamic loader refused it (`reason` is dlerror's text).
    case loadFailed(library: String, reason: String)
    /// The driver loaded but offers no usable device.
    case noDevice(reason: String)
    /// A call into `api` ("CUDA driver", "cuDNN", "cuBLASLt", "NVRTC") returned status `code`.
    case call(api: String, function: String, code: Int32, message: String)
    /// NVRTC rejected a kernel's source; `log` is its compiler output.
    case compilation(log: String)
    /// A request that cannot be passed to CUDA as asked (a negative size, an ordinal out of range).
    case invalidArgument(function: String, reason: String)

    public var description: String {
        switch self {
        case let .libraryNotFound(library, searched):
            let folders = searched.isEmpty ? "(no folders)" : searched.joined(separator: ", ")
            let hint = CUDALibrary.labelled(library).map { " (\($0.installHint))" } ?? ""
            return "\(library) not found; searched: \(folders). "
                + "Set \(CUDALibrarySearch.overrideVariable) to a colon-separated list of folders holding it\(hint)"
        case let .incompatibleVersion(library, found, required):
            return "\(library) is version \(found); Sluice needs \(required)"
        case let .missingSymbol(library, symbol):
            return "\(library) has no function \(symbol) (a different or damaged build of the library?)"
        case let .loadFailed(library, reason):
            return "\(library) could not be loaded: \(reason)"
        case let .noDevice(reason):
            return "no usable CUDA device: \(reason)"
        case let .call(api, function, code, message):
            return "\(api) \(function) failed with status \(code): \(message)"
        case let .compilation(log):
            return "NVRTC could not compile the kernel source:\n\(log)"
        case let .invalidArgument(function, reason):
            return "\(function): \(reason)"
        }
    }
}
