#!/usr/bin/env python3
"""Writes Tests/ParquetTests/EncodingsPyarrowVectors.swift: raw value / level sections of v2 data
pages that pyarrow (parquet-cpp) wrote, with the values they must decode to.

Each case writes a one-column file (compression NONE, data page v2, one page), walks the column
chunk's pages by parsing their Thrift compact page headers here, and cuts the data page body into
repetition levels, definition levels and values using the lengths in DataPageHeaderV2.
Expected values come from the inputs given to pyarrow (numpy, seeded), never from the Swift code.

Run: python3 Tests/Fixtures/make_encoding_vectors.py  (pyarrow 26, numpy)
"""
import io
import os
import struct
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "ParquetTests", "EncodingsPyarrowVectors.swift")


# --- minimal Thrift compact protocol reader (enough for PageHeader) -------------------------------

class Compact:
    def __init__(self, buf, pos):
        self.buf, self.pos = buf, pos

    def byte(self):
        b = self.buf[self.pos]
        self.pos += 1
        return b

    def varint(self):
        shift = result = 0
        while True:
            b = self.byte()
            result |= (b & 0x7F) << shift
            if not b & 0x80:
                return result
            shift += 7

    def zigzag(self):
        v = self.varint()
        return (v >> 1) ^ -(v & 1)

    def value(self, t):
        if t in (1, 2):  # bool true / false inside a struct
            return t == 1
        if t == 3:
            return struct.unpack("b", bytes([self.byte()]))[0]
        if t in (4, 5, 6):
            return self.zigzag()
        if t == 7:
            v = struct.unpack("<d", self.buf[self.pos:self.pos + 8])[0]
            self.pos += 8
            return v
        if t == 8:
            n = self.varint()
            v = bytes(self.buf[self.pos:self.pos + n])
            self.pos += n
            return v
        if t in (9, 10):
            head = self.byte()
            n, et = head >> 4, head & 0x0F
            if n == 15:
                n = self.varint()
            return [self.value(et) for _ in range(n)]
        if t == 12:
            return self.struct()
        raise ValueError(f"thrift type {t}")

    def struct(self):
        fields, last = {}, 0
        while True:
            head = self.byte()
            if head == 0:
                return fields
            delta, t = head >> 4, head & 0x0F
            fid = last + delta if delta else self.zigzag()
            fields[fid] = self.value(t)
            last = fid


def pages(table, **options):
    """Yields (page_type, header_fields, body_bytes) for every page of column 0."""
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="NONE", data_page_version="2.0", write_statistics=False,
                   store_schema=False, **options)
    raw = sink.getvalue()
    col = pq.ParquetFile(io.BytesIO(raw)).metadata.row_group(0).column(0)
    start = col.dictionary_page_offset if col.has_dictionary_page and col.dictionary_page_offset else col.data_page_offset
    end = start + col.total_compressed_size
    pos = start
    while pos < end:
        reader = Compact(raw, pos)
        header = reader.struct()
        body = raw[reader.pos:reader.pos + header[3]]
        yield header[1], header, body
        pos = reader.pos + header[3]


ENCODINGS = {"PLAIN": 0, "RLE": 3, "DELTA_BINARY_PACKED": 5, "DELTA_LENGTH_BYTE_ARRAY": 6,
             "DELTA_BYTE_ARRAY": 7, "RLE_DICTIONARY": 8, "BYTE_STREAM_SPLIT": 9}


def data_page_v2(table, **options):
    """(rep_levels, def_levels, values, header_v2, dictionary_body) of the single v2 data page,
    checking that the page uses the encoding asked for (PLAIN unless a dictionary or column_encoding)."""
    if options.get("use_dictionary", True):
        expected = "RLE_DICTIONARY"
    else:
        options.setdefault("column_encoding", {"x": "PLAIN"})
        expected = options["column_encoding"]["x"]
    result = _data_page_v2(table, **options)
    assert result[3][4] == ENCODINGS[expected], (expected, result[3][4])
    return result


