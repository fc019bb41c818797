import Foundation
import Parquet

/// The columns of a prediction part — `id`, `top_k`, `scores`, `labels` and optionally `logits` — with
/// null lists for the rows that failed: what `sluice run` writes for each input file and `sluice serve`
/// answers as application/x-parquet.
public struct PredictionTable {
    public var ids: [String]
    public var k: Int
    /// Row-major, `k` per row (ignored for rows that failed).
    public var topK: [Int32]
    public var scores: [Float]
    /// Per row: whether it was predicted.
    public var predicted: [Bool]
    public var labels: [String]?
    /// Row-major, `classCount` per row, when kept.
    public var logits: [Float]?
    public var classCount: Int

    public init(ids: [String], k: Int, topK: [Int32], scores: [Float], predicted: [Bool], labels: [String]?,
                logits: [Float]? = nil, classCount: Int = 0) {
        self.ids = ids
        self.k = k
        self.topK = topK
        self.scores = scores
        self.predicted = predicted
        self.labels = labels
        self.logits = logits
        self.classCount = classCount
    }

    public func write(to sink: any ByteSink, codec: CompressionCodec) throws {
        var fields: [FieldSpec] = [
            .string("id", nullable: false),
            .list(name: "top_k", element: .primitive(name: "element", type: .int32, nullable: false), nullable: true),
            .list(name: "scores", element: .primitive(name: "element", type: .float, nullable: false), nullable: true),
        ]
        if labels != nil {
            fields.append(.list(name: "labels", element: .string("element", nullable: false), nullable: true))
        }
        if logits != nil { fields.append(.tensor(name: "logits", element: .float32, shape: [classCount])) }
        var options = WriterOptions()
        options.codec = codec
        let writer = try ParquetFileWriter(sink: sink, fields: fields, options: options)
        let rows = 0..<ids.count
        func row<T>(_ values: [T], _ r: Int, width: Int) -> [T?]? {
            predicted[r] ? values[(r * width)..<((r + 1) * width)].map { Optional($0) } : nil
        }
        var columns: [ColumnWriteData] = [
            .required(.byteArray(BinaryValues(strings: ids))),
            .lists(rows.map { row(topK, $0, width: k) }, nullableElement: false) { .int32($0) },
            .lists(rows.map { row(scores, $0, width: k) }, nullableElement: false) { .float($0) },
        ]
        if let labels {
            columns.append(.lists(rows.map { r in
                row(topK, r, width: k)?.map { $0.map { Int($0) < labels.count ? labels[Int($0)] : "class \($0)" } }
            }, nullableElement: false) { .byteArray(BinaryValues(strings: $0)) })
        }
        if let logits {
            columns.append(.lists(rows.map { row(logits, $0, width: classCount) }) { .float($0) })
        }
        try writer.writeRowGroup(rows: ids.count, columns: columns)
        try writer.close()
    }
}
