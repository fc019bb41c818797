/// Status of every cuDNN call (`cudnnStatus_t`); 0 is CUDNN_STATUS_SUCCESS.
public typealias CUDNNStatus = Int32

/// cuDNN 9's legacy (descriptor) API from libcudnn.so.9, loaded at run time. Each property is the C entry point
/// of the same name; handles and descriptors are `OpaquePointer?`, device buffers `UnsafeRawPointer?` /
/// `UnsafeMutableRawPointer?` (`UnsafeMutableRawPointer(bitPattern: deviceAddress)`), `cudaStream_t` is the
/// driver's CUstream, enum arguments are the `rawValue`s of the `CUDNN…` enums below, `size_t` is `Int`.
public final class CUDNN: @unchecked Sendable {
    public static let apiName = "cuDNN"
    /// Accepted cudnnGetVersion() values: any 9.x (9.0.0 = 90000).
    public static let supportedVersions = 90000..<100000

    /// The library file loaded.
    public let path: String
    /// cudnnGetVersion(): 10000 × major + 100 × minor + patch (92801 for 9.28.1).
    public let version: Int

    public let cudnnGetVersion: @convention(c) () -> Int
    public let cudnnGetErrorString: @convention(c) (CUDNNStatus) -> UnsafePointer<CChar>?
    public let cudnnCreate: @convention(c) (UnsafeMutablePointer<OpaquePointer?>?) -> CUDNNStatus
    public let cudnnDestroy: @convention(c) (OpaquePointer?) -> CUDNNStatus
    /// (handle, CUstream).
    public let cudnnSetStream: @convention(c) (OpaquePointer?, OpaquePointer?) -> CUDNNStatus

    // Tensors
    public let cudnnCreateTensorDescriptor: @convention(c) (UnsafeMutablePointer<OpaquePointer?>?) -> CUDNNStatus
    /// (descriptor, format, data type, n, c, h, w).
    public let cudnnSetTensor4dDescriptor: @convention(c) (OpaquePointer?, Int32, Int32, Int32, Int32, Int32, Int32) -> CUDNNStatus
    /// (descriptor, data type, n, c, h, w, nStride, cStride, hStride, wStride).
    public let cudnnSetTensor4dDescriptorEx: @convention(c) (
        OpaquePointer?, Int32, Int32, Int32, Int32, Int32, Int32, Int32, Int32, Int32
    ) -> CUDNNStatus
    /// (descriptor, data type, dimension count, dimensions, strides).
    public let cudnnSetTensorNdDescriptor: @convention(c) (
        OpaquePointer?, Int32, Int32, UnsafePointer<Int32>?, UnsafePointer<Int32>?
    ) -> CUDNNStatus
    public let cudnnDestroyTensorDescriptor: @convention(c) (OpaquePointer?) -> CUDNNStatus

    // Filters
    public let cudnnCreateFilterDescriptor: @convention(c) (UnsafeMutablePointer<OpaquePointer?>?) -> CUDNNStatus
    /// (descriptor, data type, format, k (output channels), c (input channels per group), h, w).
    public let cudnnSetFilter4dDescriptor: @convention(c) (OpaquePointer?, Int32, Int32, Int32, Int32, Int32, Int32) -> CUDNNStatus
    public let cudnnDestroyFilterDescriptor: @convention(c) (OpaquePointer?) -> CUDNNStatus

    // Convolutions
    public let cudnnCreateConvolutionDescriptor: @convention(c) (UnsafeMutablePointer<OpaquePointer?>?) -> CUDNNStatus
    /// (descriptor, pad h, pad w, stride h, stride w, dilation h, dilation w, mode, compute data type).
    public let cudnnSetConvolution2dDescriptor: @convention(c) (
        OpaquePointer?, Int32, Int32, Int32, Int32, Int32, Int32, Int32, Int32
    ) -> CUDNNStatus
    public let cudnnSetConvolutionMathType: @convention(c) (OpaquePointer?, Int32) -> CUDNNStatus
    public let cudnnSetConvolutionGroupCount: @convention(c) (OpaquePointer?, Int32) -> CUDNNStatus
    /// (convolution, input tensor, filter, n, c, h, w): the output's dimensions. Needs no handle (no GPU).
    public let cudnnGetConvolution2dForwardOutputDim: @convention(c) (
        OpaquePointer?, OpaquePointer?, OpaquePointer?,
        UnsafeMutablePointer<Int32>?, UnsafeMutablePointer<Int32>?, UnsafeMutablePointer<Int32>?, UnsafeMutablePointer<Int32>?
    ) -> CUDNNStatus
    public let cudnnDestroyConvolutionDescriptor: @convention(c) (OpaquePointer?) -> CUDNNStatus

