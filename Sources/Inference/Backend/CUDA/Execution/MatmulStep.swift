/// cuBLASLt values this executor passes (cublasLt.h, cublas_api.h, library_types.h).
enum CUBLASLtValue {
    static let computeFloat: Int32 = 68          // CUBLAS_COMPUTE_32F
    static let computeFloatFastTF32: Int32 = 77  // CUBLAS_COMPUTE_32F_FAST_TF32
    static let realFloat: Int32 = 0              // CUDA_R_32F
    static let realHalf: Int32 = 2               // CUDA_R_16F
    static let realBFloat16: Int32 = 14          // CUDA_R_16BF
    static let opN: Int32 = 0
    static let opT: Int32 = 1
    static let descTransA: Int32 = 3             // CUBLASLT_MATMUL_DESC_TRANSA (int32)
    static let descTransB: Int32 = 4             // CUBLASLT_MATMUL_DESC_TRANSB (int32)
    static let descEpilogue: Int32 = 7           // CUBLASLT_MATMUL_DESC_EPILOGUE (uint32)
    static let descBiasPointer: Int32 = 8        // CUBLASLT_MATMUL_DESC_BIAS_POINTER (void*)
    static let descBiasDataType: Int32 = 26      // CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE (int32 cudaDataType)
    static let preferenceMaxWorkspace: Int32 = 1 // CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES (uint64)

    static func dataType(_ element: DeviceElement) -> Int32 {
        switch element {
        case .float32: realFloat
        case .float16: realHalf
        case .bfloat16: realBFloat16
        }
    }

    static func epilogue(_ epilogue: CUDAMatmulEpilogue) -> UInt32 {
        switch epilogue {
        case .none: 1
        case .relu: 2
        case .bias: 4
        case .reluBias: 6
        }
    }
}

/// A linear layer: one cublasLtMatmul, D (m × n column-major, i.e. the row-major [n, m] output) =
/// op(A)·B with A the row-major weight [m, k] read transposed, B the row-major input [n, k], bias epilogue.
final class MatmulStep: DeviceStep {
    let record: DispatchRecord
    private let session: CUDASession
    private let handle: OpaquePointer
    private let operation: OpaquePointer
    private let layouts: (a: OpaquePointer, b: OpaquePointer, d: OpaquePointer)
    private let algorithm: UnsafeMutablePointer<CUBLASLtMatmulAlgorithm>
    private let addresses: (a: UInt64, b: UInt64, d: UInt64)
    private let workspace: UInt64
    private let workspaceBytes: Int
    private let scalars: Scalars

