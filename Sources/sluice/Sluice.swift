import ArgumentParser

@main
struct Sluice: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sluice",
        abstract: "Batch image classification over Parquet datasets, without a cluster.",
        discussion: """
        Sluice reads datasets of images (Parquet files of raw tensors in Ray Data's layout, or of JPEG/PNG \
        bytes), classifies every image with a CNN and writes the predictions back as Parquet.
        """,
        subcommands: [Run.self, Bench.self, Inspect.self, Head.self, Gen.self, Ls.self, Cp.self, Preprocess.self, Predict.self]
    )
}