    // Activations, pooling, element-wise operations
    public let cudnnCreateActivationDescriptor: @convention(c) (UnsafeMutablePointer<OpaquePointer?>?) -> CUDNNStatus
    /// (descriptor, mode, NaN propagation, coefficient (clipping threshold / alpha; 0 for ReLU)).
    public let cudnnSetActivationDescriptor: @convention(c) (OpaquePointer?, Int32, Int32, Double) -> CUDNNStatus
    public let cudnnDestroyActivationDescriptor: @convention(c) (OpaquePointer?) -> CUDNNStatus
    public let cudnnCreatePoolingDescriptor: @convention(c) (UnsafeMutablePointer<OpaquePointer?>?) -> CUDNNStatus
    /// (descriptor, mode, NaN propagation, window h, window w, pad h, pad w, stride h, stride w).
    public let cudnnSetPooling2dDescriptor: @convention(c) (
        OpaquePointer?, Int32, Int32, Int32, Int32, Int32, Int32, Int32, Int32
    ) -> CUDNNStatus
    public let cudnnDestroyPoolingDescriptor: @convention(c) (OpaquePointer?) -> CUDNNStatus
    public let cudnnCreateOpTensorDescriptor: @convention(c) (UnsafeMutablePointer<OpaquePointer?>?) -> CUDNNStatus
    /// (descriptor, operation, compute data type, NaN propagation).
    public let cudnnSetOpTensorDescriptor: @convention(c) (OpaquePointer?, Int32, Int32, Int32) -> CUDNNStatus
    public let cudnnDestroyOpTensorDescriptor: @convention(c) (OpaquePointer?) -> CUDNNStatus

    // Algorithm choice
    public let cudnnGetConvolutionForwardAlgorithmMaxCount: @convention(c) (OpaquePointer?, UnsafeMutablePointer<Int32>?) -> CUDNNStatus
    /// (handle, x desc, x, w desc, w, conv desc, y desc, y, requested count, returned count,
    /// results: `CUDNNConvolutionForwardAlgorithmPerformance` array, workspace, workspace bytes). Runs each algorithm.
    public let cudnnFindConvolutionForwardAlgorithmEx: @convention(c) (
        OpaquePointer?, OpaquePointer?, UnsafeRawPointer?, OpaquePointer?, UnsafeRawPointer?, OpaquePointer?,
        OpaquePointer?, UnsafeMutableRawPointer?, Int32, UnsafeMutablePointer<Int32>?, UnsafeMutableRawPointer?,
        UnsafeMutableRawPointer?, Int
    ) -> CUDNNStatus
    /// (handle, x desc, w desc, conv desc, y desc, requested count, returned count, results): heuristics only.
    public let cudnnGetConvolutionForwardAlgorithm_v7: @convention(c) (
        OpaquePointer?, OpaquePointer?, OpaquePointer?, OpaquePointer?, OpaquePointer?, Int32,
        UnsafeMutablePointer<Int32>?, UnsafeMutableRawPointer?
    ) -> CUDNNStatus
    /// (handle, x desc, w desc, conv desc, y desc, algorithm, bytes).
    public let cudnnGetConvolutionForwardWorkspaceSize: @convention(c) (
        OpaquePointer?, OpaquePointer?, OpaquePointer?, OpaquePointer?, OpaquePointer?, Int32, UnsafeMutablePointer<Int>?
    ) -> CUDNNStatus

