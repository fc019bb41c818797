/// Status of every cuBLAS / cuBLASLt call (`cublasStatus_t`); 0 is CUBLAS_STATUS_SUCCESS.
public typealias CUBLASStatus = Int32

/// cuBLASLt (libcublasLt.so.13, or .12), loaded at run time: the classifier's matrix multiply with its bias (and
/// ReLU) fused as an epilogue. Each property is the C entry point of the same name; handles and descriptors are
/// `OpaquePointer?`, enum arguments the `rawValue`s of the `CUBLAS…`/`CUBLASLtDataType` enums, `size_t` is `Int`.
public final class CUBLASLt: @unchecked Sendable {
    public static let apiName = "cuBLASLt"
    /// cublasLtGetVersion() of cuBLAS 12.0.0; 13.x is accepted too.
    public static let minimumVersion = 120000

    /// The library file loaded.
    public let path: String
    /// cublasLtGetVersion(): 10000 × major + 100 × minor + patch (131000 for 13.10.0).
    public let version: Int

    public let cublasLtGetVersion: @convention(c) () -> Int
    public let cublasLtGetStatusString: @convention(c) (CUBLASStatus) -> UnsafePointer<CChar>?
    public let cublasLtCreate: @convention(c) (UnsafeMutablePointer<OpaquePointer?>?) -> CUBLASStatus
    public let cublasLtDestroy: @convention(c) (OpaquePointer?) -> CUBLASStatus
    /// (descriptor, compute type: `CUBLASComputeType`, scale type: `CUBLASLtDataType`).
    public let cublasLtMatmulDescCreate: @convention(c) (UnsafeMutablePointer<OpaquePointer?>?, Int32, Int32) -> CUBLASStatus
    public let cublasLtMatmulDescDestroy: @convention(c) (OpaquePointer?) -> CUBLASStatus
    /// (descriptor, `CUBLASLtMatmulDescAttribute`, value, value bytes).
    public let cublasLtMatmulDescSetAttribute: @convention(c) (OpaquePointer?, Int32, UnsafeRawPointer?, Int) -> CUBLASStatus
    /// (layout, data type: `CUBLASLtDataType`, rows, columns, leading dimension): column-major unless ORDER is set.
    public let cublasLtMatrixLayoutCreate: @convention(c) (UnsafeMutablePointer<OpaquePointer?>?, Int32, UInt64, UInt64, Int64) -> CUBLASStatus
    public let cublasLtMatrixLayoutDestroy: @convention(c) (OpaquePointer?) -> CUBLASStatus
    /// (layout, `CUBLASLtMatrixLayoutAttribute`, value, value bytes).
    public let cublasLtMatrixLayoutSetAttribute: @convention(c) (OpaquePointer?, Int32, UnsafeRawPointer?, Int) -> CUBLASStatus
    public let cublasLtMatmulPreferenceCreate: @convention(c) (UnsafeMutablePointer<OpaquePointer?>?) -> CUBLASStatus
    public let cublasLtMatmulPreferenceDestroy: @convention(c) (OpaquePointer?) -> CUBLASStatus
    /// (preference, `CUBLASLtMatmulPreferenceAttribute`, value, value bytes).
    public let cublasLtMatmulPreferenceSetAttribute: @convention(c) (OpaquePointer?, Int32, UnsafeRawPointer?, Int) -> CUBLASStatus
    /// (handle, matmul desc, A, B, C, D layouts, preference, requested count,
    /// results: `CUBLASLtMatmulHeuristicResult` array, returned count).
    public let cublasLtMatmulAlgoGetHeuristic: @convention(c) (
        OpaquePointer?, OpaquePointer?, OpaquePointer?, OpaquePointer?, OpaquePointer?, OpaquePointer?, OpaquePointer?,
        Int32, UnsafeMutableRawPointer?, UnsafeMutablePointer<Int32>?
    ) -> CUBLASStatus
    /// D = alpha · op(A) · op(B) + beta · C (+ epilogue): (handle, matmul desc, alpha, A, A layout, B, B layout, beta,
    /// C, C layout, D, D layout, algorithm (`CUBLASLtMatmulAlgorithm` pointer), workspace, workspace bytes, stream).
    public let cublasLtMatmul: @convention(c) (
        OpaquePointer?, OpaquePointer?, UnsafeRawPointer?, UnsafeRawPointer?, OpaquePointer?, UnsafeRawPointer?,
        OpaquePointer?, UnsafeRawPointer?, UnsafeRawPointer?, OpaquePointer?, UnsafeMutableRawPointer?, OpaquePointer?,
        UnsafeRawPointer?, UnsafeMutableRawPointer?, Int, OpaquePointer?
    ) -> CUBLASStatus

