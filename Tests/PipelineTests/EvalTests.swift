import ByteIO
import Foundation
import Inference
import Parquet
@testable import Pipeline
import SluiceTestSupport
import Testing

/// `sluice eval`: labels files of every form and every error, accuracy and agreement checked against numpy
/// (Tests/Fixtures/eval/score_with_numpy.py reads the same run outputs with pyarrow), calibration-disjoint
/// scoring, missing predictions, and EfficientNet-Lite0 on labelled real photos.
@Suite("sluice eval")
struct EvalLabelsTests {
    /// A vocabulary of four classes, one name given twice.
    static let small = ClassVocabulary(names: ["cat", "dog", "Hen", "dog"])

    @Test("CSV with and without a header, quoted fields, CRLF, blank lines; index, WordNet id and name")
    func csvForms() throws {
        let withHeader = try LabelsFile.parse("id,label\r\na.jpg,281\r\n\r\n\"b,1.jpg\",n01806143\nc.jpg, Tabby \n\"d\"\"q\",ESPRESSO\n",
                                              source: "l.csv")
        #expect(withHeader.entries.map(\.id) == ["a.jpg", "b,1.jpg", "c.jpg", "d\"q"])
        #expect(withHeader.entries.map(\.label) == [281, 84, 281, 967])
        #expect(withHeader.entries.map(\.line) == [2, 4, 5, 6])
        let bare = try LabelsFile.parse("x,0\ny,999\n", source: "l.csv")
        #expect(bare.labelByID == ["x": 0, "y": 999])
    }

    @Test("JSON lines: string and integer ids, index / WordNet id / name labels")
    func jsonLines() throws {
        let file = try LabelsFile.parse("""
        {"id": "a", "label": 281}
        {"id": 7, "label": "n01806143"}

        {"id": "c", "label": "military uniform"}
        {"id": "d", "label": "5"}
        """, source: "l.jsonl")
        #expect(file.entries.map(\.id) == ["a", "7", "c", "d"])
        #expect(file.entries.map(\.label) == [281, 84, 652, 5])
    }

    @Test("every malformed labels file is a typed error naming the file, the line and the reason", arguments: [
        ("a,1000\n", EvaluationError.unknownLabel(file: "f", line: 1, label: "1000", reason: "class indices run from 0 to 999")),
        ("a,-1\n", .unknownLabel(file: "f", line: 1, label: "-1", reason: "class indices run from 0 to 999")),
        ("a,n99999999\n", .unknownLabel(file: "f", line: 1, label: "n99999999", reason: "no ImageNet-1k class has this WordNet id")),
        ("id,label\na,tabby cats\n", .unknownLabel(file: "f", line: 2, label: "tabby cats",
                                                   reason: "no class has this name (names are compared without regard to case)")),
        ("a,\n", .unknownLabel(file: "f", line: 1, label: "", reason: "the label is empty")),
        ("a,1\nb,2\na,3\n", .duplicateID(file: "f", line: 3, id: "a", firstLine: 1)),
        ("a,1,2\n", .malformedLine(file: "f", line: 1, reason: "expected 2 fields (id,label), found 3")),
        ("a\n", .malformedLine(file: "f", line: 1, reason: "expected 2 fields (id,label), found 1")),
        ("\"a,1\n", .malformedLine(file: "f", line: 1, reason: "a quoted field is not closed")),
        ("a\"b,1\n", .malformedLine(file: "f", line: 1, reason: "a quote inside an unquoted field")),
        (",1\n", .malformedLine(file: "f", line: 1, reason: "the id is empty")),
        ("id,label\n\n", .noLabels(file: "f")),
        ("", .noLabels(file: "f")),
        ("{\"id\": \"a\", \"label\": 1}\n{\"id\": \"b\"\n", .malformedLine(file: "f", line: 2, reason: "not a JSON object")),
        ("{\"id\": \"a\"}\n", .malformedLine(file: "f", line: 1, reason: "no \"label\" field")),
        ("{\"label\": 3}\n", .malformedLine(file: "f", line: 1, reason: "no \"id\" field")),
        ("{\"id\": [1], \"label\": 3}\n", .malformedLine(file: "f", line: 1, reason: "\"id\" must be a string or a whole number")),
        ("{\"id\": \"a\", \"label\": 2.5}\n", .unknownLabel(file: "f", line: 1, label: "2.5", reason: "a class index is a whole number")),
        ("{\"id\": \"a\", \"label\": 1000}\n", .unknownLabel(file: "f", line: 1, label: "1000", reason: "class indices run from 0 to 999")),
        ("{\"id\": \"a\", \"label\": null}\n", .malformedLine(file: "f", line: 1, reason: "\"label\" must be a class index, a WordNet id or a class name")),
    ])
    func errors(text: String, expected: EvaluationError) {
        #expect(throws: expected) { try LabelsFile.parse(text, source: "f") }
    }