    // Execution (all enqueue on the handle's stream)
    /// (handle, alpha, x desc, x, w desc, w, conv desc, algorithm, workspace, workspace bytes, beta, y desc, y).
    public let cudnnConvolutionForward: @convention(c) (
        OpaquePointer?, UnsafeRawPointer?, OpaquePointer?, UnsafeRawPointer?, OpaquePointer?, UnsafeRawPointer?,
        OpaquePointer?, Int32, UnsafeMutableRawPointer?, Int, UnsafeRawPointer?, OpaquePointer?, UnsafeMutableRawPointer?
    ) -> CUDNNStatus
    /// y = act(alpha1 · conv(x, w) + alpha2 · z + bias): (handle, alpha1, x desc, x, w desc, w, conv desc,
    /// algorithm, workspace, workspace bytes, alpha2, z desc, z, bias desc, bias, activation desc, y desc, y).
    public let cudnnConvolutionBiasActivationForward: @convention(c) (
        OpaquePointer?, UnsafeRawPointer?, OpaquePointer?, UnsafeRawPointer?, OpaquePointer?, UnsafeRawPointer?,
        OpaquePointer?, Int32, UnsafeMutableRawPointer?, Int, UnsafeRawPointer?, OpaquePointer?, UnsafeRawPointer?,
        OpaquePointer?, UnsafeRawPointer?, OpaquePointer?, OpaquePointer?, UnsafeMutableRawPointer?
    ) -> CUDNNStatus
    /// (handle, pooling desc, alpha, x desc, x, beta, y desc, y).
    public let cudnnPoolingForward: @convention(c) (
        OpaquePointer?, OpaquePointer?, UnsafeRawPointer?, OpaquePointer?, UnsafeRawPointer?, UnsafeRawPointer?,
        OpaquePointer?, UnsafeMutableRawPointer?
    ) -> CUDNNStatus
    /// C = alpha · A + beta · C, A broadcast over C: (handle, alpha, a desc, A, beta, c desc, C).
    public let cudnnAddTensor: @convention(c) (
        OpaquePointer?, UnsafeRawPointer?, OpaquePointer?, UnsafeRawPointer?, UnsafeRawPointer?, OpaquePointer?,
        UnsafeMutableRawPointer?
    ) -> CUDNNStatus
    /// (handle, activation desc, alpha, x desc, x, beta, y desc, y).
    public let cudnnActivationForward: @convention(c) (
        OpaquePointer?, OpaquePointer?, UnsafeRawPointer?, OpaquePointer?, UnsafeRawPointer?, UnsafeRawPointer?,
        OpaquePointer?, UnsafeMutableRawPointer?
    ) -> CUDNNStatus
    /// (handle, algorithm, mode, alpha, x desc, x, beta, y desc, y).
    public let cudnnSoftmaxForward: @convention(c) (
        OpaquePointer?, Int32, Int32, UnsafeRawPointer?, OpaquePointer?, UnsafeRawPointer?, UnsafeRawPointer?,
        OpaquePointer?, UnsafeMutableRawPointer?
    ) -> CUDNNStatus
    /// C = op(alpha1 · A, alpha2 · B) + beta · C: (handle, op desc, alpha1, a desc, A, alpha2, b desc, B, beta, c desc, C).
    public let cudnnOpTensor: @convention(c) (
        OpaquePointer?, OpaquePointer?, UnsafeRawPointer?, OpaquePointer?, UnsafeRawPointer?, UnsafeRawPointer?,
        OpaquePointer?, UnsafeRawPointer?, UnsafeRawPointer?, OpaquePointer?, UnsafeMutableRawPointer?
    ) -> CUDNNStatus

    /// Finds libcudnn.so.9 through `search` and checks it is cuDNN 9.x. Needs no GPU: handles (cudnnCreate) do.
    public static func load(search: CUDALibrarySearch = CUDALibrarySearch()) throws -> CUDNN {
        try CUDNN(library: DynamicLibrary.open(.cudnn, search: search))
    }

