import Testing
@testable import Parquet

@Suite("Tensor column detection")
struct ArrowTensorTypeTests {
    private let uint8 = ArrowType.int(bitWidth: 8, signed: false)

    private func field(_ schema: ArrowSchema, _ name: String) throws -> ArrowField {
        try #require(schema.field(named: name))
    }

    private func reason(_ detection: TensorTypeDetection) -> String? {
        if case .unsupported(let reason) = detection { return reason }
        return nil
    }

    private func rayField(_ metadata: [UInt8], name: String = "ray.data.arrow_tensor", storage: ArrowType = .list,
                          element: ArrowField = ArrowField(name: "item", type: .int(bitWidth: 8, signed: false))) -> ArrowField {
        ArrowField(name: "t", type: storage, children: [element],
                   metadata: [ArrowKeyValue(key: "ARROW:extension:name", value: name),
                              ArrowKeyValue(key: "ARROW:extension:metadata", valueBytes: metadata)])
    }

    private func rayField(_ json: String) -> ArrowField {
        rayField(Array(json.utf8))
    }

    private func fixedShapeField(_ json: String, listSize: Int) -> ArrowField {
        ArrowField(name: "f", type: .fixedSizeList(listSize: listSize),
                   children: [ArrowField(name: "item", type: .floatingPoint(.single))],
                   metadata: [ArrowKeyValue(key: "ARROW:extension:name", value: "arrow.fixed_shape_tensor"),
                              ArrowKeyValue(key: "ARROW:extension:metadata", value: json)])
    }