    /// Finds libcublasLt.so.13 (or .12) through `search` and checks it is cuBLAS 12 or newer. Needs no GPU:
    /// handles (cublasLtCreate) do.
    public static func load(search: CUDALibrarySearch = CUDALibrarySearch()) throws -> CUBLASLt {
        try CUBLASLt(library: DynamicLibrary.open(.cublasLt, search: search))
    }

    private init(library: DynamicLibrary) throws {
        path = library.path
        cublasLtGetVersion = try library.symbol("cublasLtGetVersion")
        version = cublasLtGetVersion()
        guard version >= Self.minimumVersion else {
            throw CUDAError.incompatibleVersion(library: library.path, found: Self.versionText(version),
                                                required: "cuBLASLt 12.0 or newer")
        }
        cublasLtGetStatusString = try library.symbol("cublasLtGetStatusString")
        cublasLtCreate = try library.symbol("cublasLtCreate")
        cublasLtDestroy = try library.symbol("cublasLtDestroy")
        cublasLtMatmulDescCreate = try library.symbol("cublasLtMatmulDescCreate")
        cublasLtMatmulDescDestroy = try library.symbol("cublasLtMatmulDescDestroy")
        cublasLtMatmulDescSetAttribute = try library.symbol("cublasLtMatmulDescSetAttribute")
        cublasLtMatrixLayoutCreate = try library.symbol("cublasLtMatrixLayoutCreate")
        cublasLtMatrixLayoutDestroy = try library.symbol("cublasLtMatrixLayoutDestroy")
        cublasLtMatrixLayoutSetAttribute = try library.symbol("cublasLtMatrixLayoutSetAttribute")
        cublasLtMatmulPreferenceCreate = try library.symbol("cublasLtMatmulPreferenceCreate")
        cublasLtMatmulPreferenceDestroy = try library.symbol("cublasLtMatmulPreferenceDestroy")
        cublasLtMatmulPreferenceSetAttribute = try library.symbol("cublasLtMatmulPreferenceSetAttribute")
        cublasLtMatmulAlgoGetHeuristic = try library.symbol("cublasLtMatmulAlgoGetHeuristic")
        cublasLtMatmul = try library.symbol("cublasLtMatmul")
    }

    /// Throws `CUDAError.call` naming `function` and cuBLASLt's text for `status`, unless it is success.
    public func check(_ status: CUBLASStatus, _ function: String) throws {
        guard status != 0 else { return }
        let message = cublasLtGetStatusString(status).map { String(cString: $0) } ?? "unknown cublasStatus_t \(status)"
        throw CUDAError.call(api: Self.apiName, function: function, code: status, message: message)
    }

    /// Sets a matmul descriptor attribute to `value`, whose type must be the attribute's C type (see
    /// `CUBLASLtMatmulDescAttribute`: Int32 for the transposes, UInt32 for the epilogue, a raw pointer for the bias).
    public func setAttribute<Value>(_ descriptor: OpaquePointer?, _ attribute: CUBLASLtMatmulDescAttribute, _ value: Value) throws {
        let status = withUnsafeBytes(of: value) { bytes in
            cublasLtMatmulDescSetAttribute(descriptor, attribute.rawValue, bytes.baseAddress, bytes.count)
        }
        try check(status, "cublasLtMatmulDescSetAttribute(\(attribute))")
    }

    /// Sets a matrix layout attribute (Int32 for ORDER and BATCH_COUNT, Int64 for strides).
    public func setAttribute<Value>(_ layout: OpaquePointer?, _ attribute: CUBLASLtMatrixLayoutAttribute, _ value: Value) throws {
        let status = withUnsafeBytes(of: value) { bytes in
            cublasLtMatrixLayoutSetAttribute(layout, attribute.rawValue, bytes.baseAddress, bytes.count)
        }
        try check(status, "cublasLtMatrixLayoutSetAttribute(\(attribute))")
    }

    /// Sets a preference attribute (UInt64 for MAX_WORKSPACE_BYTES).
    public func setAttribute<Value>(_ preference: OpaquePointer?, _ attribute: CUBLASLtMatmulPreferenceAttribute, _ value: Value) throws {
        let status = withUnsafeBytes(of: value) { bytes in
            cublasLtMatmulPreferenceSetAttribute(preference, attribute.rawValue, bytes.baseAddress, bytes.count)
        }
        try check(status, "cublasLtMatmulPreferenceSetAttribute(\(attribute))")
    }

