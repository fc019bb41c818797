import Foundation
import Testing
@testable import Parquet

/// One file of `Tests/Fixtures/make_tensor_list_fixtures.py`'s manifest.
struct TensorListFixture: CustomTestStringConvertible, Sendable {
    static let directory = TestPaths.repository.appendingPathComponent("Tests/Fixtures/generated/tensor_lists")
    static let all: [TensorListFixture] = {
        let url = directory.appendingPathComponent("manifest.json")
        guard let data = try? Data(contentsOf: url),
              let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let files = root["files"] as? [[String: Any]] else { return [] }
        return files.compactMap(TensorListFixture.init)
    }()

    let name: String
    let kind: String
    let dtype: String
    let encoding: String
    let shape: [Int]
    let order: ImageAxisOrder
    let element: TensorElement
    let needsShape: Bool
    /// nil: the row must come back invalid.
    let crc32: [UInt32?]

    init?(_ json: [String: Any]) {
        guard let name = json["name"] as? String, let kind = json["kind"] as? String, let dtype = json["dtype"] as? String,
              let encoding = json["encoding"] as? String, let shape = json["shape"] as? [Int],
              let order = (json["order"] as? String).flatMap(ImageAxisOrder.init), let element = (json["element"] as? String).flatMap(TensorElement.init),
              let crcs = json["crc32"] as? [Any] else { return nil }
        self.name = name
        self.kind = kind
        self.dtype = dtype
        self.encoding = encoding
        self.shape = shape
        self.order = order
        self.element = element
        self.needsShape = json["needs_shape"] as? Bool ?? false
        crc32 = crcs.map { ($0 as? NSNumber).map { UInt32(truncating: $0) } }
    }

    var path: String { Self.directory.appendingPathComponent(name).path }
    var testDescription: String { name }

    /// The height, width, channels a user would give with --image-shape.
    var hwc: [Int] { order == .hwc ? shape : [shape[1], shape[2], shape[0]] }

    static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
}

/// Every fixed-length numeric list layout through the tensor reader's bulk path.
@Suite("Tensor list columns")
struct TensorListTests {
    static let fixtures = TensorListFixture.all

    @Test("the fixtures exist (scripts/test writes them)")
    func fixturesExist() {
        #expect(Self.fixtures.count > 40, "run python3 Tests/Fixtures/make_tensor_list_fixtures.py")
    }

    /// Each row's CRC-32 as the reader delivers it, nil for an invalid row.
    static func readCRCs(_ fixture: TensorListFixture, targetRows: Int) throws -> [UInt32?] {
        let reader = try ParquetFileReader(path: fixture.path)
        let layout = try TensorColumnLayout.describe(file: reader, field: "image")
        let requested: [Int]? = fixture.needsShape || fixture.order == .chw ? fixture.hwc : nil
        let resolved = try TensorShapeInference.resolve(file: reader, column: "image", layout: layout,
                                                        requested: requested, order: fixture.order)
        #expect(resolved.shape == fixture.shape, "\(fixture.name)")
        let tensors = try TensorColumnReader(file: reader, column: "image", shape: resolved.shape)
        #expect(tensors.element == fixture.element, "\(fixture.name)")
        var crcs: [UInt32?] = []
        while let batch = try tensors.next(targetRows: targetRows) {
            for i in 0..<batch.rowCount { crcs.append(batch.validity[i] ? crc32(batch.row(i)) : nil) }
        }
        return crcs
    }

    @Test("every list kind x element x encoding x codec reads to numpy's values", arguments: fixtures)
    func readsFixture(_ fixture: TensorListFixture) throws {
        for targetRows in [1, 4, 64] {
            let crcs = try Self.readCRCs(fixture, targetRows: targetRows)
            #expect(crcs == fixture.crc32, "\(fixture.name), \(targetRows) rows a batch: \(crcs) vs \(fixture.crc32)")
        }
    }

    @Test("integer layouts deliver exactly the pixels of Ray's layout")
    func sameAsRay() throws {
        let ray = try #require(Self.fixtures.first { $0.kind == "ray" })
        let rayCRCs = try Self.readCRCs(ray, targetRows: 64)
        let pixelFiles = Self.fixtures.filter { $0.element == .uint8 && $0.order == .hwc && $0.kind != "ray" }
        #expect(pixelFiles.count >= 30)
        for fixture in pixelFiles {
            let crcs = try Self.readCRCs(fixture, targetRows: 3)
            for (row, crc) in crcs.enumerated() where crc != nil {
                #expect(crc == rayCRCs[row], "\(fixture.name) row \(row)")
            }
        }
    }

