/// What a parameter is, so that a weight source can check it or (seeded weights) generate it.
public enum ParameterRole: Sendable, Equatable {
    case convolutionWeight
    case linearWeight
    case linearBias(fanIn: Int)
    /// `endsResidualBranch`: the last batch-norm of a residual block's branch.
    case batchNormWeight(endsResidualBranch: Bool)
    case batchNormBias
    case batchNormMean
    case batchNormVariance
}

/// Where a model builder gets its parameters: a weights file, or a seeded generator.
public protocol WeightSource {
    /// The float32 tensor called `name` (torchvision's state_dict key), which must have `shape`.
    func tensor(named name: String, shape: [Int], role: ParameterRole) throws -> Tensor
}
