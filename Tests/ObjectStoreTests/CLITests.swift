import SluiceTestSupport
import Foundation
import Testing

/// The `sluice` executable against moto, configured the way users configure it: environment variables.
@Suite(.serialized)
struct CLITests {
    /// `sluice`, built beside this test binary by `swift build --build-tests`.
    static var executable: String {
        let testBinary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var directory = testBinary.deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("sluice").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return TestPaths.repository.appendingPathComponent(".build/debug/sluice").path
    }

    struct Run {
        var status: Int32
        var output: String
        var errors: String
    }

    static func sluice(_ arguments: [String], environment: [String: String]) throws -> Run {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, output: String(decoding: output, as: UTF8.self),
                   errors: String(decoding: errors, as: UTF8.self))
    }

    @Test func copyListInspectAndHeadThroughS3() async throws {
        try await onWorkerThread {
            #expect(FileManager.default.isExecutableFile(atPath: Self.executable), "build sluice first: swift build --build-tests")
            let moto = try MotoServer.open.get()
            let bucket = try moto.makeBucket("cli")
            let directory = try TestPaths.temporaryDirectory("cli")
            let local = directory + "/table.parquet"
            try moto.command(["op": "make_parquet", "path": local, "rows": 300, "row_group_size": 100, "image_side": 8])
            let environment = ["HOME": directory, "PATH": "/usr/bin:/bin", "AWS_ACCESS_KEY_ID": moto.accessKey,
                               "AWS_SECRET_ACCESS_KEY": moto.secretKey, "AWS_ENDPOINT_URL": moto.endpoint, "AWS_REGION": "us-east-1"]

            let upload = try Self.sluice(["cp", local, "s3://\(bucket)/in/"], environment: environment)
            #expect(upload.status == 0, "\(upload.errors)")
            let size = try FileManager.default.attributesOfItem(atPath: local)[.size] as? NSNumber
            let listing = try Self.sluice(["ls", "s3://\(bucket)/in/"], environment: environment)
            #expect(listing.status == 0, "\(listing.errors)")
            #expect(listing.output.contains("\(size?.intValue ?? -1)  s3://\(bucket)/in/table.parquet"))

            let remoteHead = try Self.sluice(["head", "s3://\(bucket)/in/", "-n", "5"], environment: environment)
            let localHead = try Self.sluice(["head", local, "-n", "5"], environment: [:])
            #expect(remoteHead.status == 0, "\(remoteHead.errors)")
            #expect(remoteHead.output == localHead.output)
            #expect(remoteHead.output.split(separator: "\n").count == 5)

            let inspect = try Self.sluice(["inspect", "s3://\(bucket)/in/table.parquet"], environment: environment)
            #expect(inspect.status == 0, "\(inspect.errors)")
            #expect(inspect.output.contains("row group 2: 100 rows"))

            let download = try Self.sluice(["cp", "s3://\(bucket)/in/table.parquet", directory + "/back/", "--quiet"], environment: environment)
            #expect(download.status == 0, "\(download.errors)")
            #expect(FileManager.default.contentsEqual(atPath: local, andPath: directory + "/back/table.parquet"))

            let missing = try Self.sluice(["head", "s3://\(bucket)/nothing/"], environment: environment)
            #expect(missing.status != 0)
            #expect(missing.errors.contains("no .parquet files"))
        }
    }

    @Test func runReadsFromS3AndWritesBackTheSamePredictionsAsLocally() async throws {
        try await onWorkerThread {
            let moto = try MotoServer.open.get()
            let bucket = try moto.makeBucket("run")
            let directory = try TestPaths.temporaryDirectory("run")
            let environment = ["HOME": directory, "PATH": "/usr/bin:/bin", "AWS_ACCESS_KEY_ID": moto.accessKey,
                               "AWS_SECRET_ACCESS_KEY": moto.secretKey, "AWS_ENDPOINT_URL": moto.endpoint, "AWS_REGION": "us-east-1"]
            let generated = try Self.sluice(["gen", "--out", directory + "/in", "--images", "10", "--rows-per-file", "5"], environment: [:])
            #expect(generated.status == 0, "\(generated.errors)")
            let upload = try Self.sluice(["cp", directory + "/in/", "s3://\(bucket)/in/", "-r", "-q"], environment: environment)
            #expect(upload.status == 0, "\(upload.errors)")

            // One model layout for both runs: logits differ in the last bits between thread counts.
            let common = ["--model", "resnet18", "--batch-size", "4", "--model-replicas", "1", "--no-progress"]
            let remote = try Self.sluice(["run", "--input", "s3://\(bucket)/in/", "--output", "s3://\(bucket)/out/"] + common, environment: environment)
            #expect(remote.status == 0, "\(remote.errors)")
            let local = try Self.sluice(["run", "--input", directory + "/in", "--output", directory + "/out"] + common, environment: [:])
            #expect(local.status == 0, "\(local.errors)")

            let listing = try Self.sluice(["ls", "s3://\(bucket)/out/"], environment: environment)
            #expect(listing.output.contains("part-00000.parquet") && listing.output.contains("part-00001.parquet") && listing.output.contains("_SUCCESS"))
            let remoteRows = try Self.sluice(["head", "s3://\(bucket)/out/", "-n", "20"], environment: environment)
            let localRows = try Self.sluice(["head", directory + "/out", "-n", "20"], environment: [:])
            #expect(remoteRows.status == 0, "\(remoteRows.errors)")
            // Ids name the input file; the predictions themselves are identical.
            #expect(remoteRows.output.split(separator: "\n").count == 10)
            #expect(remoteRows.output == localRows.output)

            // Rerunning skips every committed part.
            let again = try Self.sluice(["run", "--input", "s3://\(bucket)/in/", "--output", "s3://\(bucket)/out/"] + common, environment: environment)
            #expect(again.status == 0)
            #expect(again.errors.contains("2 already committed (skipped)"))
        }
    }

    @Test func wrongSecretFailsClearlyWithoutPrintingIt() async throws {
        try await onWorkerThread {
            let moto = try MotoServer.authenticated.get()
            let bucket = try moto.makeBucket("clisecret")
            try moto.command(["op": "put", "bucket": bucket, "key": "k.parquet", "text": "not parquet"])
            let directory = try TestPaths.temporaryDirectory("clisecret")
            try FileManager.default.createDirectory(atPath: directory + "/.aws", withIntermediateDirectories: true)
            let wrong = "Wrong-Secret-\(UUID().uuidString)"
            try "[bench]\naws_access_key_id = \(moto.accessKey)\naws_secret_access_key = \(wrong)\n"
                .write(toFile: directory + "/.aws/credentials", atomically: true, encoding: .utf8)
            let run = try Self.sluice(["inspect", "s3://\(bucket)/k.parquet", "--profile", "bench", "--endpoint-url", moto.endpoint],
                                      environment: ["HOME": directory])
            #expect(run.status != 0)
            #expect(run.errors.contains("SignatureDoesNotMatch"), "\(run.errors)")
            #expect(run.errors.contains("s3://\(bucket)/k.parquet"))
            #expect(!run.errors.contains(wrong))
            #expect(!run.output.contains(wrong))
        }
    }
}
