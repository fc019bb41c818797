/// A kernel of Sluice's own in an `ExecutionPlan`, between oneDNN's primitives, for what oneDNN does slowly.
/// It reads the step's `DNNLArg.src` and writes its `DNNLArg.dst`, on oneDNN's threads (the shim's
/// `sldnn_parallel`).
protocol OwnKernel: Sendable {
    /// As the dispatch report names it ("sluice:…").
    var implementation: String { get }
    func run(source: UnsafeRawPointer, result: UnsafeMutableRawPointer)
}
