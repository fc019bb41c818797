import CDNNLShim

/// Thin owners of oneDNN handles; each frees its handle once.

enum DNNLArg {
    static let src: Int32 = 1
    static let src1: Int32 = 2
    static let dst: Int32 = 17
    static let weights: Int32 = 33
    static let bias: Int32 = 41
    static let mean: Int32 = 49
    static let variance: Int32 = 50
    static let scale: Int32 = 51
    static let shift: Int32 = 52
    static let scratchpad: Int32 = 80
    /// The first of a concatenation's sources; the i-th is this + i.
    static let multipleSource: Int32 = 1024
}

@inline(__always)
func dnnlCheck(_ status: dnnl_status_t, _ what: @autoclosure () -> String) throws {
    guard status == dnnl_success else {
        throw InferenceError(.backend, "oneDNN: \(what()) failed (status \(status.rawValue)\(status == dnnl_unimplemented ? ": no implementation for these shapes, types and layouts" : ""))")
    }
}

final class DNNLEngine: @unchecked Sendable {
    let engine: dnnl_engine_t
    let stream: dnnl_stream_t

    init() throws {
        var engine: dnnl_engine_t?
        try dnnlCheck(dnnl_engine_create(&engine, dnnl_cpu, 0), "creating the CPU engine")
        guard let engine else { throw InferenceError(.backend, "oneDNN returned no engine") }
        var stream: dnnl_stream_t?
        let status = dnnl_stream_create(&stream, engine, dnnl_stream_default_flags.rawValue)
        guard status == dnnl_success, let stream else {
            dnnl_engine_destroy(engine)
            throw InferenceError(.backend, "oneDNN: creating a stream failed (status \(status.rawValue))")
        }
        self.engine = engine
        self.stream = stream
    }

    deinit {
        dnnl_stream_destroy(stream)
        dnnl_engine_destroy(engine)
    }
}

enum ElementType {
    case f32, bf16, s8, u8

    var shim: sldnn_dtype {
        switch self {
        case .f32: SLDNN_F32
        case .bf16: SLDNN_BF16
        case .s8: SLDNN_S8
        case .u8: SLDNN_U8
        }
    }

    var isInteger: Bool { self == .s8 || self == .u8 }
}

final class MemoryDesc {
    let handle: sldnn_md

    init(dims: [Int], type: ElementType, layout: sldnn_layout) throws {
        var md: sldnn_md?
        let dims64 = dims.map { Int64($0) }
        try dnnlCheck(sldnn_md_create(&md, Int32(dims.count), dims64, type.shim, layout), "memory descriptor \(dims)")
        guard let md else { throw InferenceError(.backend, "oneDNN returned no memory descriptor") }
        handle = md
    }

    init(query pd: PrimitiveDesc, _ what: dnnl_query_t, index: Int32 = 0) throws {
        var md: sldnn_md?
        try dnnlCheck(sldnn_pd_query_md(&md, pd.handle, what, index), "querying a memory descriptor")
        guard let md else { throw InferenceError(.backend, "oneDNN returned no memory descriptor") }
        handle = md
    }

    private init(handle: sldnn_md) { self.handle = handle }

    /// This layout with another element type of the same size.
    func retyped(_ type: ElementType) throws -> MemoryDesc {
        var md: sldnn_md?
        try dnnlCheck(sldnn_md_retype(&md, handle, type.shim), "retyping a memory descriptor")
        guard let md else { throw InferenceError(.backend, "oneDNN returned no memory descriptor") }
        return MemoryDesc(handle: md)
    }

    var byteSize: Int { sldnn_md_size(handle) }

    /// nil for a type Sluice does not compute in.
    var elementType: ElementType? {
        switch sldnn_md_dtype(handle) {
        case Int32(SLDNN_F32.rawValue): .f32
        case Int32(SLDNN_BF16.rawValue): .bf16
        case Int32(SLDNN_S8.rawValue): .s8
        case Int32(SLDNN_U8.rawValue): .u8
        default: nil
        }
    }

    /// This layout in `type` (itself when it already is).
    func converted(to type: ElementType) throws -> MemoryDesc {
        elementType == type ? self : try retyped(type)
    }