    private init(library: DynamicLibrary) throws {
        path = library.path
        cudnnGetVersion = try library.symbol("cudnnGetVersion")
        version = cudnnGetVersion()
        guard Self.supportedVersions.contains(version) else {
            throw CUDAError.incompatibleVersion(library: library.path, found: Self.versionText(version),
                                                required: "cuDNN 9.x (9.0.0 or newer, before 10)")
        }
        cudnnGetErrorString = try library.symbol("cudnnGetErrorString")
        cudnnCreate = try library.symbol("cudnnCreate")
        cudnnDestroy = try library.symbol("cudnnDestroy")
        cudnnSetStream = try library.symbol("cudnnSetStream")

        cudnnCreateTensorDescriptor = try library.symbol("cudnnCreateTensorDescriptor")
        cudnnSetTensor4dDescriptor = try library.symbol("cudnnSetTensor4dDescriptor")
        cudnnSetTensor4dDescriptorEx = try library.symbol("cudnnSetTensor4dDescriptorEx")
        cudnnSetTensorNdDescriptor = try library.symbol("cudnnSetTensorNdDescriptor")
        cudnnDestroyTensorDescriptor = try library.symbol("cudnnDestroyTensorDescriptor")

        cudnnCreateFilterDescriptor = try library.symbol("cudnnCreateFilterDescriptor")
        cudnnSetFilter4dDescriptor = try library.symbol("cudnnSetFilter4dDescriptor")
        cudnnDestroyFilterDescriptor = try library.symbol("cudnnDestroyFilterDescriptor")

        cudnnCreateConvolutionDescriptor = try library.symbol("cudnnCreateConvolutionDescriptor")
        cudnnSetConvolution2dDescriptor = try library.symbol("cudnnSetConvolution2dDescriptor")
        cudnnSetConvolutionMathType = try library.symbol("cudnnSetConvolutionMathType")
        cudnnSetConvolutionGroupCount = try library.symbol("cudnnSetConvolutionGroupCount")
        cudnnGetConvolution2dForwardOutputDim = try library.symbol("cudnnGetConvolution2dForwardOutputDim")
        cudnnDestroyConvolutionDescriptor = try library.symbol("cudnnDestroyConvolutionDescriptor")

        cudnnCreateActivationDescriptor = try library.symbol("cudnnCreateActivationDescriptor")
        cudnnSetActivationDescriptor = try library.symbol("cudnnSetActivationDescriptor")
        cudnnDestroyActivationDescriptor = try library.symbol("cudnnDestroyActivationDescriptor")
        cudnnCreatePoolingDescriptor = try library.symbol("cudnnCreatePoolingDescriptor")
        cudnnSetPooling2dDescriptor = try library.symbol("cudnnSetPooling2dDescriptor")
        cudnnDestroyPoolingDescriptor = try library.symbol("cudnnDestroyPoolingDescriptor")
        cudnnCreateOpTensorDescriptor = try library.symbol("cudnnCreateOpTensorDescriptor")
        cudnnSetOpTensorDescriptor = try library.symbol("cudnnSetOpTensorDescriptor")
        cudnnDestroyOpTensorDescriptor = try library.symbol("cudnnDestroyOpTensorDescriptor")

        cudnnGetConvolutionForwardAlgorithmMaxCount = try library.symbol("cudnnGetConvolutionForwardAlgorithmMaxCount")
        cudnnFindConvolutionForwardAlgorithmEx = try library.symbol("cudnnFindConvolutionForwardAlgorithmEx")
        cudnnGetConvolutionForwardAlgorithm_v7 = try library.symbol("cudnnGetConvolutionForwardAlgorithm_v7")
        cudnnGetConvolutionForwardWorkspaceSize = try library.symbol("cudnnGetConvolutionForwardWorkspaceSize")

        cudnnConvolutionForward = try library.symbol("cudnnConvolutionForward")
        cudnnConvolutionBiasActivationForward = try library.symbol("cudnnConvolutionBiasActivationForward")
        cudnnPoolingForward = try library.symbol("cudnnPoolingForward")
        cudnnAddTensor = try library.symbol("cudnnAddTensor")
        cudnnActivationForward = try library.symbol("cudnnActivationForward")
        cudnnSoftmaxForward = try library.symbol("cudnnSoftmaxForward")
        cudnnOpTensor = try library.symbol("cudnnOpTensor")
    }

    /// Throws `CUDAError.call` naming `function` and cuDNN's text for `status`, unless it is success.
    public func check(_ status: CUDNNStatus, _ function: String) throws {
        guard status != 0 else { return }
        let message = cudnnGetErrorString(status).map { String(cString: $0) } ?? "unknown cudnnStatus_t \(status)"
        throw CUDAError.call(api: Self.apiName, function: function, code: status, message: message)
    }

    /// "9.28.1" for 92801.
    public var versionText: String { Self.versionText(version) }

    static func versionText(_ version: Int) -> String {
        // cuDNN 8 and older encoded 1000 × major + 100 × minor + patch (8907 is 8.9.7).
        version < 10000
            ? "\(version / 1000).\(version % 1000 / 100).\(version % 100)"
            : "\(version / 10000).\(version % 10000 / 100).\(version % 100)"
    }
}
