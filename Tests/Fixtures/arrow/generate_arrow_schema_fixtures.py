#!/usr/bin/env python3
"""Generates Tests/ParquetTests/Arrow/ArrowSchemaFixtures.swift.

Each fixture is an `ARROW:schema` value produced by pyarrow (by writing a Parquet file and reading
`pq.read_metadata(f).metadata[b'ARROW:schema']`, or by `pa.Schema.serialize()` for types Parquet
cannot store), together with the schema model the Swift decoder must produce. That expected model
is derived from pyarrow's own reading of the same bytes (`pa.ipc.read_schema`, with every extension
type unregistered so that extension fields appear as storage type + field metadata, exactly as they
are stored), so the Swift tests compare against pyarrow, not against the Swift decoder.

Run: python3 Tests/Fixtures/arrow/generate_arrow_schema_fixtures.py > Tests/ParquetTests/Arrow/ArrowSchemaFixtures.swift
(it uses Ray when importable for the Ray-written cases; pip install "ray[data]" first)
"""
import base64
import io
import os
import subprocess
import sys
import tempfile

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pyarrow.types as pt


def empty_table(schema: pa.Schema) -> pa.Table:
    def empty(t: pa.DataType) -> pa.Array:
        if isinstance(t, pa.BaseExtensionType):
            return pa.ExtensionArray.from_storage(t, pa.array([], type=t.storage_type))
        return pa.array([], type=t)
    return pa.Table.from_arrays([empty(f.type) for f in schema], schema=schema)


def arrow_schema_via_parquet(schema: pa.Schema | None, table: pa.Table | None = None) -> str:
    table = table if table is not None else empty_table(schema)
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "fixture.parquet")
        pq.write_table(table, path)
        return pq.read_metadata(path).metadata[b"ARROW:schema"].decode("ascii")


def arrow_schema_via_serialize(schema: pa.Schema) -> str:
    return base64.b64encode(schema.serialize().to_pybytes()).decode("ascii")


def arrow_schema_legacy(schema: pa.Schema) -> str:
    """The first message of a legacy-format IPC stream: int32 length, flatbuffer (no 0xFFFFFFFF)."""
    sink = io.BytesIO()
    options = pa.ipc.IpcWriteOptions(use_legacy_format=True)
    with pa.ipc.new_stream(sink, schema, options=options):
        pass
    stream = sink.getvalue()
    length = int.from_bytes(stream[0:4], "little", signed=True)
    assert stream[0:4] != b"\xff\xff\xff\xff" and length > 0
    return base64.b64encode(stream[: 4 + length]).decode("ascii")


def unregister_all_extension_types():
    for name in ["arrow.fixed_shape_tensor", "arrow.variable_shape_tensor", "arrow.bool8", "arrow.uuid",
                 "arrow.opaque", "arrow.json",
                 "ray.data.arrow_tensor", "ray.data.arrow_tensor_v2",
                 "ray.data.arrow_variable_shaped_tensor", "ray.data.arrow_pickled_object"]:
        try:
            pa.unregister_extension_type(name)
        except Exception:
            pass


def pyarrow_reading(b64: str) -> pa.Schema:
    """pyarrow's own decoding of the value, extension types left as storage + metadata."""
    return pa.ipc.read_schema(pa.py_buffer(base64.b64decode(b64)))


# ---------------------------------------------------------------- Swift literal generation

def swift_string(text: str) -> str:
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append("\\u{%x}" % ord(ch))
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def swift_key_value(key: bytes, value: bytes) -> str:
    try:
        text = value.decode("utf-8")
        return f"ArrowKeyValue(key: {swift_string(key.decode('utf-8'))}, value: {swift_string(text)})"
    except UnicodeDecodeError:
        data = ", ".join("0x%02X" % b for b in value)
        return f"ArrowKeyValue(key: {swift_string(key.decode('utf-8'))}, valueBytes: [{data}])"


