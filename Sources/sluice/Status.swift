import ArgumentParser
import Foundation
import Pipeline

/// `sluice status`: how far a (sharded) job is, from its output.
struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Report a job's committed, missing and failed parts; exit 0 only when it is complete.",
        discussion: """
        Reads the output directory or prefix: committed parts, rows written and error rows (_errors/). With \
        --input, compares against the parts the job expects and, with --shards, says which shard owes each \
        missing part. --finalize writes _SUCCESS when the job is complete and the marker is missing (a worker \
        that completes the last part writes it itself).
        """
    )

    @Option(help: "The job's output directory or s3:// prefix.")
    var output: String

    @Option(help: "The job's inputs (repeatable): to know which parts are expected.")
    var input: [String] = []

    @Option(help: "The job's number of shards, to attribute missing parts to shards.")
    var shards = 1

    @Option(help: "As the job's --images-per-part.")
    var imagesPerPart = 1000

    @Flag(help: "Write _SUCCESS if the job is complete and it is missing.")
    var finalize = false

    @Flag(help: "Print the status as JSON.")
    var json = false

    @OptionGroup var storage: StorageOptions

    func validate() throws {
        guard shards > 0 else { throw ValidationError("--shards must be positive") }
        if finalize, input.isEmpty { throw ValidationError("--finalize needs --input: only the input says what complete is") }
    }

    func run() throws {
        let objectStorage = try storage.makeStorage()
        defer { objectStorage.shutdown() }
        let units = input.isEmpty ? nil : try InputDiscovery.units(input, storage: objectStorage, imagesPerUnit: imagesPerPart)
        var status = try JobStatus.read(output: output, units: units, shards: shards, storage: objectStorage)
        if finalize, status.complete, !status.successMarker {
            try JobStatus.writeSuccessMarker(output: output, status: status, storage: objectStorage)
            status.successMarker = true
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(status), as: UTF8.self))
        } else {
            print(status.render())
        }
        if !status.complete { throw ExitCode(1) }
    }
}
