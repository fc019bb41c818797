import ArgumentParser
import Foundation
import Parquet
import Pipeline

/// `sluice plan`: the balanced assignment every worker of a sharded job computes for itself.
struct Plan: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print which inputs each shard of a job processes.",
        discussion: """
        Every worker started with --shard K/N (or --shard auto) lists the input the same way and computes this \
        same plan, so no coordinator is needed. Units are balanced by bytes: largest first, each to the shard \
        with the fewest bytes so far.
        """
    )

    @Option(help: "Input Parquet file, directory or s3:// prefix, or directory of JPEG/PNG files (repeatable).")
    var input: [String]

    @Option(help: "Number of shards.")
    var shards: Int

    @Option(help: "A directory of JPEG/PNG files is read in groups of this many images, one output part each.")
    var imagesPerPart = 1000

    @Flag(help: "Print the plan as JSON.")
    var json = false

    @OptionGroup var storage: StorageOptions

    func validate() throws {
        guard shards > 0 else { throw ValidationError("--shards must be positive") }
    }

    func run() throws {
        let objectStorage = try storage.makeStorage()
        defer { objectStorage.shutdown() }
        let units = try InputDiscovery.units(input, storage: objectStorage, imagesPerUnit: imagesPerPart)
        let plan = ShardPlan(units: units, count: shards)
        if json {
            struct Entry: Encodable {
                var shard: Int
                var bytes: Int64
                var inputs: [String]
                var parts: [String]
            }
            let entries = (0..<shards).map { index in
                let owned = plan.units(of: index)
                return Entry(shard: index, bytes: plan.bytes(of: index), inputs: owned.map(\.displayName), parts: owned.map(\.partName))
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(entries), as: UTF8.self))
            return
        }
        print("\(units.count) inputs, \(formatBytes(units.reduce(0) { $0 + $1.bytes })), \(shards) shards")
        for index in 0..<shards {
            let owned = plan.units(of: index)
            print("shard \(index): \(owned.count) inputs, \(formatBytes(plan.bytes(of: index)))")
            for unit in owned { print("  \(unit.displayName)") }
        }
    }
}