def swift_metadata(metadata) -> str:
    if not metadata:
        return "[]"
    return "[" + ", ".join(swift_key_value(k, v) for k, v in metadata.items()) + "]"


UNITS = {"s": ".second", "ms": ".millisecond", "us": ".microsecond", "ns": ".nanosecond"}


class TypeWriter:
    def __init__(self):
        # Arrow numbers dictionaries in a pre-order walk of the fields, starting at 0.
        self.next_dictionary_id = 0

    def type(self, t: pa.DataType) -> str:
        if pt.is_dictionary(t):
            dictionary_id = self.next_dictionary_id
            self.next_dictionary_id += 1
            index = t.index_type
            return (f"ArrowType.dictionary(id: {dictionary_id}, indexBitWidth: {index.bit_width}, "
                    f"indexSigned: {'true' if pt.is_signed_integer(index) else 'false'}, "
                    f"ordered: {'true' if t.ordered else 'false'}, valueType: {self.type(t.value_type)})")
        if pt.is_null(t): return "ArrowType.null"
        if pt.is_boolean(t): return "ArrowType.bool"
        if pt.is_integer(t):
            return f"ArrowType.int(bitWidth: {t.bit_width}, signed: {'true' if pt.is_signed_integer(t) else 'false'})"
        if pt.is_float16(t): return "ArrowType.floatingPoint(.half)"
        if pt.is_float32(t): return "ArrowType.floatingPoint(.single)"
        if pt.is_float64(t): return "ArrowType.floatingPoint(.double)"
        if pt.is_binary_view(t): return "ArrowType.binaryView"
        if pt.is_string_view(t): return "ArrowType.utf8View"
        if pt.is_large_binary(t): return "ArrowType.largeBinary"
        if pt.is_large_string(t): return "ArrowType.largeUtf8"
        if pt.is_fixed_size_binary(t) and not pt.is_decimal(t):
            return f"ArrowType.fixedSizeBinary(byteWidth: {t.byte_width})"
        if pt.is_binary(t): return "ArrowType.binary"
        if pt.is_string(t): return "ArrowType.utf8"
        if pt.is_decimal(t):
            return f"ArrowType.decimal(precision: {t.precision}, scale: {t.scale}, bitWidth: {t.bit_width})"
        if pt.is_date32(t): return "ArrowType.date(.day)"
        if pt.is_date64(t): return "ArrowType.date(.millisecond)"
        if pt.is_time(t): return f"ArrowType.time({UNITS[t.unit]}, bitWidth: {t.bit_width})"
        if pt.is_timestamp(t):
            tz = "nil" if t.tz is None else swift_string(t.tz)
            return f"ArrowType.timestamp({UNITS[t.unit]}, timezone: {tz})"
        if pt.is_duration(t): return f"ArrowType.duration({UNITS[t.unit]})"
        if t == pa.month_day_nano_interval(): return "ArrowType.interval(.monthDayNano)"
        if pt.is_large_list_view(t): return "ArrowType.largeListView"
        if pt.is_list_view(t): return "ArrowType.listView"
        if pt.is_map(t): return f"ArrowType.map(keysSorted: {'true' if t.keys_sorted else 'false'})"
        if pt.is_large_list(t): return "ArrowType.largeList"
        if pt.is_fixed_size_list(t): return f"ArrowType.fixedSizeList(listSize: {t.list_size})"
        if pt.is_list(t): return "ArrowType.list"
        if pt.is_struct(t): return "ArrowType.structType"
        if pt.is_union(t):
            mode = ".sparse" if t.mode == "sparse" else ".dense"
            return f"ArrowType.union(mode: {mode}, typeIds: [{', '.join(str(c) for c in t.type_codes)}])"
        if pt.is_run_end_encoded(t): return "ArrowType.runEndEncoded"
        raise ValueError(f"no Swift literal for {t}")

    def children(self, t: pa.DataType) -> list[pa.Field]:
        if pt.is_dictionary(t):
            return self.children(t.value_type)
        return [t.field(i) for i in range(t.num_fields)]

    def field(self, f: pa.Field, indent: str) -> str:
        type_literal = self.type(f.type)  # before the children: pre-order dictionary ids
        children = self.children(f.type)
        inner = indent + "    "
        if children:
            children_literal = "[\n" + ",\n".join(inner + self.field(c, inner) for c in children) + ",\n" + indent + "]"
        else:
            children_literal = "[]"
        return (f"ArrowField(name: {swift_string(f.name)}, nullable: {'true' if f.nullable else 'false'}, "
                f"type: {type_literal}, children: {children_literal}, metadata: {swift_metadata(f.metadata)})")


