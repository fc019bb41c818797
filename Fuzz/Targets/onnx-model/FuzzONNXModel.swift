import Foundation
import FuzzSupport
import Inference
import ONNX
#if canImport(Glibc)
import Glibc
#endif

// An ONNX model (protobuf), imported as `--model FILE.onnx` imports it: parsed, checked, lowered into the graph
// IR with constants folded, then shapes inferred and the graph optimised as the backend does before it compiles
// (batch-norm folding, fusions), and lowered as the CUDA backend lowers it. External data may name files in a scratch folder holding one small file, so
// that the folder check and the offset/length checks run too.

private let folder: URL = {
    let base = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
    let url = URL(fileURLWithPath: "\(base)/sluice-fuzz-onnx-\(getpid())")
    try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    try? Data((0..<256).map { UInt8($0) }).write(to: url.appendingPathComponent("weights.bin"))
    return url
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzONNXModel(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzBytes(data, size)
    guard let model = try? ONNXModel.load(data: Data(bytes), file: "fuzz.onnx", directory: folder) else { return 0 }
    _ = try? model.graph.inferShapes()
    _ = try? GraphOptimizer.optimize(model.graph)
    // The CUDA backend's lowering is pure data (no GPU): shapes, arena offsets and weight sizes from hostile graphs.
    _ = try? CUDAPlan.build(graph: model.graph, batchSize: 2, inputEncoding: .float32NCHW)
    return 0
}

@_cdecl("fuzz_onnx_model_main")
public func fuzzONNXModelMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzONNXModel) { seeds in
        // The committed tiny models (every operator the importer lowers), named by scripts/fuzz.
        for (n, path) in seeds.inputs.enumerated() {
            try seeds.write("model-\(n).onnx", try seeds.read(path))
        }
    }
}