    /// "13.10.0" for 131000.
    public var versionText: String { Self.versionText(version) }

    static func versionText(_ version: Int) -> String {
        // cuBLAS 10 encoded 1000 × major + 100 × minor + patch (10202 is 10.2.2); 11 on, 10000 × major.
        version < 100000
            ? "\(version / 1000).\(version % 1000 / 100).\(version % 100)"
            : "\(version / 10000).\(version % 10000 / 100).\(version % 100)"
    }
}

/// cudaDataType_t (library_types.h): the element types of cuBLASLt matrices and scales.
public enum CUBLASLtDataType: Int32, Sendable {
    case float32 = 0      // CUDA_R_32F
    case float16 = 2      // CUDA_R_16F
    case int8 = 3         // CUDA_R_8I
    case uint8 = 8        // CUDA_R_8U
    case int32 = 10       // CUDA_R_32I
    case bfloat16 = 14    // CUDA_R_16BF
}

/// cublasComputeType_t.
public enum CUBLASComputeType: Int32, Sendable {
    case float16 = 64           // CUBLAS_COMPUTE_16F
    case float32 = 68           // CUBLAS_COMPUTE_32F
    case float32FastFloat16 = 74   // CUBLAS_COMPUTE_32F_FAST_16F
    case float32FastBFloat16 = 75  // CUBLAS_COMPUTE_32F_FAST_16BF
    case float32FastTF32 = 77   // CUBLAS_COMPUTE_32F_FAST_TF32
}

/// cublasOperation_t (the TRANSA / TRANSB attribute values, Int32).
public enum CUBLASOperation: Int32, Sendable {
    case none = 0       // CUBLAS_OP_N
    case transpose = 1  // CUBLAS_OP_T
}

/// cublasLtEpilogue_t (the EPILOGUE attribute value, UInt32).
public enum CUBLASLtEpilogue: UInt32, Sendable {
    case `default` = 1  // CUBLASLT_EPILOGUE_DEFAULT
    case relu = 2
    case bias = 4
    case reluBias = 6   // CUBLASLT_EPILOGUE_RELU_BIAS
}

/// cublasLtMatmulDescAttributes_t, with each value's C type.
public enum CUBLASLtMatmulDescAttribute: Int32, Sendable {
    case computeType = 0      // int32_t
    case scaleType = 1        // int32_t (cudaDataType_t)
    case pointerMode = 2      // int32_t
    case transposeA = 3       // int32_t (cublasOperation_t)
    case transposeB = 4       // int32_t
    case transposeC = 5       // int32_t
    case epilogue = 7         // uint32_t (cublasLtEpilogue_t)
    case biasPointer = 8      // const void * (device)
    case biasDataType = 26    // int32_t (cudaDataType_t); default: D's type
}

/// cublasLtMatrixLayoutAttribute_t.
public enum CUBLASLtMatrixLayoutAttribute: Int32, Sendable {
    case type = 0            // uint32_t
    case order = 1           // int32_t (cublasLtOrder_t)
    case rows = 2            // uint64_t
    case columns = 3         // uint64_t
    case leadingDimension = 4  // int64_t
    case batchCount = 5      // int32_t
    case stridedBatchOffset = 6  // int64_t
}

/// cublasLtOrder_t.
public enum CUBLASLtOrder: Int32, Sendable {
    case column = 0
    case row = 1
}

/// cublasLtMatmulPreferenceAttributes_t.
public enum CUBLASLtMatmulPreferenceAttribute: Int32, Sendable {
    case searchMode = 0          // uint32_t
    case maxWorkspaceBytes = 1   // uint64_t
}

/// cublasLtMatmulAlgo_t: 64 opaque bytes (uint64_t data[8]).
public struct CUBLASLtMatmulAlgorithm: Sendable {
    public var data: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
    public init() {}
}

/// cublasLtMatmulHeuristicResult_t (96 bytes): an algorithm, its workspace, whether it applies.
public struct CUBLASLtMatmulHeuristicResult: Sendable {
    public var algorithm = CUBLASLtMatmulAlgorithm()
    public var workspaceSize: Int = 0
    /// CUBLAS_STATUS_SUCCESS (0) when the other fields are valid.
    public var state: CUBLASStatus = 0
    public var wavesCount: Float = 0
    public var reserved: (Int32, Int32, Int32, Int32) = (0, 0, 0, 0)
    public init() {}
}