    @Test("tensor columns written by pyarrow")
    func pyarrowTensors() throws {
        let schema = try ArrowSchema(ipcSchemaBase64: ArrowSchemaFixtures.wide().base64)
        #expect(try field(schema, "ray_tensor").tensorType
            == .tensor(TensorType(shape: [4, 4, 3], elementType: uint8, extensionName: "ray.data.arrow_tensor")))
        #expect(try field(schema, "fixed_tensor").tensorType
            == .tensor(TensorType(shape: [2, 3], elementType: uint8, extensionName: "arrow.fixed_shape_tensor")))
        #expect(try field(schema, "fixed_tensor_named").tensorType
            == .tensor(TensorType(shape: [3, 4, 5], elementType: .floatingPoint(.single), extensionName: "arrow.fixed_shape_tensor",
                                  dimensionNames: ["C", "H", "W"])))
        #expect(try field(schema, "fixed_tensor_permuted").tensorType
            == .tensor(TensorType(shape: [2, 3, 4], elementType: .int(bitWidth: 16, signed: true),
                                  extensionName: "arrow.fixed_shape_tensor", permutation: [2, 0, 1])))
        for name in ["u8", "list_u8", "fsl_f32", "struct_col", "dict_str"] {
            #expect(try field(schema, name).tensorType == .notATensor, "\(name)")
        }
        if case .tensor(let tensor) = try field(schema, "ray_tensor").tensorType {
            #expect(tensor.elementCount == 48)
        }
    }

    @Test("tensor columns written by Ray")
    func rayTensors() throws {
        let schema = try ArrowSchema(ipcSchemaBase64: ArrowSchemaFixtures.rayWritten().base64)
        #expect(try field(schema, "image").tensorType
            == .tensor(TensorType(shape: [8, 8, 3], elementType: uint8, extensionName: "ray.data.arrow_tensor_v2")))
        #expect(try field(schema, "embedding").tensorType
            == .tensor(TensorType(shape: [5], elementType: .floatingPoint(.single), extensionName: "ray.data.arrow_tensor_v2")))
        let ragged = reason(try field(schema, "ragged").tensorType)
        #expect(ragged?.contains("variable-shaped") == true)
        #expect(ragged?.contains("same shape") == true)
    }

    @Test("a pickled Ray shape is unsupported, naming the Ray versions")
    func pickledShape() throws {
        let schema = try ArrowSchema(ipcSchemaBase64: ArrowSchemaFixtures.rayPickled().base64)
        let image = try field(schema, "image")
        #expect(image.metadataBytes("ARROW:extension:metadata")?.first == 0x80)
        let text = try #require(reason(image.tensorType))
        #expect(text.contains("pickle"))
        #expect(text.contains("2.49 to 2.54"))
        #expect(text.contains("JSON"))
    }

    @Test("Ray < 2.9 PyExtensionType tensors are unsupported; other pickled types are not tensors")
    func pyExtensionType() {
        let pickled: [UInt8] = [0x80, 0x04] + Array("ray.air.util.tensor_extensions.arrow ArrowTensorType".utf8)
        let tensor = rayField(pickled, name: "arrow.py_extension_type")
        #expect(reason(tensor.tensorType)?.contains("Ray 2.8 or earlier") == true)
        let other = rayField([0x80, 0x04] + Array("mypackage MyType".utf8), name: "arrow.py_extension_type")
        #expect(other.tensorType == .notATensor)
    }

    @Test("Ray shape as a JSON object")
    func objectShape() {
        #expect(rayField(#"{"shape": [2, 2]}"#).tensorType
            == .tensor(TensorType(shape: [2, 2], elementType: uint8, extensionName: "ray.data.arrow_tensor")))
    }

    @Test("malformed shapes are unsupported with a reason")
    func malformedShapes() {
        for bad in ["[4, 4,", "", "{}", "[2.5]", "[true]", "\"[2]\"", "[1e30]", #"{"shape": "2"}"#] {
            let text = reason(rayField(bad).tensorType)
            #expect(text?.contains("JSON") == true, "\(bad): \(String(describing: text))")
        }
        #expect(reason(rayField("[0, 3]").tensorType)?.contains("non-positive") == true)
        #expect(reason(rayField("[4, -1]").tensorType)?.contains("non-positive") == true)
        #expect(reason(rayField("[9223372036854775807, 2]").tensorType)?.contains("overflows") == true)
        #expect(reason(rayField([0xFF, 0xFE]).tensorType) != nil)
    }

    @Test("storage that does not match the extension is unsupported")
    func wrongStorage() {
        #expect(reason(rayField(Array("[2]".utf8), storage: .structType).tensorType)?.contains("expected list") == true)
        let nested = ArrowField(name: "item", type: .list, children: [ArrowField(name: "item", type: .bool)])
        #expect(reason(rayField(Array("[2]".utf8), element: nested).tensorType)?.contains("nested") == true)
        let childless = ArrowField(name: "t", type: .largeList,
                                   metadata: [ArrowKeyValue(key: "ARROW:extension:name", value: "ray.data.arrow_tensor_v2"),
                                              ArrowKeyValue(key: "ARROW:extension:metadata", value: "[3]")])
        #expect(reason(childless.tensorType)?.contains("children") == true)
    }

    @Test("fixed_shape_tensor checks its list size, dim_names and permutation")
    func fixedShapeChecks() {
        #expect(fixedShapeField(#"{"shape":[2,3]}"#, listSize: 6).tensorType
            == .tensor(TensorType(shape: [2, 3], elementType: .floatingPoint(.single), extensionName: "arrow.fixed_shape_tensor")))
        let mismatch = reason(fixedShapeField(#"{"shape":[2,3]}"#, listSize: 7).tensorType)
        #expect(mismatch?.contains("6 elements") == true && mismatch?.contains("7") == true)
        #expect(reason(fixedShapeField(#"{"shape":[2,3],"permutation":[0,0]}"#, listSize: 6).tensorType)?.contains("permutation") == true)
        #expect(reason(fixedShapeField(#"{"shape":[2,3],"dim_names":["H"]}"#, listSize: 6).tensorType)?.contains("dim_names") == true)
        #expect(reason(fixedShapeField("[2, 3]", listSize: 6).tensorType)?.contains("JSON object") == true)
        var onList = fixedShapeField(#"{"shape":[2,3]}"#, listSize: 6)
        onList.type = .list
        #expect(reason(onList.tensorType)?.contains("fixed_size_list") == true)
    }

    @Test("the arrow.variable_shape_tensor canonical extension is unsupported")
    func canonicalVariableShape() {
        let field = ArrowField(name: "v", type: .structType,
                               metadata: [ArrowKeyValue(key: "ARROW:extension:name", value: "arrow.variable_shape_tensor")])
        #expect(reason(field.tensorType)?.contains("variable-shaped") == true)
    }

    @Test("elementCount saturates on a hand-made overflowing shape")
    func elementCountSaturates() {
        #expect(TensorType(shape: [Int.max, 2], elementType: .bool, extensionName: "x").elementCount == Int.max)
        #expect(TensorType(shape: [], elementType: .bool, extensionName: "x").elementCount == 1)
    }
}
