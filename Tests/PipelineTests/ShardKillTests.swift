import Foundation
import ObjectStore
import Parquet
import SluiceTestSupport
import Testing

/// Many workers of one sharded job on one S3 prefix (moto on loopback), SIGKILLed at random and restarted
/// until every shard is done: the output must be exactly what one process writes.
@Suite("Sharded workers under SIGKILL", .serialized)
struct ShardKillTests {
    static let shards = 4
    /// Pinned so that every process computes bit-identical logits: the layout is not measured per process, and
    /// one image per batch (oneDNN's last bits depend on which images share a batch, and batches cross files).
    static let model = ["--model", "resnet18", "--model-replicas", "1", "--model-threads", "1", "--logits", "--batch-size", "1", "--no-progress"]

    static func environment(_ moto: MotoServer, home: String) -> [String: String] {
        ["HOME": home, "PATH": "/usr/bin:/bin", "AWS_ACCESS_KEY_ID": moto.accessKey, "AWS_SECRET_ACCESS_KEY": moto.secretKey,
         "AWS_ENDPOINT_URL": moto.endpoint, "AWS_REGION": "us-east-1", "SLUICE_CACHE_DIR": home + "/cache"]
    }

    static func start(_ arguments: [String], environment: [String: String]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLineTests.sluice)
        process.arguments = arguments
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    static func finish(_ process: Process) -> Int32 {
        process.waitUntilExit()
        return process.terminationStatus
    }

    @Test("4 workers, random SIGKILLs and restarts: the union is one run's output, once, with nothing left behind")
    func killAndRestart() throws {
        do {
            let moto = try MotoServer.open.get()
            let bucket = try moto.makeBucket("shards")
            let home = try TestData.temporaryDirectory("shard-kill")
            let environment = Self.environment(moto, home: home)
            let input = "s3://\(bucket)/in", output = "s3://\(bucket)/out"
            try #require(Self.finish(try Self.start(["gen", "--out", input, "--images", "36", "--rows-per-file", "3"], environment: environment)) == 0)

            let reference = home + "/reference"
            try #require(Self.finish(try Self.start(["run", "--input", input, "--output", reference] + Self.model, environment: environment)) == 0)

            var random = SplitMix64(seed: 2026)
            var workers: [Int: Process] = [:]
            var kills = 0, restarts = 0
            func launch(_ shard: Int) throws {
                workers[shard] = try Self.start(["run", "--input", input, "--output", output, "--shard", "auto"] + Self.model,
                                                environment: environment.merging(["RANK": String(shard), "WORLD_SIZE": String(Self.shards)]) { $1 })
            }
            for shard in 0..<Self.shards { try launch(shard) }
            let deadline = Date().addingTimeInterval(600)
            while !workers.isEmpty, Date() < deadline {
                Thread.sleep(forTimeInterval: 0.2 + Double(random.below(1000)) / 1000)
                for (shard, process) in workers where !process.isRunning {
                    #expect(process.terminationReason == .uncaughtSignal || process.terminationStatus == 0,
                            "shard \(shard) exited \(process.terminationStatus)")
                    if process.terminationReason == .exit && process.terminationStatus == 0 {
                        workers[shard] = nil
                    } else {
                        try launch(shard)
                        restarts += 1
                    }
                }
                if kills < 8, let victim = workers.keys.sorted().dropFirst(random.below(max(workers.count, 1))).first,
                   let process = workers[victim], process.isRunning {
                    kill(process.processIdentifier, SIGKILL)
                    process.waitUntilExit()
                    kills += 1
                }
            }
            try #require(workers.isEmpty, "every shard finished within the deadline (\(kills) kills, \(restarts) restarts)")
            #expect(kills > 0)

            #expect(Self.finish(try Self.start(["status", "--output", output, "--input", input, "--shards", String(Self.shards)],
                                                environment: environment)) == 0, "sluice status says the job is complete")
            let downloaded = home + "/sharded"
            try #require(Self.finish(try Self.start(["cp", "--recursive", output, downloaded], environment: environment)) == 0)
            let sharded = try CommandLineTests.predictionRows(downloaded)
            let expected = try CommandLineTests.predictionRows(reference)
            if sharded != expected {
                try sharded.joined(separator: "\n").write(toFile: home + "/sharded.jsonl", atomically: true, encoding: .utf8)
                try expected.joined(separator: "\n").write(toFile: home + "/expected.jsonl", atomically: true, encoding: .utf8)
                Issue.record("the sharded output differs from one process's: compare \(home)/sharded.jsonl and expected.jsonl")
            }
            #expect(sharded.count == 36)
            let keys = try moto.command(["op": "list", "bucket": bucket, "prefix": "out/"])["keys"] as? [String] ?? []
            #expect(keys.filter { $0.hasSuffix("_SUCCESS") }.count == 1)
            #expect(keys.allSatisfy { !$0.contains("sluice-tmp") }, "no temporaries: \(keys)")
            let uploads = try moto.command(["op": "uploads", "bucket": bucket])["uploads"] as? [String] ?? ["?"]
            #expect(uploads.isEmpty, "no incomplete multipart uploads: \(uploads)")
        }
    }
}
