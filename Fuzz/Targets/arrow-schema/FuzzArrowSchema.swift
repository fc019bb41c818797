import FuzzSupport
import Parquet

// The `ARROW:schema` footer value: an Arrow IPC Schema message (flatbuffer), decoded as bytes and, when the
// input is text, as the base64 the footer stores; then the tensor detection every reader runs on its fields.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzArrowSchema(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = Array(fuzzBytes(data, size))
    if let schema = try? ArrowSchema(ipcSchemaMessage: bytes) { inspect(schema) }
    if let schema = try? ArrowSchema(ipcSchemaBase64: String(decoding: bytes, as: UTF8.self)) { inspect(schema) }
    return 0
}

private func inspect(_ schema: ArrowSchema) {
    for field in schema.fields {
        if case let .tensor(type) = field.tensorType { _ = type.elementCount }
        _ = field.extensionName
    }
    _ = schema.metadataValue("pandas")
}

@_cdecl("fuzz_arrow_schema_main")
public func fuzzArrowSchemaMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzArrowSchema) { seeds in
        // The Arrow schemas of the Parquet files named after the directory ...
        for (n, path) in seeds.inputs.enumerated() {
            guard let reader = try? ParquetFileReader(path: path), let schema = try? reader.arrowSchema() else { continue }
            try seeds.write("file-\(n)", schema.ipcSchemaMessage())
        }
        // ... and those of Sluice's tensor layouts, with the other types around them.
        for (l, layout) in TensorLayout.allCases.enumerated() {
            let sink = InMemorySink()
            let writer = try ParquetFileWriter(sink: sink, fields: [
                .primitive(name: "id", type: .int64), .string("path"),
                .tensor(name: "image", element: [.uint8, .float32, .int64][l], shape: [3, 2, 2], layout: layout),
            ])
            try writer.close()
            let reader = try ParquetFileReader(source: MemorySource(sink.bytes))
            guard let schema = try reader.arrowSchema() else { continue }
            try seeds.write("tensor-\(l)", schema.ipcSchemaMessage())
            try seeds.write("tensor-\(l).b64", Array(schema.ipcSchemaBase64().utf8))
        }
        let types: [ArrowType] = [
            .timestamp(.microsecond, timezone: "UTC"), .decimal(precision: 10, scale: 2, bitWidth: 128),
            .dictionary(id: 1, indexBitWidth: 32, indexSigned: true, ordered: false, valueType: .utf8),
            .fixedSizeBinary(byteWidth: 16), .date(.day), .time(.millisecond, bitWidth: 32), .duration(.second),
        ]
        let schema = ArrowSchema(fields: types.enumerated().map { ArrowField(name: "f\($0.offset)", type: $0.element) }
            + [ArrowField(name: "m", type: .map(keysSorted: false), children: [
                ArrowField(name: "entries", nullable: false, type: .structType, children: [
                    ArrowField(name: "key", nullable: false, type: .utf8), ArrowField(name: "value", type: .int(bitWidth: 32, signed: true)),
                ]),
            ])],
            metadata: [ArrowKeyValue(key: "pandas", value: "{}")])
        try seeds.write("types", schema.ipcSchemaMessage())
    }
}