def _data_page_v2(table, **options):
    dictionary, found = None, []
    for ptype, header, body in pages(table, **options):
        if ptype == 2:
            dictionary = body
        elif ptype == 3:
            v2 = header[8]
            rep_len, def_len = v2.get(6, 0), v2.get(5, 0)
            assert v2.get(7, True) in (True, False)
            found.append((body[:rep_len], body[rep_len:rep_len + def_len], body[rep_len + def_len:], v2, dictionary))
        else:
            raise ValueError(f"unexpected page type {ptype}")
    assert len(found) == 1, f"expected one data page, got {len(found)}"
    return found[0]


# --- Swift output --------------------------------------------------------------------------------

def hexstr(b):
    return bytes(b).hex()


def swift_array(values, fmt=str, per_line=16):
    items = [fmt(v) for v in values]
    lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
    return "[\n        " + ",\n        ".join(lines) + ",\n    ]" if items else "[]"


def swift_hex(b, width=96):
    h = hexstr(b)
    chunks = [h[i:i + width] for i in range(0, len(h), width)] or [""]
    return "\n".join(["\"\"\""] + ["    " + c for c in chunks] + ["    \"\"\""])


def swift_string(s):
    assert all(32 <= ord(c) < 127 and c not in '"\\' for c in s)
    return '"' + s + '"'


decls = []


def emit(name, swift_type, literal, comment=None):
    if comment:
        decls.append(f"    /// {comment}")
    decls.append(f"    static let {name}: {swift_type} = {literal}")
    decls.append("")


def emit_hex(name, b, comment):
    decls.append(f"    /// {comment}")
    decls.append(f"    static let {name} = bytesFromHex({swift_hex(b)})")
    decls.append("")


rng = np.random.default_rng(20240611)

# DELTA_BINARY_PACKED, INT32: a random walk with big jumps and the extremes (deltas wrap at 32 bits).
walk = np.cumsum(rng.integers(-1000, 1000, 300)).astype(np.int64)
walk[50:60] = rng.integers(-2**31, 2**31 - 1, 10)
walk[100], walk[101], walk[102] = -2**31, 2**31 - 1, -2**31
walk[200:240] = 7  # a zero-width miniblock
int32_values = walk.astype(np.int32)
_, _, values, v2, _ = data_page_v2(pa.table({"x": pa.array(int32_values, pa.int32())}),
                                   use_dictionary=False, column_encoding={"x": "DELTA_BINARY_PACKED"})
assert v2[4] == 5
emit_hex("deltaInt32Page", values, f"DELTA_BINARY_PACKED INT32 values section, {len(int32_values)} values")
emit("deltaInt32Values", "[Int32]", swift_array(int32_values.tolist(), per_line=10))

# DELTA_BINARY_PACKED, INT64 with 64-bit extremes (needs 64-bit miniblocks).
int64_values = (np.cumsum(rng.integers(-10**12, 10**12, 200))).astype(np.int64)
int64_values[10], int64_values[11], int64_values[12] = -2**63, 2**63 - 1, -2**63
int64_values[150:199] = rng.integers(-2**63, 2**63 - 1, 49, dtype=np.int64)
_, _, values, v2, _ = data_page_v2(pa.table({"x": pa.array(int64_values, pa.int64())}),
                                   use_dictionary=False, column_encoding={"x": "DELTA_BINARY_PACKED"})
emit_hex("deltaInt64Page", values, f"DELTA_BINARY_PACKED INT64 values section, {len(int64_values)} values")
emit("deltaInt64Values", "[Int64]", swift_array(int64_values.tolist(), per_line=6))

# DELTA_BINARY_PACKED with exactly one value (header only) and with 129 values (one full block + 0).
for n in (1, 129):
    vals = rng.integers(-50, 50, n).astype(np.int32)
    _, _, values, _, _ = data_page_v2(pa.table({"x": pa.array(vals, pa.int32())}),
                                      use_dictionary=False, column_encoding={"x": "DELTA_BINARY_PACKED"})
    emit_hex(f"deltaInt32Page{n}", values, f"DELTA_BINARY_PACKED INT32, {n} values")
    emit(f"deltaInt32Values{n}", "[Int32]", swift_array(vals.tolist(), per_line=16))

# Strings for the byte array encodings: shared prefixes, empties, varied lengths.
words = ["", "a", "axis", "axle", "babble", "babyhood", "baby", "zebra", "zebra", "zebras"]
strings = []
for i in range(150):
    base = words[rng.integers(0, len(words))]
    strings.append(base + "".join(chr(97 + int(c)) for c in rng.integers(0, 26, rng.integers(0, 6))))