    @Test("a name two classes share is refused; WordNet ids need ImageNet's classes")
    func customVocabulary() throws {
        #expect(try LabelsFile.parse("a,HEN\nb,0\n", source: "f", classes: Self.small).entries.map(\.label) == [2, 0])
        #expect(throws: EvaluationError.unknownLabel(file: "f", line: 1, label: "dog", reason: "more than one class has this name: give the class index")) {
            try LabelsFile.parse("a,dog\n", source: "f", classes: Self.small)
        }
        #expect(throws: EvaluationError.unknownLabel(file: "f", line: 1, label: "n01440764",
                                                     reason: "WordNet ids name ImageNet-1k classes only, and the class names are not ImageNet-1k's")) {
            try LabelsFile.parse("a,n01440764\n", source: "f", classes: Self.small)
        }
        #expect(throws: EvaluationError.unknownLabel(file: "f", line: 1, label: "4", reason: "class indices run from 0 to 3")) {
            try LabelsFile.parse("a,4\n", source: "f", classes: Self.small)
        }
    }

    @Test("the WordNet ids are ImageNet-1k's, in class order")
    func wordNetIDs() {
        let ids = ImageNetWordNetIDs.list
        #expect(ids.count == 1000)
        #expect(ids.first == "n01440764")  // tench
        #expect(ids[281] == "n02123045")   // tabby
        #expect(ids.last == "n15075141")   // toilet tissue
        #expect(ids == ids.sorted() && Set(ids).count == 1000)
    }
}

@Suite("sluice eval: scores")
struct EvalScoringTests {
    /// A prediction part: `rows` of (id, logits or nil for an error row) over `classes` classes.
    static func writePart(_ path: String, _ rows: [(String, [Float]?)], classes: Int, logits: Bool = true) throws {
        var topK: [Int32] = [], scores: [Float] = []
        for (_, values) in rows {
            let top = values.map { PredictionSet.topIndices($0, k: 5) } ?? [0, 0, 0, 0, 0]
            topK += top.map { Int32($0) }
            scores += [Float](repeating: 0.2, count: 5)
        }
        let table = PredictionTable(ids: rows.map(\.0), k: 5, topK: topK, scores: scores, predicted: rows.map { $0.1 != nil }, labels: nil,
                                    logits: logits ? rows.flatMap { $0.1 ?? [Float](repeating: 0, count: classes) } : nil, classCount: classes)
        let sink = try LocalFileSink(path: path)
        try table.write(to: sink, codec: .uncompressed)
    }

    static func logits(best: [Int], classes: Int = 10) -> [Float] {
        var values = [Float](repeating: 0, count: classes)
        for (rank, index) in best.enumerated() { values[index] = Float(10 - rank) }
        return values
    }

    @Test("top-1, top-5, per class, agreement and |Δlogit| of crafted predictions; excluded ids are not scored")
    func crafted() throws {
        let root = try TestData.temporaryDirectory("eval")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let ours = (root as NSString).appendingPathComponent("ours"), theirs = (root as NSString).appendingPathComponent("theirs")
        try FileManager.default.createDirectory(atPath: ours, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: theirs, withIntermediateDirectories: true)
        try Self.writePart(ours + "/a.parquet", [("i0", Self.logits(best: [1, 2, 3, 4, 5])), ("i1", Self.logits(best: [2, 1, 3, 4, 5])),
                                                 ("i2", Self.logits(best: [6, 7, 8, 9, 0])), ("cal", Self.logits(best: [9]))], classes: 10)
        try Self.writePart(ours + "/b.parquet", [("i3", nil), ("extra", Self.logits(best: [3]))], classes: 10)
        var shifted = Self.logits(best: [2, 1, 3, 4, 5])
        shifted[0] = 0.5
        try Self.writePart(theirs + "/a.parquet", [("i0", shifted), ("i1", Self.logits(best: [2, 1, 3, 4, 5])),
                                                   ("i2", Self.logits(best: [7, 6, 8, 9, 0])), ("extra", Self.logits(best: [3]))], classes: 10)
        let labels = try LabelsFile.parse("i0,1\ni1,1\ni2,3\ni3,4\ncal,9\n", source: "l", classes: ClassVocabulary(names: (0..<10).map { "c\($0)" }))
        let report = try EvaluationReport.evaluate(predictions: try PredictionSet.load(ours), labels: labels,
                                                   reference: try PredictionSet.load(theirs), excluded: ["cal"],
                                                   classes: ClassVocabulary(names: (0..<10).map { "c\($0)" }))
        let accuracy = try #require(report.accuracy)
        #expect(report.calibrationExcluded == 1)
        #expect(accuracy.scored == 3 && accuracy.top1Correct == 1 && accuracy.top5Correct == 2)
        #expect(accuracy.perClass.map { [$0.index, $0.total, $0.top1Correct, $0.top5Correct] } == [[1, 2, 1, 2], [3, 1, 0, 0]])
        #expect(report.missingPredictions == ["i3"])  // an error row is no prediction
        #expect(report.unlabelled == 1)
        let agreement = try #require(report.agreement)
        // i0: ours 1, reference 2 (in our top 5); i1 same; i2: ours 6, reference 7 (in our top 5); extra same.
        #expect(agreement.compared == 4 && agreement.top1Agreeing == 2 && agreement.top5Agreeing == 4)
        #expect(agreement.maxAbsLogitDelta == 1)
        let expectedMean: Double = 4.5 / 40
        #expect(agreement.meanAbsLogitDelta == expectedMean)  // i0: 1→2 and 2→1 swap, class 0 by 0.5; i2: 6↔7
        #expect(report.missingInReference.isEmpty && report.missingHere.isEmpty)
        #expect(!report.complete)
        #expect(report.render().contains("scored 3 images; 1 calibration images excluded"))
        #expect(report.render().contains("ERROR: 1 labelled images have no prediction (absent, or an error row): i3"))
    }

