import Testing
@testable import Inference

/// Launch geometry the plan must refuse up front rather than leave to cuLaunchKernel on the GPU.
@Suite struct CUDALaunchLimitTests {
    /// The NHWC → NCHW transpose of the output takes one grid-y block per 32 rows (H·W); CUDA caps grid y at
    /// 65535, so H·W above 65535 × 32 is refused while planning, naming the node.
    @Test func transposeGridYLimit() throws {
        var g = Graph(inputShape: [1, 2048, 1025])  // 2 099 200 pixels: 65 600 blocks of 32 rows
        g.add(.activation(.relu), [g.input], name: "relu")
        let error = try #require(throws: CUDAPlanError.self) {
            try CUDAPlan.build(graph: g, batchSize: 1, precision: .fp16, inputEncoding: .uint8NHWC(CUDAPlanTests.imagenetGray))
        }
        #expect(String(describing: error).contains("a transpose of 2099200 rows; its grid takes at most 65535 × 32"))

        // One row of blocks fewer fits.
        var fits = Graph(inputShape: [1, 2048, 1023])
        fits.add(.activation(.relu), [fits.input], name: "relu")
        let plan = try CUDAPlan.build(graph: fits, batchSize: 1, precision: .fp16, inputEncoding: .uint8NHWC(CUDAPlanTests.imagenetGray))
        #expect(plan.kernelNames.contains("sluice_transpose_f32"))
    }
}

extension CUDAPlanTests {
    static let imagenetGray = InputNormalization(mean: [0.5], std: [0.25], divisor: 255)
}
