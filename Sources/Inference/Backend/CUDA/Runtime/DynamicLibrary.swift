#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A CUDA shared library opened with `dlopen` (RTLD_NOW | RTLD_LOCAL, by full path where a folder holds it).
/// It is never closed: the function tables keep its entry points, and CUDA's libraries own threads and
/// callbacks that must not outlive their code.
struct DynamicLibrary: @unchecked Sendable {
    /// The file that was loaded (the full path; for a library found through the linker cache, the path the loader chose).
    let path: String
    let library: CUDALibrary
    private let handle: UnsafeMutableRawPointer

    /// Opens the first of `library`'s files that `search` finds and the loader accepts. cuDNN 9's libcudnn.so.9
    /// then opens its sub-libraries (libcudnn_ops.so.9, ...) from its own folder, so a full path is enough.
    static func open(_ library: CUDALibrary, search: CUDALibrarySearch) throws -> DynamicLibrary {
        var refusal: CUDAError?
        for path in search.candidates(for: library) {
            if let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) {
                return DynamicLibrary(path: path, library: library, handle: handle)
            }
            if refusal == nil { refusal = .loadFailed(library: path, reason: lastLoaderError()) }
        }
        if search.usesLinkerCache {
            for fileName in library.fileNames {
                if let handle = dlopen(fileName, RTLD_NOW | RTLD_LOCAL) {
                    return DynamicLibrary(path: loadedPath(handle) ?? fileName, library: library, handle: handle)
                }
                let reason = lastLoaderError()
                // "cannot open shared object file: No such file or directory" is plain absence, not a refusal.
                if refusal == nil && !reason.contains("No such file") {
                    refusal = .loadFailed(library: fileName, reason: reason)
                }
            }
        }
        if let refusal { throw refusal }
        throw CUDAError.libraryNotFound(library: library.label, searched: search.searchedDescription)
    }

    /// The C entry point `name`, as the `@convention(c)` function type `T` (inferred from where it is stored).
    func symbol<T>(_ name: String, as type: T.Type = T.self) throws -> T {
        guard let address = optionalSymbol(name, as: type) else {
            throw CUDAError.missingSymbol(library: path, symbol: name)
        }
        return address
    }

    func optionalSymbol<T>(_ name: String, as type: T.Type = T.self) -> T? {
        guard MemoryLayout<T>.size == MemoryLayout<UnsafeMutableRawPointer>.size,
              let address = dlsym(handle, name) else { return nil }
        return unsafeBitCast(address, to: T.self)
    }

    private static func lastLoaderError() -> String {
        guard let message = dlerror() else { return "unknown dlopen failure" }
        return String(cString: message)
    }

    /// The file the loader mapped for `handle` (found by name through ld.so.cache), from glibc's dlinfo
    /// (RTLD_DI_LINKMAP), looked up at run time because Swift's Glibc module does not declare it.
    private static func loadedPath(_ handle: UnsafeMutableRawPointer) -> String? {
        typealias DLInfo = @convention(c) (UnsafeMutableRawPointer?, Int32, UnsafeMutableRawPointer?) -> Int32
        let linkMapRequest: Int32 = 2  // RTLD_DI_LINKMAP
        guard let address = dlsym(nil, "dlinfo") else { return nil }
        let dlinfo = unsafeBitCast(address, to: DLInfo.self)
        var map: UnsafeMutableRawPointer?
        guard dlinfo(handle, linkMapRequest, &map) == 0, let map else { return nil }
        // struct link_map begins { ElfW(Addr) l_addr; char *l_name; ... } (<link.h>, stable since glibc 2.0).
        guard let name = map.load(fromByteOffset: MemoryLayout<UInt>.size, as: UnsafePointer<CChar>?.self) else {
            return nil
        }
        let path = String(cString: name)
        return path.isEmpty ? nil : path
    }
}