    @Test("layouts are told apart from the schema and metadata alone")
    func layouts() throws {
        func layout(_ name: String) throws -> TensorColumnLayout {
            try TensorColumnLayout.describe(file: try ParquetFileReader(path: TensorListFixture.path(name)), field: "image")
        }
        #expect(try layout("list_int16_plain_zstd.parquet") == .flatList(storage: .int16, fixedLength: nil))
        #expect(try layout("fixed_size_list_uint8_plain_zstd.parquet") == .flatList(storage: .uint8, fixedLength: 192))
        #expect(try layout("large_list_float16_plain_zstd.parquet") == .flatList(storage: .float16, fixedLength: nil))
        #expect(try layout("nested_hf_uint8.parquet") == .nestedList(storage: .uint8, depth: 3, shape: [8, 8, 3]))
        #expect(try layout("nested_plain_uint8.parquet") == .nestedList(storage: .uint8, depth: 3, shape: nil))
        guard case .taggedTensor(let type, .uint8) = try layout("ray_uint8.parquet") else {
            Issue.record("Ray's layout is not a tagged tensor")
            return
        }
        #expect(type.shape == [8, 8, 3])
        let reader = try ParquetFileReader(path: TensorListFixture.path("ray_uint8.parquet"))
        guard case .other = try TensorColumnLayout.describe(file: reader, field: "id") else {
            Issue.record("a string column is taken for images")
            return
        }
    }

    @Test("a square shape is inferred only when exactly one fits")
    func squareShapes() {
        #expect(TensorShapeInference.squareShapes(elements: 192) == [[8, 8, 3]])
        #expect(TensorShapeInference.squareShapes(elements: 256 * 256 * 3) == [[256, 256, 3]])
        #expect(TensorShapeInference.squareShapes(elements: 50176) == [[224, 224, 1]])
        #expect(TensorShapeInference.squareShapes(elements: 120) == [])
        #expect(TensorShapeInference.squareShapes(elements: 0) == [])
    }

    @Test("an inferred shape is logged; a length no square image fits is an error that suggests --image-shape")
    func inference() throws {
        let reader = try ParquetFileReader(path: TensorListFixture.path("list_uint8_plain_snappy.parquet"))
        let resolved = try TensorShapeInference.resolve(file: reader, column: "image",
                                                        layout: try TensorColumnLayout.describe(file: reader, field: "image"),
                                                        requested: nil, order: nil)
        #expect(resolved.shape == [8, 8, 3])
        guard case let .inferred(note) = resolved.source else {
            Issue.record("not inferred: \(resolved.source)")
            return
        }
        #expect(note.contains("rows of 192 values read as 8×8 images of 3 channels, hwc (inferred"))

        for (name, reason) in [("nonsquare_list_uint8.parquet", "no square image of 1 or 3 channels holds 120 values"),
                               ("ragged_first_list_uint8.parquet", "first 4 rows hold different numbers of values (189, 192)")] {
            let file = try ParquetFileReader(path: TensorListFixture.path(name))
            let error = parquetError {
                _ = try TensorShapeInference.resolve(file: file, column: "image",
                                                     layout: try TensorColumnLayout.describe(file: file, field: "image"),
                                                     requested: nil, order: nil)
            }
            #expect(error?.kind == .invalidArgument)
            #expect(error?.description.contains("column 'image'") == true)
            #expect(error?.description.contains(reason) == true, "\(error.map { "\($0)" } ?? "no error")")
            #expect(error?.description.contains("pass --image-shape H,W,C") == true)
        }
    }

    @Test("a given shape that disagrees with a fixed_size_list's length is refused")
    func fixedLengthMismatch() throws {
        let file = try ParquetFileReader(path: TensorListFixture.path("fixed_size_list_uint8_plain_zstd.parquet"))
        let error = parquetError {
            _ = try TensorShapeInference.resolve(file: file, column: "image", layout: try TensorColumnLayout.describe(file: file, field: "image"),
                                                 requested: [8, 8, 1], order: nil)
        }
        #expect(error?.description.contains("every row of 'image' holds 192 (fixed_size_list)") == true)
    }

    @Test("int16 pixels outside 0...255 are a typed error naming the file, row group, column and row")
    func outOfRangePlain() throws {
        let path = TensorListFixture.path("outofrange_list_int16_plain.parquet")
        let tensors = try TensorColumnReader(file: try ParquetFileReader(path: path), column: "image", shape: [8, 8, 3])
        let error = parquetError { while try tensors.next(targetRows: 64) != nil {} }
        #expect(error?.kind == .schemaMismatch)
        #expect(error?.location.row == 3)
        #expect(error?.location.rowGroup == 0)
        #expect(error?.location.column == "image.list.element")
        #expect(error?.description.contains("outofrange_list_int16_plain.parquet") == true)
        #expect(error?.description.contains("holds 300, outside 0...255: int16 values are read as uint8 pixels") == true)
    }

    @Test("the same on a page with a null row (the general path) names the row too")
    func outOfRangeIrregular() throws {
        let path = TensorListFixture.path("outofrange_nullrow_list_int16_plain.parquet")
        let tensors = try TensorColumnReader(file: try ParquetFileReader(path: path), column: "image", shape: [8, 8, 3])
        let error = parquetError { while try tensors.next(targetRows: 64) != nil {} }
        #expect(error?.location.row == 3)
        #expect(error?.description.contains("holds 300, outside 0...255") == true)
    }

