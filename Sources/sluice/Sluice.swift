import ArgumentParser
import Foundation
import Pipeline

@main
struct Sluice: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sluice",
        abstract: "Batch image classification over Parquet datasets, without a cluster.",
        discussion: """
        Sluice reads datasets of images (Parquet files of raw tensors in Ray Data's layout, or of JPEG/PNG \
        bytes), classifies every image with a CNN and writes the predictions back as Parquet.

        Exit status: 0 when everything asked for was done; 1 when something failed (a file, a record, a \
        request); 2 for a usage or configuration error.
        """,
        subcommands: [Run.self, Serve.self, Plan.self, Status.self, Bench.self, Inspect.self, Head.self, Gen.self, Ls.self, Cp.self, Preprocess.self, Predict.self, Eval.self]
    )

    /// ArgumentParser's own exits, except that usage errors exit 2 (as in most Unix tools), not 64.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let error as PipelineError {
            if case .configuration = error { usageFailure("Error: \(error)") }
            exit(withError: error)
        } catch {
            if exitCode(for: error) == .validationFailure { usageFailure(fullMessage(for: error)) }
            exit(withError: error)
        }
    }

    private static func usageFailure(_ message: String) -> Never {
        FileHandle.standardError.write(Data((message + "\n").utf8))
        Foundation.exit(2)
    }
}