    @Test("prediction parts that cannot be scored: a typed error naming the file and the reason")
    func malformedPredictions() throws {
        let root = try TestData.temporaryDirectory("eval")
        defer { try? FileManager.default.removeItem(atPath: root) }
        try Self.writePart(root + "/a.parquet", [("x", Self.logits(best: [1]))], classes: 10)
        try Self.writePart(root + "/b.parquet", [("x", Self.logits(best: [1]))], classes: 10)
        #expect(throws: EvaluationError.duplicatePrediction(id: "x", file: root + "/b.parquet", firstFile: root + "/a.parquet")) {
            try PredictionSet.load(root)
        }
        try FileManager.default.removeItem(atPath: root + "/b.parquet")
        try Self.writePart(root + "/b.parquet", [("y", Self.logits(best: [1]))], classes: 10, logits: false)
        #expect(throws: EvaluationError.malformedPredictions(file: root + "/b.parquet", rowGroup: nil, row: nil,
                                                            reason: "this part has no logits and the earlier ones do")) {
            try PredictionSet.load(root)
        }
        try Data("not parquet".utf8).write(to: URL(fileURLWithPath: root + "/b.parquet"))
        #expect(throws: EvaluationError.self) { try PredictionSet.load(root) }
        let empty = root + "/empty"
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        #expect(throws: EvaluationError.unreadable(file: empty, reason: "no prediction parts (.parquet files) in this directory")) {
            try PredictionSet.load(empty)
        }
    }

    @Test("the per-class table never cuts a count (104/107 was shown as 104/10)")
    func perClassColumns() {
        var accuracy = AccuracyReport()
        accuracy.scored = 1107
        accuracy.perClass = [.init(index: 895, name: "warplane", wordNetID: nil, total: 107, top1Correct: 104, top5Correct: 107),
                             .init(index: 1, name: "goldfish", wordNetID: nil, total: 1000, top1Correct: 1000, top5Correct: 1000)]
        var report = EvaluationReport(predictions: "p", labels: "l")
        report.accuracy = accuracy
        let text = report.render()
        #expect(text.contains("895 warplane  104/107    107/107"))
        #expect(text.contains("1 goldfish    1000/1000  1000/1000"))
    }

    @Test("top indices: largest first, ties to the lower index, NaN never chosen")
    func topIndices() {
        #expect(PredictionSet.topIndices([1, 3, 3, 2, .nan, 0], k: 5) == [1, 2, 3, 0, 5])
        #expect(PredictionSet.topIndices([1, 2], k: 5) == [1, 0])
    }

    @Test("auto calibration: more images than --max-memory holds is refused before anything is read")
    func calibrationMemory() throws {
        #expect(throws: PipelineError.self) { try AutoCalibration.bytes(count: 1000, perImage: 3 * 224 * 224, maxMemory: 512 << 20) }
        #expect(try AutoCalibration.bytes(count: 256, perImage: 3 * 224 * 224, maxMemory: 2 << 30) == 256 * 602_112)
        #expect(throws: PipelineError.self) { try AutoCalibration.bytes(count: Int.max / 2, perImage: 3 * 224 * 224, maxMemory: 2 << 30) }
        #expect(try CalibrationSource.parse("auto") == .auto(count: 256))
        #expect(try CalibrationSource.parse("auto:17") == .auto(count: 17))
        #expect(try CalibrationSource.parse("cal.npy") == .file("cal.npy"))
        #expect(throws: PipelineError.self) { try CalibrationSource.parse("auto:0") }
        #expect(throws: PipelineError.self) { try CalibrationSource.parse("auto:x") }
    }

    @Test("sluice bench's model-only rows: int8 with auto calibration and no dataset calibrates on seeded samples")
    func seededCalibrationForTiming() throws {
        let factory = ResNetFactory(model: ONNXCommandLineTests.tiny, weights: nil, precision: .int8, calibration: .auto(count: 256))
        #expect(factory.needsAutoCalibration)
        let seeded = try factory.calibratedOnSeededSamples(count: 4)
        #expect(!seeded.needsAutoCalibration)
        #expect(seeded.calibrationSamples?.shape == [4, 3, 32, 32])
        let model = try seeded.makeModel(batchSize: 2, threads: 1)
        #expect(model.classCount > 0)
    }
}