strings[20:25] = ["", "", "", "", ""]

for encoding, name in (("DELTA_LENGTH_BYTE_ARRAY", "deltaLengthByteArray"), ("DELTA_BYTE_ARRAY", "deltaByteArray"),
                       ("PLAIN", "plainByteArray")):
    _, _, values, v2, _ = data_page_v2(pa.table({"x": pa.array(strings, pa.string())}),
                                       use_dictionary=False, column_encoding={"x": encoding})
    emit_hex(f"{name}Page", values, f"{encoding} values section, {len(strings)} strings")
emit("byteArrayStrings", "[String]", swift_array(strings, swift_string, per_line=8),
     "The strings of the three byte-array pages above.")

# BYTE_STREAM_SPLIT for FLOAT and DOUBLE (expected values as bit patterns).
floats = rng.standard_normal(77).astype(np.float32)
_, _, values, _, _ = data_page_v2(pa.table({"x": pa.array(floats, pa.float32())}),
                                  use_dictionary=False, column_encoding={"x": "BYTE_STREAM_SPLIT"})
emit_hex("byteStreamSplitFloatPage", values, "BYTE_STREAM_SPLIT FLOAT values section, 77 values")
emit("byteStreamSplitFloatBits", "[UInt32]", swift_array(floats.view(np.uint32).tolist(), lambda v: f"0x{v:08X}", 8))
doubles = rng.standard_normal(33)
_, _, values, _, _ = data_page_v2(pa.table({"x": pa.array(doubles, pa.float64())}),
                                  use_dictionary=False, column_encoding={"x": "BYTE_STREAM_SPLIT"})
emit_hex("byteStreamSplitDoublePage", values, "BYTE_STREAM_SPLIT DOUBLE values section, 33 values")
emit("byteStreamSplitDoubleBits", "[UInt64]", swift_array(doubles.view(np.uint64).tolist(), lambda v: f"0x{v:016X}", 4))

# PLAIN: INT32, DOUBLE, BOOLEAN, FIXED_LEN_BYTE_ARRAY.
plain_ints = rng.integers(-2**31, 2**31 - 1, 21).astype(np.int32)
_, _, values, _, _ = data_page_v2(pa.table({"x": pa.array(plain_ints, pa.int32())}), use_dictionary=False)
emit_hex("plainInt32Page", values, "PLAIN INT32 values section")
emit("plainInt32Values", "[Int32]", swift_array(plain_ints.tolist(), per_line=8))
plain_doubles = rng.standard_normal(9)
_, _, values, _, _ = data_page_v2(pa.table({"x": pa.array(plain_doubles, pa.float64())}), use_dictionary=False)
emit_hex("plainDoublePage", values, "PLAIN DOUBLE values section")
emit("plainDoubleBits", "[UInt64]", swift_array(plain_doubles.view(np.uint64).tolist(), lambda v: f"0x{v:016X}", 4))
bools = (rng.random(45) < 0.3).tolist()
_, _, values, _, _ = data_page_v2(pa.table({"x": pa.array(bools, pa.bool_())}), use_dictionary=False)
emit_hex("plainBooleanPage", values, "PLAIN BOOLEAN values section, 45 values")
emit("booleanValues", "[Bool]", swift_array(bools, lambda b: "true" if b else "false", 12))
_, _, values, v2, _ = data_page_v2(pa.table({"x": pa.array(bools, pa.bool_())}), use_dictionary=False,
                                   column_encoding={"x": "RLE"})
assert v2[4] == 3
emit_hex("rleBooleanPage", values, "RLE BOOLEAN values section (4-byte length prefix, then runs), same 45 values")
flba = [bytes(rng.integers(0, 256, 5, dtype=np.uint8)) for _ in range(11)]
_, _, values, _, _ = data_page_v2(pa.table({"x": pa.array(flba, pa.binary(5))}), use_dictionary=False)
emit_hex("plainFixedLen5Page", values, "PLAIN FIXED_LEN_BYTE_ARRAY(5) values section, 11 values")
emit("plainFixedLen5Hex", "String", '"' + b"".join(flba).hex() + '"')