    @Test("negative values are not pixels either: the first one is named")
    func negativePixel() throws {
        let values: [Int32] = [0, 255, -1, 7]
        var out = [UInt8](repeating: 0, count: 4)
        do {
            _ = try values.withUnsafeBytes { raw in
                try out.withUnsafeMutableBytes { try TensorConversion.plain(raw, count: 4, storage: .int8, element: .uint8, into: $0.baseAddress!) }
            }
            Issue.record("-1 was narrowed to a pixel")
        } catch let error as TensorRangeError {
            #expect(error.index == 2)
            #expect(error.value == "-1")
        }
    }

    @Test("an int16 dictionary holding 300 is refused once, naming the entry")
    func outOfRangeDictionary() throws {
        let path = TensorListFixture.path("outofrange_list_int16_dictionary.parquet")
        let tensors = try TensorColumnReader(file: try ParquetFileReader(path: path), column: "image", shape: [8, 8, 3])
        let error = parquetError { while try tensors.next(targetRows: 64) != nil {} }
        #expect(error?.kind == .schemaMismatch)
        #expect(error?.location.rowGroup == 0)
        #expect(error?.description.contains("dictionary entry") == true)
        #expect(error?.description.contains("holds 300, outside 0...255") == true)
    }

    @Test("int16 pixels can still be read as int16 when asked")
    func exactElement() throws {
        let path = TensorListFixture.path("outofrange_list_int16_plain.parquet")
        let tensors = try TensorColumnReader(file: try ParquetFileReader(path: path), column: "image", shape: [8, 8, 3], element: .int16)
        let batch = try #require(try tensors.next(targetRows: 64))
        #expect(batch.row(3).bindMemory(to: Int16.self)[10] == 300)
    }

    @Test("floats cannot be read as pixels")
    func floatsAreNotPixels() throws {
        let path = TensorListFixture.path("list_float32_plain_zstd.parquet")
        let error = parquetError { _ = try TensorColumnReader(file: try ParquetFileReader(path: path), column: "image", shape: [8, 8, 3], element: .uint8) }
        #expect(error?.kind == .schemaMismatch)
        #expect(error?.description.contains("float32 values, which cannot be read as tensor elements of type uint8") == true)
    }

    @Test("nested lists deeper than the shape has dimensions are refused")
    func nestingDeeperThanShape() throws {
        let path = TensorListFixture.path("nested_plain_uint8.parquet")
        let error = parquetError { _ = try TensorColumnReader(file: try ParquetFileReader(path: path), column: "image", shape: [192]) }
        #expect(error?.description.contains("nests lists 3 deep, more than the 1 dimensions of shape [192]") == true)
    }
}

/// The small files Spark and Hugging Face `datasets` wrote once (Tests/Fixtures/make_{spark,huggingface}_fixtures.py).
@Suite("Spark and datasets image columns")
struct ForeignWriterTensorTests {
    static let files: [(directory: String, name: String, crc32: [UInt32])] = ["spark", "huggingface"].flatMap { directory in
        let url = TestPaths.repository.appendingPathComponent("Tests/Fixtures/\(directory)/manifest.json")
        guard let data = try? Data(contentsOf: url), let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let files = root["files"] as? [[String: Any]] else { return [(String, String, [UInt32])]() }
        return files.compactMap { file in
            guard let name = file["name"] as? String, let crcs = file["crc32"] as? [NSNumber] else { return nil }
            return (directory, name, crcs.map { UInt32(truncating: $0) })
        }
    }

    @Test("Spark's array<smallint|tinyint|int> and datasets' Array3D read to numpy's pixels, shapes found without help")
    func readsForeignFiles() throws {
        #expect(Self.files.count == 5)
        for file in Self.files {
            let path = TestPaths.repository.appendingPathComponent("Tests/Fixtures/\(file.directory)/\(file.name)").path
            let reader = try ParquetFileReader(path: path)
            let layout = try TensorColumnLayout.describe(file: reader, field: "image")
            let resolved = try TensorShapeInference.resolve(file: reader, column: "image", layout: layout, requested: nil, order: nil)
            #expect(resolved.shape == [8, 8, 3], "\(file.name)")
            #expect(resolved.source == (file.directory == "spark" ? .inferred(note: "column 'image': rows of 192 values read as 8×8 images of 3 channels, hwc (inferred; --image-shape and --image-layout override)") : .metadata))
            let tensors = try TensorColumnReader(file: reader, column: "image", shape: resolved.shape)
            var crcs: [UInt32] = []
            while let batch = try tensors.next(targetRows: 4) {
                for i in 0..<batch.rowCount {
                    #expect(batch.validity[i])
                    crcs.append(crc32(batch.row(i)))
                }
            }
            #expect(crcs == file.crc32, "\(file.name)")
        }
    }
}
