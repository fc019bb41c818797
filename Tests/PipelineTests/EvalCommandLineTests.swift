import Foundation
import SluiceTestSupport
import Testing

/// `sluice eval` as a user runs it, its numbers checked against numpy on the same run outputs.
@Suite("sluice eval, as a process", .serialized)
struct EvalCommandLineTests {
    static let helper = TestData.fixtures.appendingPathComponent("eval/score_with_numpy.py").path
    static let makeDataset = TestData.repository.appendingPathComponent("scripts/make-eval-dataset").path
    static let photosLabels = TestData.fixtures.appendingPathComponent("eval/photos.csv").path
    static let lite0 = TestData.fixtures.appendingPathComponent("generated/efficientnet-lite0/efficientnet_lite0.onnx").path
    /// One model copy, direct convolutions: fast to start and the same logits in every process.
    static let pinned = ["--model-replicas", "1", "--convolution", "direct", "--batch-size", "8", "--no-progress"]

    /// Runs a command; its exit status, standard output and standard error.
    static func capture(_ executable: String, _ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Standard error is read on another thread so that neither pipe can fill up and block the child.
        let errData = DataBox()
        let done = DispatchSemaphore(value: 0)
        let handle = err.fileHandleForReading
        DispatchQueue.global().async {
            errData.data = handle.readDataToEndOfFile()
            done.signal()
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        done.wait()
        return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData.data, as: UTF8.self))
    }

    static func sluice(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        try capture(CommandLineTests.sluice, arguments)
    }

    static func python(_ arguments: [String]) throws -> String {
        let result = try capture("/usr/bin/env", ["python3"] + arguments)
        try #require(result.status == 0, "python3 \(arguments.joined(separator: " ")): \(result.err)")
        return result.out
    }

    static func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "not a JSON object: \(text)")
    }

    static func close(_ a: Double?, _ b: Double?, relative: Double = 1e-5) -> Bool {
        guard let a, let b else { return false }
        return abs(a - b) <= relative * max(abs(a), abs(b), 1e-12)
    }

    /// A 21-image augmented dataset of the labelled photos (3 files), an fp32 run, labels derived from its logits.
    static func prepare(_ root: String) throws -> (data: String, fp32: String, labels: String) {
        let data = root + "/data", fp32 = root + "/fp32", labels = root + "/labels.csv"
        _ = try python([makeDataset, data, "--images", "21", "--per-file", "7", "--size", "160"])
        let run = try sluice(["run", "--input", data, "--output", fp32, "--model", "resnet18", "--logits", "--id-column", "id"] + pinned)
        try #require(run.status == 0, "\(run.err)")
        _ = try python([helper, "make-labels", "--predictions", fp32, "--out", labels])
        return (data, fp32, labels)
    }

    @Test("int8 with --calibration auto against fp32: accuracy, agreement and |Δlogit| equal numpy's on the calibration-disjoint images")
    func matchesNumpy() throws {
        let root = try TestData.temporaryDirectory("eval-cli")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let (data, fp32, labels) = try Self.prepare(root)
        let int8 = root + "/int8"
        let evaluated = try Self.sluice(["eval", "--input", data, "--output", int8, "--labels", labels, "--reference", fp32,
                                         "--model", "resnet18", "--precision", "int8", "--calibration", "auto:5", "--id-column", "id",
                                         "--json"] + Self.pinned)
        try #require(evaluated.status == 0, "\(evaluated.err)")
        let ours = try Self.json(evaluated.out)
        let numpy = try Self.json(try Self.python([Self.helper, "score", "--predictions", int8, "--labels", labels, "--reference", fp32,
                                                   "--exclude-first", "5", "--dataset", data]))
        #expect(ours["calibration_excluded"] as? Int == 5)
        #expect((numpy["excluded"] as? [String])?.count == 5)
        let accuracy = try #require(ours["accuracy"] as? [String: Any])
        #expect(accuracy["scored"] as? Int == 16)
        #expect(accuracy["scored"] as? Int == numpy["scored"] as? Int)
        #expect(accuracy["top1_correct"] as? Int == numpy["top1_correct"] as? Int)
        #expect(accuracy["top5_correct"] as? Int == numpy["top5_correct"] as? Int)
        let perClass = try #require(accuracy["per_class"] as? [[String: Any]])
        let numpyClasses = try #require(numpy["per_class"] as? [String: [Int]])
        #expect(perClass.count == numpyClasses.count)
        for entry in perClass {
            let index = try #require(entry["index"] as? Int)
            #expect(numpyClasses[String(index)] == [entry["total"] as? Int ?? -1, entry["top1_correct"] as? Int ?? -1, entry["top5_correct"] as? Int ?? -1])
        }
        let agreement = try #require(ours["agreement"] as? [String: Any])
        #expect(agreement["compared"] as? Int == numpy["compared"] as? Int)
        #expect(agreement["compared"] as? Int == 16)
        #expect(agreement["top1_agreeing"] as? Int == numpy["top1_agreeing"] as? Int)
        #expect(agreement["top5_agreeing"] as? Int == numpy["top5_agreeing"] as? Int)
        #expect(Self.close(agreement["max_abs_logit_delta"] as? Double, numpy["max_abs_logit_delta"] as? Double))
        #expect(Self.close(agreement["mean_abs_logit_delta"] as? Double, numpy["mean_abs_logit_delta"] as? Double))
        #expect(((agreement["max_abs_logit_delta"] as? Double) ?? 0) > 0)  // int8 is not fp32: the comparison compared something

        // The same run scored afterwards from its output: the calibration images are found again from the input.
        let rescored = try Self.sluice(["eval", "--predictions", int8, "--labels", labels, "--reference", fp32, "--input", data,
                                        "--calibration", "auto:5", "--id-column", "id", "--json", "--no-progress"])
        try #require(rescored.status == 0, "\(rescored.err)")
        let again = try Self.json(rescored.out)
        #expect(again["calibration_excluded"] as? Int == 5)
        #expect((again["accuracy"] as? [String: Any])?["top1_correct"] as? Int == numpy["top1_correct"] as? Int)
        #expect((again["agreement"] as? [String: Any])?["top1_agreeing"] as? Int == numpy["top1_agreeing"] as? Int)

        // The human report says what was left out.
        let human = try Self.sluice(["eval", "--predictions", int8, "--labels", labels, "--input", data, "--calibration", "auto:5",
                                     "--id-column", "id", "--no-progress"])
        #expect(human.status == 0)
        #expect(human.out.contains("scored 16 images; 5 calibration images excluded"))
    }

    @Test("a labelled image without a prediction fails the evaluation, loudly, unless --allow-missing")
    func missingPredictions() throws {
        let root = try TestData.temporaryDirectory("eval-cli")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let (data, fp32, labels) = try Self.prepare(root)
        // Running into a directory that holds predictions would score them (runs resume): refused.
        let reused = try Self.sluice(["eval", "--input", data, "--output", fp32, "--labels", labels, "--model", "resnet18"])
        #expect(reused.status == 2)
        #expect(reused.err.contains("already holds predictions"))
        let extra = root + "/extra.csv"
        try (try String(contentsOfFile: labels, encoding: .utf8) + "never-predicted,281\n").write(toFile: extra, atomically: true, encoding: .utf8)
        let failed = try Self.sluice(["eval", "--predictions", fp32, "--labels", extra])
        #expect(failed.status == 1)
        #expect(failed.out.contains("ERROR: 1 labelled images have no prediction (absent, or an error row): never-predicted"))
        #expect(failed.out.contains("scored 21 images"))
        let allowed = try Self.sluice(["eval", "--predictions", fp32, "--labels", extra, "--allow-missing", "--json"])
        #expect(allowed.status == 0)
        #expect(try Self.json(allowed.out)["missing_predictions"] as? [String] == ["never-predicted"])
        let complete = try Self.sluice(["eval", "--predictions", fp32, "--labels", labels])
        #expect(complete.status == 0)
        // A labels file that names an unknown class is a usage error (2), naming the file and line.
        let bad = root + "/bad.csv"
        try "id,label\nx,not a class\n".write(toFile: bad, atomically: true, encoding: .utf8)
        let refused = try Self.sluice(["eval", "--predictions", fp32, "--labels", bad])
        #expect(refused.status == 2)
        #expect(refused.err.contains("\(bad), line 2: unknown label 'not a class'"))
    }

    @Test("run --precision int8 without --calibration calibrates on the input, and says so")
    func int8DefaultsToAuto() throws {
        let root = try TestData.temporaryDirectory("eval-cli")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let data = root + "/data"
        _ = try Self.python([Self.makeDataset, data, "--images", "6", "--per-file", "6", "--size", "96"])
        let run = try Self.sluice(["run", "--input", data, "--output", root + "/out", "--model", "resnet18", "--precision", "int8",
                                   "--model-replicas", "1", "--batch-size", "4"])
        #expect(run.status == 0)
        #expect(run.err.contains("--precision int8 without --calibration: calibrating on the input (--calibration auto:256)"))
        #expect(run.err.contains("int8 calibration: the first 6 images of the input (--calibration auto:256); the input has only 6 usable images"))
        let tooMuch = try Self.sluice(["run", "--input", data, "--output", root + "/out2", "--model", "resnet18", "--precision", "int8",
                                       "--calibration", "auto:1000", "--max-memory", "256MiB", "--no-progress"])
        #expect(tooMuch.status == 2)
        #expect(tooMuch.err.contains("--calibration auto:1000 holds 1000 preprocessed images"))
        let predict = try Self.sluice(["predict", "--model", "resnet18", "--precision", "int8", "--calibration", "auto",
                                       TestData.shared.appendingPathComponent("data/images/photo-cat-chelsea.png").path])
        #expect(predict.status != 0)
        #expect(predict.err.contains("takes the first images of an input dataset, and this command has none"))
    }

    @Test("--int8-agreement: the layer search's result is logged; the option needs int8 and a share in (0, 1]")
    func int8AgreementTarget() throws {
        let root = try TestData.temporaryDirectory("eval-cli")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let data = root + "/data"
        _ = try Self.python([Self.makeDataset, data, "--images", "6", "--per-file", "6", "--size", "96"])
        let run = try Self.sluice(["run", "--input", data, "--output", root + "/out", "--model", "resnet18", "--precision", "int8",
                                   "--int8-agreement", "0.5", "--model-replicas", "1", "--batch-size", "4", "--no-progress"])
        #expect(run.status == 0, "\(run.err)")
        #expect(run.err.contains("sluice run: int8 top-1 agreement with float32 on 6 calibration samples: "), "\(run.err)")
        #expect(run.err.contains("(target 50.0%)"))
        let float = try Self.sluice(["run", "--input", data, "--output", root + "/out2", "--int8-agreement", "0.99"])
        #expect(float.status == 2)
        #expect(float.err.contains("--int8-agreement applies to --precision int8"))
        let outside = try Self.sluice(["run", "--input", data, "--output", root + "/out3", "--precision", "int8", "--int8-agreement", "99"])
        #expect(outside.status == 2)
        #expect(outside.err.contains("--int8-agreement is a share in (0, 1], e.g. 0.99; got 99"))
    }

    /// EfficientNet-Lite0 with its real ImageNet weights on the labelled photos (Tests/Fixtures/eval/photos.csv).
    /// Generated by Tests/Fixtures/make_efficientnet_lite0.py; with SLUICE_REQUIRE_ZOO=1 its absence is a failure.
    @Test("EfficientNet-Lite0 on labelled real photos: the expected class in the top 5, fp32 and int8",
          .enabled(if: FileManager.default.fileExists(atPath: EvalCommandLineTests.lite0)
                      || ProcessInfo.processInfo.environment["SLUICE_REQUIRE_ZOO"] == "1",
                   "run Tests/Fixtures/make_efficientnet_lite0.py first"))
    func lite0OnPhotos() throws {
        try #require(FileManager.default.fileExists(atPath: Self.lite0),
                     "SLUICE_REQUIRE_ZOO=1 and \(Self.lite0) is missing: run /usr/bin/python3 Tests/Fixtures/make_efficientnet_lite0.py")
        let root = try TestData.temporaryDirectory("eval-cli")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let photos = root + "/photos"
        try FileManager.default.createDirectory(atPath: photos, withIntermediateDirectories: true)
        let lines = try String(contentsOfFile: Self.photosLabels, encoding: .utf8).split(separator: "\n").dropFirst()
        for line in lines {
            let name = String(line.split(separator: ",")[0])
            try FileManager.default.createSymbolicLink(atPath: photos + "/" + name,
                                                       withDestinationPath: TestData.shared.appendingPathComponent("data/images/\(name)").path)
        }
        let fp32 = root + "/fp32"
        let evaluated = try Self.sluice(["eval", "--input", photos, "--labels", Self.photosLabels, "--model", Self.lite0,
                                         "--output", fp32, "--json"] + Self.pinned)
        try #require(evaluated.status == 0, "\(evaluated.err)")
        let accuracy = try #require(try Self.json(evaluated.out)["accuracy"] as? [String: Any])
        #expect(accuracy["scored"] as? Int == 7)
        // Tabby cat, peacock, espresso, alp, missile (the rocket), warplane: each in the top 5, and first. Grace
        // Hopper's military uniform is not found (academic gown, Windsor tie, suit …: the crop cuts the uniform).
        let perClass = try #require(accuracy["per_class"] as? [[String: Any]])
        let found = Dictionary(uniqueKeysWithValues: perClass.compactMap { entry in
            (entry["index"] as? Int).map { ($0, entry["top5_correct"] as? Int ?? 0) }
        })
        for expected in [281, 84, 967, 970, 657, 895] { #expect(found[expected] == 1, "class \(expected) not in the top 5") }
        #expect((accuracy["top1_correct"] as? Int ?? 0) >= 6)
        let numpy = try Self.json(try Self.python([Self.helper, "score", "--predictions", fp32, "--labels", try Self.indexLabels(root)]))
        #expect(accuracy["top1_correct"] as? Int == numpy["top1_correct"] as? Int)
        #expect(accuracy["top5_correct"] as? Int == numpy["top5_correct"] as? Int)

        let int8 = try Self.sluice(["eval", "--input", photos, "--labels", Self.photosLabels, "--model", Self.lite0, "--precision", "int8",
                                    "--calibration", "auto:3", "--reference", fp32, "--json"] + Self.pinned)
        try #require(int8.status == 0, "\(int8.err)")
        let report = try Self.json(int8.out)
        #expect(report["calibration_excluded"] as? Int == 3)
        #expect((report["accuracy"] as? [String: Any])?["scored"] as? Int == 4)
        #expect((report["agreement"] as? [String: Any])?["compared"] as? Int == 4)
    }

    /// photos.csv with every label as a class index (what the numpy helper reads).
    static func indexLabels(_ root: String) throws -> String {
        let path = root + "/photos-index.csv"
        try """
        id,label
        photo-cat-chelsea.png,281
        jpeg-420-peacock.jpg,84
        photo-coffee-cup.png,967
        photo-mountain.jpg,970
        photo-rocket.jpg,657
        photo-warplane.jpg,895
        photo-hopper.jpg,652

        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}

/// Bytes read on another thread, handed over through a semaphore.
private final class DataBox: @unchecked Sendable {
    var data = Data()
}
