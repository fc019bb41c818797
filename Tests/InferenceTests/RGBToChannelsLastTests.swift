import CDNNLShim
import SeededRandom
import Testing
@testable import Inference

/// Sluice's input conversion (planar float32 RGB → channels-last float32, bf16 or int8) against oneDNN's own
/// reorder of the same bytes: bit for bit, in the 16-pixel path, the scalar tail, and across two threads.
struct RGBToChannelsLastTests {
    @Test(arguments: [ElementType.f32, .bf16, .s8, .u8], [[2, 3, 5, 7], [3, 3, 16, 21]])
    func matchesOneDNNsReorder(type: ElementType, dims: [Int]) throws {
        let count = dims.reduce(1, *)
        var generator = SplitMix64(seed: UInt64(count))
        // Values from −3 to 3, with exact halves for the int8 scale (ties round to even) and large ones that saturate.
        var values = (0..<count).map { _ in Float(Int(generator.next() % 2401) - 1200) / 400 }
        values[1] = 0.5 / 40
        values[2] = 1.5 / 40
        values[3] = 1000
        values[4] = -1000
        let scale: Float = 40
        let source = try MemoryDesc(dims: dims, type: .f32, layout: SLDNN_ABCD)
        let target = try MemoryDesc(dims: dims, type: type, layout: SLDNN_ACDB)
        let kernel = try #require(try RGBToChannelsLast(dims: dims, from: source, to: target, scale: type.isInteger ? scale : nil))

        let bytes = target.byteSize
        var ours = [UInt8](repeating: 0xAA, count: bytes), theirs = [UInt8](repeating: 0x55, count: bytes)
        _ = sldnn_set_num_threads(2)
        try values.withUnsafeMutableBytes { input in
            kernel.run(source: input.baseAddress!, result: try #require(ours.withUnsafeMutableBytes { $0.baseAddress }))
            let engine = try DNNLEngine()
            let attr = type.isInteger ? try PrimitiveAttr(postOps: [], outputScales: [scale]) : try PrimitiveAttr(postOps: [])
            let pd = try PrimitiveDesc("reorder") { sldnn_reorder_pd($0, engine.engine, source.handle, target.handle, attr.handle) }
            try theirs.withUnsafeMutableBytes { output in
                let from = try DNNLMemory(source, engine: engine, pointer: input.baseAddress!)
                let to = try DNNLMemory(target, engine: engine, pointer: output.baseAddress!)
                let reorder = try Primitive(pd)
                let args = [dnnl_exec_arg_t(arg: DNNLArg.src, memory: from.handle), dnnl_exec_arg_t(arg: DNNLArg.dst, memory: to.handle)]
                try withExtendedLifetime((reorder, from, to)) {
                    try dnnlCheck(dnnl_primitive_execute(reorder.handle, engine.stream, 2, args), "reorder")
                    try dnnlCheck(dnnl_stream_wait(engine.stream), "wait")
                }
            }
        }
        let differing = (0..<bytes).filter { ours[$0] != theirs[$0] }
        #expect(differing.isEmpty, "\(differing.count) of \(bytes) bytes differ, first at \(differing.first ?? -1)")
    }

    /// Other conversions stay oneDNN's: not three channels, not from plain float32, not to channels-last.
    @Test func declinesOtherConversions() throws {
        let rgb = [1, 3, 4, 4], gray = [1, 1, 4, 4]
        func desc(_ dims: [Int], _ type: ElementType, _ layout: sldnn_layout) throws -> MemoryDesc {
            try MemoryDesc(dims: dims, type: type, layout: layout)
        }
        #expect(try RGBToChannelsLast(dims: gray, from: desc(gray, .f32, SLDNN_ABCD), to: desc(gray, .bf16, SLDNN_ACDB), scale: nil) == nil)
        #expect(try RGBToChannelsLast(dims: rgb, from: desc(rgb, .f32, SLDNN_ACDB), to: desc(rgb, .bf16, SLDNN_ACDB), scale: nil) == nil)
        #expect(try RGBToChannelsLast(dims: rgb, from: desc(rgb, .f32, SLDNN_ABCD), to: desc(rgb, .bf16, SLDNN_ABCD), scale: nil) == nil)
        #expect(try RGBToChannelsLast(dims: rgb, from: desc(rgb, .f32, SLDNN_ABCD), to: desc(rgb, .s8, SLDNN_ACDB), scale: nil) == nil)
    }
}