def swift_case(identifier: str, title: str, b64: str, how: str) -> str:
    schema = pyarrow_reading(b64)
    writer = TypeWriter()
    lines = [f"    /// {title} ({how}).", f"    static func {identifier}() -> ArrowSchemaFixture {{",
             "        var fields: [ArrowField] = []"]
    for f in schema:
        lines.append("        fields.append(" + writer.field(f, "        ") + ")")
    lines.append("        let descriptions: [String] = [")
    for f in schema:
        lines.append(f"            {swift_string(str(f.type))},")
    lines.append("        ]")
    lines.append(f"        return ArrowSchemaFixture(name: {swift_string(identifier)},")
    lines.append(f"                                  base64: {swift_string(b64)},")
    lines.append("                                  expected: ArrowSchema(fields: fields, metadata: "
                 f"{swift_metadata(schema.metadata)}),")
    lines.append("                                  pyarrowTypeDescriptions: descriptions)")
    lines.append("    }")
    return "\n".join(lines)


# ---------------------------------------------------------------- the schemas

def wide_schema() -> pa.Schema:
    return pa.schema([
        pa.field("null_col", pa.null()),
        pa.field("bool_col", pa.bool_(), nullable=False,
                 metadata={"unit": "flag", "comment": "ünïcode ✓ \"quoted\" \\ back"}),
        pa.field("i8", pa.int8()), pa.field("u8", pa.uint8()),
        pa.field("i16", pa.int16()), pa.field("u16", pa.uint16()),
        pa.field("i32", pa.int32(), nullable=False), pa.field("u32", pa.uint32()),
        pa.field("i64", pa.int64()), pa.field("u64", pa.uint64()),
        pa.field("f16", pa.float16()), pa.field("f32", pa.float32()), pa.field("f64", pa.float64()),
        pa.field("bin", pa.binary()), pa.field("lbin", pa.large_binary()),
        pa.field("str", pa.string()), pa.field("lstr", pa.large_string()),
        pa.field("fsb7", pa.binary(7)),
        pa.field("dec32", pa.decimal32(5, 2)), pa.field("dec64", pa.decimal64(12, 3)),
        pa.field("dec128", pa.decimal128(20, 4)), pa.field("dec256", pa.decimal256(40, 5)),
        pa.field("date32", pa.date32()), pa.field("date64", pa.date64()),
        pa.field("time32s", pa.time32("s")), pa.field("time32ms", pa.time32("ms")),
        pa.field("time64us", pa.time64("us")), pa.field("time64ns", pa.time64("ns")),
        pa.field("ts_s", pa.timestamp("s")), pa.field("ts_us_utc", pa.timestamp("us", tz="UTC")),
        pa.field("ts_ns_ny", pa.timestamp("ns", tz="America/New_York")),
        pa.field("dur_s", pa.duration("s")), pa.field("dur_ms", pa.duration("ms")),
        pa.field("dur_us", pa.duration("us")), pa.field("dur_ns", pa.duration("ns")),
        pa.field("list_u8", pa.list_(pa.uint8())),
        pa.field("large_list_i32", pa.large_list(pa.int32())),
        pa.field("fsl_f32", pa.list_(pa.float32(), 12)),
        pa.field("list_not_null", pa.list_(pa.field("elem", pa.uint8(), nullable=False))),
        pa.field("list_list", pa.list_(pa.list_(pa.int8()))),
        pa.field("struct_col", pa.struct([
            pa.field("a", pa.int32(), nullable=False),
            pa.field("b", pa.string(), metadata={"inner": "yes"}),
            pa.field("c", pa.struct([pa.field("d", pa.list_(pa.float64()))])),
        ])),
        pa.field("map_col", pa.map_(pa.string(), pa.int64())),
        pa.field("map_sorted", pa.map_(pa.int32(), pa.list_(pa.string()), keys_sorted=True)),
        pa.field("dict_str", pa.dictionary(pa.int8(), pa.string())),
        pa.field("dict_ordered", pa.dictionary(pa.uint16(), pa.string(), ordered=True)),
        pa.field("list_dict", pa.list_(pa.dictionary(pa.int32(), pa.large_string()))),
        pa.field("bview", pa.binary_view()), pa.field("sview", pa.string_view()),
        pa.field("lview", pa.list_view(pa.int16())), pa.field("llview", pa.large_list_view(pa.int16())),
        pa.field("ray_tensor", pa.list_(pa.uint8()), metadata={
            "ARROW:extension:name": "ray.data.arrow_tensor",
            "ARROW:extension:metadata": "[4, 4, 3]",
        }),
        pa.field("fixed_tensor", pa.fixed_shape_tensor(pa.uint8(), [2, 3])),
        pa.field("fixed_tensor_named", pa.fixed_shape_tensor(pa.float32(), [3, 4, 5], dim_names=["C", "H", "W"])),
        pa.field("fixed_tensor_permuted", pa.fixed_shape_tensor(pa.int16(), [2, 3, 4], permutation=[2, 0, 1])),
    ], metadata={"created_by_test": "arrow helper", "empty": ""})


