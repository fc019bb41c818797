import Foundation

/// What the copies of one model on one device share: the uploaded weights (one device buffer per model,
/// precision and device, held while any copy lives) and the convolution algorithms chosen per shape, so
/// that the second copy neither uploads nor searches again. Pass one cache to every `CUDABackend` whose
/// models should share.
public final class CUDAWeightCache: @unchecked Sendable {
    private final class WeakReference {
        weak var object: AnyObject?
        init(_ object: AnyObject) { self.object = object }
    }

    private let lock = NSLock()
    /// The loaded libraries and primary context per device ordinal (loaded once for all copies).
    private var sessions: [Int: CUDASession] = [:]
    private var uploads: [String: WeakReference] = [:]
    private var algorithms: [String: ConvolutionChoice] = [:]
    /// Sluice's kernels compiled by NVRTC, per architecture ("sm_90").
    private var kernels: [String: [UInt8]] = [:]
    /// Weight buffers uploaded so far (a copy that found its weights here adds none).
    public private(set) var uploadCount = 0
    /// Convolution algorithm searches run so far (one per distinct shape and device).
    public private(set) var algorithmSearches = 0

    public init() {}

    func session(ordinal: Int, load: () throws -> CUDASession) rethrows -> CUDASession {
        try lock.withLock {
            if let known = sessions[ordinal] { return known }
            let session = try load()
            sessions[ordinal] = session
            return session
        }
    }

    /// Weights whose converted bytes have `fingerprint` on device `ordinal`: the live buffer a copy uploaded,
    /// or a new upload. The lock is held through the upload so that a concurrent copy waits for it.
    func weights<Memory: AnyObject>(ordinal: Int, fingerprint: UInt64, byteCount: Int, upload: () throws -> Memory) rethrows -> Memory {
        let key = "cuda:\(ordinal) \(byteCount) \(String(fingerprint, radix: 16))"
        return try lock.withLock {
            if let live = uploads[key]?.object as? Memory { return live }
            let memory = try upload()
            uploads[key] = WeakReference(memory)
            uploadCount += 1
            return memory
        }
    }

    func kernelImage(architecture: String, compile: () throws -> [UInt8]) rethrows -> [UInt8] {
        try lock.withLock {
            if let known = kernels[architecture] { return known }
            let ptx = try compile()
            kernels[architecture] = ptx
            return ptx
        }
    }

    /// The algorithm for a convolution shape (`key` names the device, shapes, types and fusion).
    func convolutionAlgorithm(key: String, search: () throws -> ConvolutionChoice) rethrows -> ConvolutionChoice {
        try lock.withLock {
            if let known = algorithms[key] { return known }
            let choice = try search()
            algorithms[key] = choice
            algorithmSearches += 1
            return choice
        }
    }
}

/// A convolution's algorithm (cudnnConvolutionFwdAlgo_t), math type (cudnnMathType_t) and workspace.
struct ConvolutionChoice: Sendable, Equatable {
    enum Source: String, Sendable { case measured, heuristic, required }
    var algorithm: Int32
    var mathType: Int32
    var workspaceBytes: Int
    /// cuDNN's measurement, when the choice was measured.
    var milliseconds: Float?
    var source: Source

    var algorithmName: String { CUDNNNames.forwardAlgorithm(algorithm) }

    var summary: String {
        var text = "\(algorithmName) \(CUDNNNames.mathType(mathType)) ws \(workspaceBytes)B \(source.rawValue)"
        if let milliseconds { text += String(format: " %.3fms", milliseconds) }
        return text
    }
}

/// cuDNN's enum values, named for reports (cudnn_ops.h, cudnn_graph.h).
enum CUDNNNames {
    static func forwardAlgorithm(_ value: Int32) -> String {
        switch value {
        case 0: "IMPLICIT_GEMM"
        case 1: "IMPLICIT_PRECOMP_GEMM"
        case 2: "GEMM"
        case 3: "DIRECT"
        case 4: "FFT"
        case 5: "FFT_TILING"
        case 6: "WINOGRAD"
        case 7: "WINOGRAD_NONFUSED"
        default: "algo\(value)"
        }
    }

    static func mathType(_ value: Int32) -> String {
        switch value {
        case 0: "default-math"
        case 1: "tensor-op"
        case 2: "tensor-op-conversion"
        case 3: "fma"
        default: "math\(value)"
        }
    }
}
