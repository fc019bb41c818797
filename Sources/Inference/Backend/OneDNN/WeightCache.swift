import CDNNLShim

/// Parameters reordered once into the layouts (and element types) the primitives chose, shared by every
/// batch size's plan of a model.
final class WeightCache {
    private struct Entry {
        let desc: MemoryDesc
        let storage: TensorStorage
    }

    private let engine: DNNLEngine
    private var entries: [String: [Entry]] = [:]
    /// Parameters handed to oneDNN as they are (biases, batch-norm statistics), kept alive here.
    private var retained: [Tensor] = []

    init(engine: DNNLEngine) { self.engine = engine }

    var byteCount: Int { entries.values.joined().reduce(0) { $0 + $1.storage.byteCount } }

    /// `tensor` (plain float32, or int8 when quantized, with `dims`) in `desc`, reordered on first request.
    func memory(key: String, tensor: Tensor, dims: [Int], layout: PlainLayout, desc: MemoryDesc) throws -> DNNLMemory {
        if let hit = entries[key]?.first(where: { $0.desc.equals(desc) }) {
            return try DNNLMemory(desc, engine: engine, pointer: hit.storage.bytes)
        }
        let source = tensor.dtype == .int8 ? tensor : try tensor.asFloat32()
        retained.append(source)
        let sourceDesc = try MemoryDesc(dims: dims, type: source.dtype == .int8 ? .s8 : .f32, layout: layout.shim)
        let sourceMemory = try DNNLMemory(sourceDesc, engine: engine, pointer: source.storage.bytes)
        let storage = try TensorStorage(zeroedByteCount: desc.byteSize)
        let target = try DNNLMemory(desc, engine: engine, pointer: storage.bytes)
        try Reorder.run(from: sourceMemory, to: target, engine: engine)
        entries[key, default: []].append(Entry(desc: desc, storage: storage))
        return target
    }

    /// A float32 tensor handed to oneDNN as it is, seen through `desc` (plain, as many elements).
    func plainTensor(_ tensor: Tensor, desc: MemoryDesc) throws -> DNNLMemory {
        let source = try tensor.asFloat32()
        guard desc.byteSize == source.byteCount else {
            throw InferenceError(.shapeMismatch, "a parameter of shape \(tensor.shape) does not fill its \(desc.byteSize)-byte layout")
        }
        retained.append(source)
        return try DNNLMemory(desc, engine: engine, pointer: source.storage.bytes)
    }

    /// A float32 vector handed to oneDNN as it is.
    func plainVector(_ tensor: Tensor) throws -> DNNLMemory {
        let source = try tensor.asFloat32()
        retained.append(source)
        let desc = try MemoryDesc(dims: [source.elementCount], type: .f32, layout: SLDNN_A)
        return try DNNLMemory(desc, engine: engine, pointer: source.storage.bytes)
    }
}

/// The plain layouts parameters arrive in.
enum PlainLayout {
    case a, ab, abcd, abcde

    var shim: sldnn_layout {
        switch self {
        case .a: SLDNN_A
        case .ab: SLDNN_AB
        case .abcd: SLDNN_ABCD
        case .abcde: SLDNN_ABCDE
        }
    }
}

enum Reorder {
    /// Copies (converting layout and type) once, synchronously; for compile-time work.
    static func run(from source: DNNLMemory, to target: DNNLMemory, engine: DNNLEngine) throws {
        let pd = try PrimitiveDesc("reorder") { sldnn_reorder_pd($0, engine.engine, source.desc.handle, target.desc.handle, nil) }
        let primitive = try Primitive(pd)
        var args = [dnnl_exec_arg_t(arg: DNNLArg.src, memory: source.handle),
                    dnnl_exec_arg_t(arg: DNNLArg.dst, memory: target.handle)]
        try dnnlCheck(dnnl_primitive_execute(primitive.handle, engine.stream, 2, &args), "reordering weights")
        try dnnlCheck(dnnl_stream_wait(engine.stream), "waiting for a weight reorder")
    }
}