def exotic_schema() -> pa.Schema:
    """Types the Parquet writer refuses, serialized straight from the schema."""
    return pa.schema([
        pa.field("interval_mdn", pa.month_day_nano_interval()),
        pa.field("ree", pa.run_end_encoded(pa.int32(), pa.string())),
        pa.field("sparse", pa.sparse_union([pa.field("x", pa.int32(), nullable=False), pa.field("y", pa.string())])),
        pa.field("dense", pa.dense_union([pa.field("x", pa.float64()), pa.field("y", pa.list_(pa.int8()))],
                                         type_codes=[5, 7])),
        pa.field("dict_of_list", pa.dictionary(pa.int64(), pa.list_(pa.int8()))),
        pa.field("ts_tz_offset", pa.timestamp("ms", tz="+07:30")),
    ], metadata={"origin": "schema.serialize"})


def legacy_schema() -> pa.Schema:
    return pa.schema([
        pa.field("id", pa.int64(), nullable=False),
        pa.field("pixels", pa.list_(pa.uint8()), metadata={
            "ARROW:extension:name": "ray.data.arrow_tensor",
            "ARROW:extension:metadata": "[2, 2]",
        }),
    ])


def ray_tables():
    """Tables with tensor columns built by Ray's own extension arrays (the types Ray writes)."""
    from ray.data._internal.tensor_extensions.arrow import (
        ArrowTensorArray, ArrowVariableShapedTensorArray)
    fixed = ArrowTensorArray.from_numpy(np.zeros((2, 8, 8, 3), dtype=np.uint8))
    floats = ArrowTensorArray.from_numpy(np.zeros((2, 5), dtype=np.float32))
    ragged = np.empty(2, dtype=object)
    ragged[0] = np.zeros((2, 3), dtype=np.int32)
    ragged[1] = np.zeros((4, 1), dtype=np.int32)
    variable = ArrowVariableShapedTensorArray.from_numpy(ragged)
    return pa.table({"image": fixed, "embedding": floats, "ragged": variable})