    init(session: CUDASession, handle: OpaquePointer, step: CUDAMatmulStep, layer: String, inputType: DeviceElement,
         outputType: DeviceElement, biasType: DeviceElement?, a: UInt64, b: UInt64, d: UInt64, bias: UInt64?,
         workspace: UInt64, workspaceLimit: Int, scalars: Scalars) throws {
        let lt = session.cublasLt
        self.session = session
        self.handle = handle
        self.scalars = scalars
        self.addresses = (a, b, d)
        self.workspace = workspace
        algorithm = .allocate(capacity: 1)
        algorithm.initialize(to: CUBLASLtMatmulAlgorithm())
        for (address, what) in [(a, "weight"), (b, "input"), (d, "output")] + (bias.map { [($0, "bias")] } ?? []) where address % 16 != 0 {
            throw InferenceError(.invalidGraph, "CUDA plan: matmul \(layer)'s \(what) at 0x\(String(address, radix: 16)) is not 16-byte aligned")
        }
        guard step.bias == nil || step.epilogue == .bias || step.epilogue == .reluBias else {
            throw InferenceError(.invalidGraph, "CUDA plan: matmul \(layer) has a bias but epilogue \(step.epilogue.rawValue)")
        }

        var operation: OpaquePointer?
        let compute = step.allowsTF32 ? CUBLASLtValue.computeFloatFastTF32 : CUBLASLtValue.computeFloat
        try lt.check(lt.cublasLtMatmulDescCreate(&operation, compute, CUBLASLtValue.realFloat), "cublasLtMatmulDescCreate (\(layer))")
        guard let operation else { throw CUDAError.call(api: CUBLASLt.apiName, function: "cublasLtMatmulDescCreate", code: -1, message: "no descriptor (\(layer))") }
        self.operation = operation
        var created: [OpaquePointer] = []
        func layout(_ type: DeviceElement, rows: Int, columns: Int, leading: Int, _ what: String) throws -> OpaquePointer {
            var layout: OpaquePointer?
            try lt.check(lt.cublasLtMatrixLayoutCreate(&layout, CUBLASLtValue.dataType(type), UInt64(rows), UInt64(columns), Int64(leading)),
                         "cublasLtMatrixLayoutCreate (\(layer) \(what))")
            guard let layout else { throw CUDAError.call(api: CUBLASLt.apiName, function: "cublasLtMatrixLayoutCreate", code: -1, message: "no layout (\(layer))") }
            created.append(layout)
            return layout
        }
        do {
            guard step.m > 0, step.n > 0, step.k > 0 else {
                throw InferenceError(.invalidGraph, "CUDA plan: matmul \(layer) of m \(step.m), n \(step.n), k \(step.k)")
            }
            let aLayout = try layout(inputType, rows: step.k, columns: step.m, leading: step.k, "A")
            let bLayout = try layout(inputType, rows: step.k, columns: step.n, leading: step.k, "B")
            let dLayout = try layout(outputType, rows: step.m, columns: step.n, leading: step.m, "D")
            layouts = (aLayout, bLayout, dLayout)
            func set<T: BitwiseCopyable>(_ attribute: Int32, _ value: T, _ name: String) throws {
                let status = withUnsafeBytes(of: value) { lt.cublasLtMatmulDescSetAttribute(operation, attribute, $0.baseAddress, $0.count) }
                try lt.check(status, "cublasLtMatmulDescSetAttribute (\(layer) \(name))")
            }
            try set(CUBLASLtValue.descTransA, CUBLASLtValue.opT, "TRANSA")
            try set(CUBLASLtValue.descTransB, CUBLASLtValue.opN, "TRANSB")
            try set(CUBLASLtValue.descEpilogue, CUBLASLtValue.epilogue(step.epilogue), "EPILOGUE")
            if let bias, let biasType {
                try set(CUBLASLtValue.descBiasPointer, bias, "BIAS_POINTER")
                try set(CUBLASLtValue.descBiasDataType, CUBLASLtValue.dataType(biasType), "BIAS_DATA_TYPE")
            }

            var preference: OpaquePointer?
            try lt.check(lt.cublasLtMatmulPreferenceCreate(&preference), "cublasLtMatmulPreferenceCreate (\(layer))")
            defer { if let preference { _ = lt.cublasLtMatmulPreferenceDestroy(preference) } }
            var limit = UInt64(workspaceLimit)
            try lt.check(lt.cublasLtMatmulPreferenceSetAttribute(preference, CUBLASLtValue.preferenceMaxWorkspace, &limit, MemoryLayout<UInt64>.size),
                         "cublasLtMatmulPreferenceSetAttribute (\(layer) MAX_WORKSPACE_BYTES)")
            var results = [CUBLASLtMatmulHeuristicResult](repeating: CUBLASLtMatmulHeuristicResult(), count: 4)
            var returned: Int32 = 0
            try lt.check(lt.cublasLtMatmulAlgoGetHeuristic(handle, operation, aLayout, bLayout, dLayout, dLayout, preference,
                                                           Int32(results.count), &results, &returned),
                         "cublasLtMatmulAlgoGetHeuristic (\(layer))")
            guard let best = results.prefix(Int(max(0, min(returned, Int32(results.count))))).first(where: { $0.state == 0 && $0.workspaceSize <= workspaceLimit }) else {
                throw InferenceError(.unsupported, "\(layer): cuBLASLt has no algorithm for \(step.n)×\(step.k) · \(step.k)×\(step.m) (\(inputType.rawValue) → \(outputType.rawValue), epilogue \(step.epilogue.rawValue))")
            }
            algorithm.pointee = best.algorithm
            workspaceBytes = best.workspaceSize
            record = DispatchRecord(layer: layer, kind: "linear", implementation: "cublasLt:heuristic",
                                    detail: "[\(step.n), \(step.k)]→[\(step.n), \(step.m)] \(inputType.rawValue)→\(outputType.rawValue) epilogue \(step.epilogue.rawValue)\(step.allowsTF32 ? " tf32" : "") ws \(best.workspaceSize)B waves \(best.wavesCount)")
        } catch {
            for layout in created { _ = lt.cublasLtMatrixLayoutDestroy(layout) }
            _ = lt.cublasLtMatmulDescDestroy(operation)
            algorithm.deallocate()
            throw error
        }
    }

    func enqueue(on stream: OpaquePointer?) throws {
        let lt = session.cublasLt
        func pointer(_ address: UInt64) -> UnsafeMutableRawPointer? { UnsafeMutableRawPointer(bitPattern: UInt(address)) }
        // beta = 0: C is D (not read).
        try lt.check(lt.cublasLtMatmul(handle, operation, scalars.one, pointer(addresses.a), layouts.a, pointer(addresses.b), layouts.b,
                                       scalars.zero, pointer(addresses.d), layouts.d, pointer(addresses.d), layouts.d, algorithm,
                                       pointer(workspace), workspaceBytes, stream),
                     "cublasLtMatmul (\(record.layer))")
    }

    deinit {
        let lt = session.cublasLt
        try? session.makeCurrent()
        _ = lt.cublasLtMatrixLayoutDestroy(layouts.a)
        _ = lt.cublasLtMatrixLayoutDestroy(layouts.b)
        _ = lt.cublasLtMatrixLayoutDestroy(layouts.d)
        _ = lt.cublasLtMatmulDescDestroy(operation)
        algorithm.deallocate()
    }
}