    func equals(_ other: MemoryDesc) -> Bool { sldnn_md_equal(handle, other.handle) != 0 }

    deinit { sldnn_md_destroy(handle) }
}

final class PrimitiveAttr {
    let handle: dnnl_primitive_attr_t

    init(postOps: [sldnn_post_op]) throws {
        var attr: dnnl_primitive_attr_t?
        try dnnlCheck(sldnn_attr_create(&attr, Int32(postOps.count), postOps), "creating attributes")
        guard let attr else { throw InferenceError(.backend, "oneDNN returned no attributes") }
        handle = attr
    }

    /// With int8 output scales: one for the whole tensor, or one per output channel.
    init(postOps: [sldnn_post_op], outputScales: [Float]) throws {
        var attr: dnnl_primitive_attr_t?
        let mask: Int32 = outputScales.count == 1 ? 0 : 1 << 1
        let status = sldnn_attr_create_scaled(&attr, Int32(postOps.count), postOps, Int32(outputScales.count), mask, outputScales)
        if status == dnnl_unimplemented {
            throw InferenceError(.unsupported, "int8 needs oneDNN 2.x's output scales; this oneDNN (\(OneDNNInfo.version)) moved them to run-time arguments, which Sluice does not use yet")
        }
        try dnnlCheck(status, "creating int8 attributes")
        guard let attr else { throw InferenceError(.backend, "oneDNN returned no attributes") }
        handle = attr
    }

    deinit { dnnl_primitive_attr_destroy(handle) }
}

final class PrimitiveDesc {
    let handle: dnnl_primitive_desc_t

    /// `create` fills in the descriptor through one of the shim's `sldnn_*_pd` calls.
    init(_ what: @autoclosure () -> String, _ create: (UnsafeMutablePointer<dnnl_primitive_desc_t?>) -> dnnl_status_t) throws {
        var pd: dnnl_primitive_desc_t?
        try dnnlCheck(create(&pd), what())
        guard let pd else { throw InferenceError(.backend, "oneDNN returned no primitive descriptor for \(what())") }
        handle = pd
    }

    var implementation: String { String(cString: sldnn_pd_impl_name(handle)) }

    func md(_ what: dnnl_query_t) throws -> MemoryDesc { try MemoryDesc(query: self, what) }

    deinit { dnnl_primitive_desc_destroy(handle) }
}

final class Primitive {
    let handle: dnnl_primitive_t

    init(_ pd: PrimitiveDesc) throws {
        var primitive: dnnl_primitive_t?
        try dnnlCheck(dnnl_primitive_create(&primitive, pd.handle), "creating a primitive (\(pd.implementation))")
        guard let primitive else { throw InferenceError(.backend, "oneDNN returned no primitive") }
        handle = primitive
    }

    deinit { dnnl_primitive_destroy(handle) }
}

/// A oneDNN memory object over bytes someone else owns (the arena, a weight buffer, the caller's input).
final class DNNLMemory {
    let handle: dnnl_memory_t
    let desc: MemoryDesc

    init(_ desc: MemoryDesc, engine: DNNLEngine, pointer: UnsafeMutableRawPointer?) throws {
        var memory: dnnl_memory_t?
        try dnnlCheck(sldnn_memory_create(&memory, desc.handle, engine.engine, pointer), "creating a memory object")
        guard let memory else { throw InferenceError(.backend, "oneDNN returned no memory object") }
        handle = memory
        self.desc = desc
    }

    func setPointer(_ pointer: UnsafeMutableRawPointer) throws {
        try dnnlCheck(dnnl_memory_set_data_handle(handle, pointer), "setting a memory handle")
    }

    deinit { dnnl_memory_destroy(handle) }
}

/// Facts about the oneDNN library in use.
public enum OneDNNInfo {
    public static var version: String { String(cString: sldnn_version_string()) }
    /// The best instruction set oneDNN dispatches to on this CPU, e.g. "avx512_core_bf16".
    public static var effectiveISA: String { String(cString: sldnn_effective_isa()) }
}