RAY_PICKLED_SNIPPET = r"""
import sys
import pyarrow as pa
from ray.data._internal.tensor_extensions.arrow import ArrowTensorTypeV2
sys.stdout.write(ArrowTensorTypeV2((4, 4, 3), pa.uint8()).__arrow_ext_serialize__().hex())
"""


def ray_pickled_b64() -> str:
    """What Ray 2.49-2.54 wrote by default: the tensor shape as a cloudpickle. Ray's own
    serializer (switched to cloudpickle by its environment variable) makes the metadata; the
    column is written as its storage type with that metadata (building Ray's array in that mode
    crashes this Ray/pyarrow pair)."""
    unregister_all_extension_types()  # or reading the footer back would make Ray refuse the pickle
    env = dict(os.environ, RAY_DATA_ARROW_EXTENSION_SERIALIZATION_CLOUDPICKLE="1")
    pickled = bytes.fromhex(subprocess.run([sys.executable, "-c", RAY_PICKLED_SNIPPET], env=env, check=True,
                                           capture_output=True, text=True).stdout)
    assert pickled[:1] == b"\x80", pickled
    field = pa.field("image", pa.large_list(pa.uint8()), metadata={
        b"ARROW:extension:name": b"ray.data.arrow_tensor_v2",
        b"ARROW:extension:metadata": pickled,
    })
    return arrow_schema_via_parquet(pa.schema([field]))


def ray_written_b64() -> str:
    return arrow_schema_via_parquet(None, ray_tables())


def main():
    import ray  # noqa: F401  (registers Ray's extension types for writing)
    cases = [
        ("wide", "Every type the Parquet writer accepts, nested types, dictionaries, metadata, tensors",
         arrow_schema_via_parquet(wide_schema()), "pq.write_table + pq.read_metadata"),
        ("exotic", "Interval, run-end-encoded, unions, a dictionary of lists",
         arrow_schema_via_serialize(exotic_schema()), "pa.Schema.serialize"),
        ("legacy", "Legacy IPC framing without the continuation marker",
         arrow_schema_legacy(legacy_schema()), "IpcWriteOptions(use_legacy_format=True)"),
        ("rayWritten", f"Tensor columns built by Ray {ray.__version__}'s ArrowTensorArray and ArrowVariableShapedTensorArray",
         ray_written_b64(), "pq.write_table + pq.read_metadata"),
        ("rayPickled", "A Ray tensor column whose shape is a cloudpickle, as Ray 2.49-2.54 wrote by default",
         ray_pickled_b64(), "Ray's serializer with RAY_DATA_ARROW_EXTENSION_SERIALIZATION_CLOUDPICKLE=1, pq.write_table"),
    ]

    unregister_all_extension_types()
    print("// Generated by scripts/generate_arrow_schema_fixtures.py with pyarrow %s; do not edit." % pa.__version__)
    print("// Each `expected` model is pyarrow's own reading of `base64` (pa.ipc.read_schema, extension types")
    print("// unregistered); `pyarrowTypeDescriptions` are `str(field.type)` of its top-level fields.")
    print("@testable import Parquet")
    print()
    print("struct ArrowSchemaFixture {")
    print("    var name: String")
    print("    var base64: String")
    print("    var expected: ArrowSchema")
    print("    var pyarrowTypeDescriptions: [String]")
    print("}")
    print()
    print("enum ArrowSchemaFixtures {")
    print("    static var all: [ArrowSchemaFixture] { [" + ", ".join(f"{c[0]}()" for c in cases) + "] }")
    print()
    print("\n\n".join(swift_case(*c) for c in cases))
    print()
    batch = pa.record_batch([pa.array([1, 2, 3], type=pa.int32())], names=["x"])
    print("    /// A RecordBatch message (pa.RecordBatch.serialize), not a Schema.")
    print(f"    static let recordBatchMessage = {swift_string(base64.b64encode(batch.serialize().to_pybytes()).decode())}")
    print("}")


if __name__ == "__main__":
    main()