# Dictionary indices: first-appearance order is the dictionary order; checked against the dictionary page.
distinct = rng.integers(-10**6, 10**6, 23).astype(np.int32)
picks = rng.integers(0, 23, 700)
picks[100:180] = 5       # a long repeat (RLE run)
picks[300:309] = 22      # 9 repeats
dict_values = distinct[picks]
_, _, values, v2, dictionary = data_page_v2(pa.table({"x": pa.array(dict_values, pa.int32())}), use_dictionary=True)
assert v2[4] == 8, v2
order = []
for v in dict_values.tolist():
    if v not in order:
        order.append(v)
assert list(struct.unpack(f"<{len(order)}i", dictionary)) == order, "dictionary is not in first-appearance order"
indices = [order.index(v) for v in dict_values.tolist()]
emit("dictionaryIndexBitWidth", "Int", str(values[0]))
emit_hex("dictionaryIndicesRuns", values[1:], "RLE_DICTIONARY values section after its bit-width byte, 700 indices")
emit("dictionaryIndices", "[UInt32]", swift_array(indices, per_line=24))

# Definition levels of an optional column (bit width 1) with long and short null runs.
valid = rng.random(500) < 0.7
valid[0:40] = False
valid[40:100] = True
opt = pa.array([int(i) if v else None for i, v in enumerate(valid)], pa.int32())
rep, deflev, values, v2, _ = data_page_v2(pa.table({"x": opt}), use_dictionary=False)
assert rep == b""
emit_hex("optionalDefinitionLevels", deflev, "v2 definition levels (bit width 1, no length prefix), 500 levels")
emit("optionalDefinitionLevelValues", "[UInt8]", swift_array([1 if v else 0 for v in valid], per_line=40))

# Repetition and definition levels of an optional list<optional int32>:
# def 0 = null list, 1 = empty list, 2 = null element, 3 = element; rep 1 = continues the list.
lists, reps, defs = [], [], []
for _ in range(120):
    kind = rng.random()
    if kind < 0.1:
        lists.append(None); reps.append(0); defs.append(0)
    elif kind < 0.2:
        lists.append([]); reps.append(0); defs.append(1)
    else:
        items = [None if rng.random() < 0.2 else int(rng.integers(0, 100)) for _ in range(rng.integers(1, 12))]
        lists.append(items)
        for j, item in enumerate(items):
            reps.append(0 if j == 0 else 1)
            defs.append(2 if item is None else 3)
rep, deflev, values, v2, _ = data_page_v2(pa.table({"x": pa.array(lists, pa.list_(pa.int32()))}), use_dictionary=False)
emit_hex("listRepetitionLevels", rep, f"v2 repetition levels of a list column (bit width 1), {len(reps)} levels")
emit("listRepetitionLevelValues", "[UInt8]", swift_array(reps, per_line=40))
emit_hex("listDefinitionLevels", deflev, f"v2 definition levels of the same column (bit width 2), {len(defs)} levels")
emit("listDefinitionLevelValues", "[UInt8]", swift_array(defs, per_line=40))

with open(OUT, "w") as f:
    f.write("// Generated by Tests/Fixtures/make_encoding_vectors.py with pyarrow "
            f"{pa.__version__} (parquet-cpp); do not edit.\n")
    f.write("// Raw sections of v2 data pages written by pyarrow and the values they hold.\n\n")
    f.write("enum PyarrowVectors {\n")
    f.write("\n".join(decls).rstrip() + "\n}\n\n")
    f.write("/// Bytes of a hex string (whitespace ignored).\n")
    f.write("func bytesFromHex(_ hex: String) -> [UInt8] {\n")
    f.write("    let digits = Array(hex.utf8.filter { $0 != 32 && $0 != 10 })\n")
    f.write("    func nibble(_ c: UInt8) -> UInt8 { c <= 57 ? c - 48 : (c | 32) - 87 }\n")
    f.write("    return stride(from: 0, to: digits.count - 1, by: 2).map { nibble(digits[$0]) << 4 | nibble(digits[$0 + 1]) }\n")
    f.write("}\n")
print("wrote", OUT, file=sys.stderr)
