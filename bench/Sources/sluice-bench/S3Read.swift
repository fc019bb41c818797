// sluice-bench s3-read FILE... [--repeat R] [--threads T] [--no-peer]
//
// Read throughput of the `image` tensor column over S3: starts moto's S3 server on 127.0.0.1
// (Tests/Fixtures/moto_server.py, the test suite's fixture), uploads FILEs with boto3, then times in the
// same run (best of R):
//   - Sluice: ObjectStorage listing, one S3ObjectSource per object (ranged GETs, the image column's
//     chunks of every row group prefetched, as the pipeline will), TensorColumnReader into uint8 buffers,
//     T files at once;
//   - pyarrow: pq.read_table(paths, columns=["image"], filesystem=pyarrow.fs.S3FileSystem(...)) with its
//     defaults (pre_buffer, thread pools), flattened to uint8 (bench/peers/pyarrow_s3_read.py).
import Dispatch
import Foundation
import ObjectStore
import Parquet
import SluiceTestSupport

/// Work distribution and totals of the reader threads.
final class Tally: @unchecked Sendable {
    // @unchecked: every field is used under `lock`.
    private let lock = NSLock()
    private var next = 0
    private(set) var rows = 0
    private(set) var bytes = 0
    private(set) var failure: (any Error)?

    func take() -> Int { lock.withLock { defer { next += 1 }; return next } }
    func add(rows: Int, bytes: Int) { lock.withLock { self.rows += rows; self.bytes += bytes } }
    func fail(_ error: any Error) { lock.withLock { failure = error } }
}

func s3Read(_ arguments: [String]) throws {
    let files = arguments.filter { $0.hasSuffix(".parquet") }
    guard !files.isEmpty else {
        print("usage: sluice-bench s3-read FILE.parquet... [--repeat R] [--threads T] [--no-peer]")
        exit(2)
    }
    func option(_ name: String, _ fallback: Int) -> Int {
        arguments.firstIndex(of: name).flatMap { arguments.indices.contains($0 + 1) ? Int(arguments[$0 + 1]) : nil } ?? fallback
    }
    let repeats = option("--repeat", 3)
    let threads = option("--threads", ProcessInfo.processInfo.activeProcessorCount)
    let moto = try MotoServer(auth: false)
    defer { moto.stop() }
    let (endpoint, accessKey, secretKey) = (moto.endpoint, moto.accessKey, moto.secretKey)
    let bucket = "bench"
    try moto.command(["op": "create_bucket", "bucket": bucket])
    var keys: [String] = []
    var objectBytes: Int64 = 0
    for file in files {
        let key = "images/" + URL(fileURLWithPath: file).lastPathComponent
        let reply = try moto.command(["op": "put", "bucket": bucket, "key": key, "path": file])
        objectBytes += Int64(reply["size"] as? Int ?? 0)
        keys.append(key)
    }
    print("moto S3 server at \(endpoint): \(keys.count) objects, \(formatBytes(objectBytes)) uploaded with boto3")

    let configuration = S3Configuration(endpoint: try S3Endpoint(parsing: endpoint), region: "us-east-1",
                                        authentication: .signed(AWSCredentials(accessKeyID: accessKey, secretAccessKey: secretKey)),
                                        addressing: .path)
    let client = S3Client(configuration: configuration)
    defer { client.shutdown() }
    let storage = ObjectStorage(client: client)

    var sluice = Measurement()
    var images = 0
    var pixelBytes = 0
    for _ in 0..<repeats {
        let objects = try storage.expand(["s3://\(bucket)/images/"])
        let tally = Tally()
        sluice.seconds.append(time {
            DispatchQueue.concurrentPerform(iterations: max(1, min(threads, objects.count))) { _ in
                while true {
                    let index = tally.take()
                    guard index < objects.count else { return }
                    do {
                        let reader = try ParquetFileReader(source: storage.openSource(objects[index]))
                        reader.prefetch(rowGroups: 0..<reader.rowGroupCount, columns: reader.leafColumns(of: ["image"]))
                        let tensors = try TensorColumnReader(file: reader, column: "image")
                        var localRows = 0, localBytes = 0
                        while let batch = try tensors.next(targetRows: 64) {
                            localRows += batch.rowCount
                            localBytes += batch.bytes.count
                        }
                        tally.add(rows: localRows, bytes: localBytes)
                    } catch {
                        tally.fail(error)
                    }
                }
            }
        })
        if let failure = tally.failure { throw failure }
        images = tally.rows
        pixelBytes = tally.bytes
    }
    let stats = client.stats

    var peer: [String: Any]?
    if !arguments.contains("--no-peer") {
        peer = runPeerScript("pyarrow_s3_read.py", ["--endpoint", endpoint, "--access-key", accessKey, "--secret-key", secretKey,
                                                    "--bucket", bucket, "--keys", keys.joined(separator: ","), "--repeat", String(repeats)])
    }

    func row(_ name: String, _ seconds: Double) -> String {
        "\(name.padding(toLength: 40, withPad: " ", startingAt: 0)) \(String(format: "%8.0f", Double(images) / seconds)) images/s  \(String(format: "%7.1f", Double(objectBytes) / seconds / 1e6)) MB/s of objects  \(String(format: "%5.2f", Double(pixelBytes) / seconds / 1e9)) GB/s of pixels"
    }
    print("\(images) images, \(formatBytes(Int64(pixelBytes))) of pixels; best of \(repeats) runs, bytes over HTTP from moto on 127.0.0.1:")
    print(row("sluice ObjectStore, \(threads) threads", sluice.best))
    if let peer, let seconds = peer["seconds_best"] as? Double {
        if let peerImages = peer["images"] as? Int, peerImages != images { print("warning: pyarrow read \(peerImages) images") }
        print(row("pyarrow \(peer["version"] ?? "?") S3FileSystem", seconds))
        print(String(format: "\nsluice / pyarrow: %.2fx (time ratio, same server, same run)", seconds / sluice.best))
    } else if !arguments.contains("--no-peer") {
        print("\npyarrow peer unavailable (pip install pyarrow numpy)")
    }
    print("sluice S3 requests over all runs: \(stats)")
}
