import FuzzSupport
import Inference
#if canImport(Glibc)
import Glibc
#endif

// A safetensors file (header length, JSON header, data), opened as the engine opens weights (memory-mapped,
// so the input goes through a file) and every tensor it lists read back.

private let path: String = {
    let directory = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
    return "\(directory)/sluice-fuzz-safetensors-\(getpid()).safetensors"
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafetensors(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzBytes(data, size)
    guard let file = fopen(path, "wb") else { return 0 }
    let written = bytes.isEmpty ? 0 : fwrite(bytes.baseAddress, 1, bytes.count, file)
    fclose(file)
    guard written == bytes.count, let weights = try? SafetensorsFile(path: path) else { return 0 }
    for (name, entry) in weights.entries {
        _ = try? weights.rawTensor(named: name)
        _ = try? weights.tensor(named: name, shape: entry.shape, role: .linearWeight)
    }
    return 0
}

@_cdecl("fuzz_safetensors_main")
public func fuzzSafetensorsMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzSafetensors) { seeds in
        let headers = [
            #"{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[2],"data_offsets":[16,24]}}"#,
            #"{"__metadata__":{"format":"pt"},"x":{"dtype":"F16","shape":[3],"data_offsets":[0,6]},"y":{"dtype":"BF16","shape":[1,1],"data_offsets":[6,8]}}"#,
            #"{"i":{"dtype":"I64","shape":[1],"data_offsets":[0,8]},"u":{"dtype":"U8","shape":[4],"data_offsets":[8,12]},"z":{"dtype":"BOOL","shape":[0],"data_offsets":[12,12]}}"#,
            #"{"d":{"dtype":"F64","shape":[],"data_offsets":[0,8]}}"#,
        ]
        for (n, header) in headers.enumerated() {
            var json = Array(header.utf8)
            while json.count % 8 != 0 { json.append(0x20) }
            let length = UInt64(json.count)
            let prefix = (0..<8).map { UInt8(truncatingIfNeeded: length >> (8 * $0)) }
            try seeds.write("seed-\(n).safetensors", prefix + json + [UInt8](repeating: 0x3f, count: 24))
        }
    }
}
