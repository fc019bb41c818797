import Foundation
import ObjectStore
@testable import Pipeline
import SluiceTestSupport
import Testing

@Suite("Sharding: balanced plans, shards from the engine's environment, --files-from, status", .serialized)
struct ShardingTests {
    static func unit(_ name: String, bytes: Int64) -> InputUnit {
        InputUnit(kind: .parquet(path: "/in/\(name).parquet"), partName: name, displayName: "/in/\(name).parquet", bytes: bytes)
    }

    @Test("every unit goes to exactly one shard; a large file does not make a straggler; the plan is deterministic")
    func balancedPlan() {
        let units = [Self.unit("a", bytes: 900)] + (0..<9).map { Self.unit("s\($0)", bytes: 100) }
        let plan = ShardPlan(units: units, count: 2)
        #expect(plan.units(of: 0).map(\.partName) == ["a"], "the large file alone: 900 bytes vs 9 × 100")
        #expect(plan.bytes(of: 0) == 900 && plan.bytes(of: 1) == 900)
        // Every-N-th-file (the old rule) would give shard 0 the large file and 4 small ones: 1,300 vs 500.

        var random = SplitMix64(seed: 11)
        let many = (0..<200).map { Self.unit(String(format: "u%03d", $0), bytes: Int64(random.next() % 10_000)) }
        for count in [1, 3, 7, 64] {
            let plan = ShardPlan(units: many, count: count)
            let assigned = (0..<count).flatMap { plan.units(of: $0).map(\.partName) }
            #expect(assigned.sorted() == many.map(\.partName), "\(count) shards: each unit exactly once")
            let loads = (0..<count).map { plan.bytes(of: $0) }
            let total = many.reduce(0) { $0 + $1.bytes }, largest = many.map(\.bytes).max() ?? 0
            // Greedy largest-first: no shard exceeds the average by more than the largest unit.
            #expect(loads.max()! <= total / Int64(count) + largest, "\(count) shards: \(loads)")
            // Shuffled input order, same plan (every worker lists the same set, possibly in another order).
            let again = ShardPlan(units: many.reversed(), count: count)
            #expect((0..<count).allSatisfy { Set(again.units(of: $0).map(\.partName)) == Set(plan.units(of: $0).map(\.partName)) })
        }
    }

    @Test("--shard auto reads Kubernetes, Slurm, AWS Batch and torchrun variables; gaps are clear errors")
    func shardFromEnvironment() throws {
        func resolve(_ environment: [String: String], shards: Int? = nil) throws -> ShardAssignment.Shard {
            try ShardAssignment.resolve("auto", shards: shards, environment: environment)
        }
        #expect(try resolve(["JOB_COMPLETION_INDEX": "3"], shards: 8) == .init(index: 3, count: 8, source: "Kubernetes Indexed Job"))
        #expect(try resolve(["SLURM_ARRAY_TASK_ID": "5", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_COUNT": "8"]).index == 4)
        #expect(try resolve(["AWS_BATCH_JOB_ARRAY_INDEX": "0"], shards: 2).count == 2)
        #expect(try resolve(["RANK": "1", "WORLD_SIZE": "4"]) == .init(index: 1, count: 4, source: "RANK/WORLD_SIZE"))
        #expect(try ShardAssignment.resolve("2/5", shards: nil, environment: [:]) == .init(index: 2, count: 5, source: "--shard"))

        func message(_ body: () throws -> Any) -> String {
            do { _ = try body(); return "" } catch { return "\(error)" }
        }
        #expect(message { try resolve([:]) }.contains("JOB_COMPLETION_INDEX"), "no variable: the error lists what is read")
        #expect(message { try resolve(["JOB_COMPLETION_INDEX": "3"]) }.contains("add --shards N"))
        #expect(message { try resolve(["JOB_COMPLETION_INDEX": "8"], shards: 8) }.contains("0 ≤ index < count"))
        #expect(message { try resolve(["RANK": "x1", "WORLD_SIZE": "4"]) }.contains("not an integer"))
        #expect(message { try resolve(["SLURM_ARRAY_TASK_ID": "0", "SLURM_ARRAY_TASK_COUNT": "4"], shards: 3) }.contains("--shards says 3"))
    }

    @Test("shards and --files-from workers together write exactly what one run writes; status follows them")
    func workersUnion() throws {
        let directory = try PipelineTests.dataset(files: 5, rows: 7)
        let input = (directory as NSString).appendingPathComponent("input")
        _ = try PipelineTests.run(directory, strategy: .streaming, output: "single")
        let single = try PipelineTests.predictions((directory as NSString).appendingPathComponent("single"))

        let storage = ObjectStorage()
        let units = try InputDiscovery.units([input], storage: storage)
        let sharded = (directory as NSString).appendingPathComponent("sharded")
        for index in 0..<3 {
            let report = try PipelineTests.run(directory, strategy: .fused, output: "sharded") { $0.shard = (index, 3) }
            let status = try JobStatus.read(output: sharded, units: units, shards: 3, storage: storage)
            #expect(status.complete == (index == 2) && report.jobComplete == (index == 2))
            #expect(status.shards[index].missingParts.isEmpty && status.rowsWritten == Int64(status.committedParts * 7))
        }
        #expect(try PipelineTests.predictions(sharded) == single)
        // A worker killed between the summary and the marker: the next run (nothing left to do) completes it.
        let marker = (sharded as NSString).appendingPathComponent("_SUCCESS")
        try FileManager.default.removeItem(atPath: marker)
        let finisher = try PipelineTests.run(directory, strategy: .streaming, output: "sharded") { $0.shard = (1, 3) }
        #expect(finisher.units == 0 && finisher.jobComplete && FileManager.default.fileExists(atPath: marker))

        // Dynamic scheduling (Ray): each task gets a list; a part name or a path both select a unit.
        let listed = (directory as NSString).appendingPathComponent("listed")
        let paths = units.map { unit -> String in if case let .parquet(path) = unit.kind { return path }; return "" }
        for list in [[paths[3], units[0].partName], [paths[1]], [paths[2], paths[4], paths[4]]] {
            _ = try PipelineTests.run(directory, strategy: .streaming, output: "listed") { $0.filesFrom = list }
        }
        #expect(try PipelineTests.predictions(listed) == single)
        #expect(FileManager.default.fileExists(atPath: (listed as NSString).appendingPathComponent("_SUCCESS")))

        let error = #expect(throws: PipelineError.self) {
            try PipelineTests.run(directory, strategy: .streaming, output: "other") { $0.filesFrom = ["/elsewhere/x.parquet"] }
        }
        #expect("\(String(describing: error))".contains("is not one of the job's inputs"))
    }
}

