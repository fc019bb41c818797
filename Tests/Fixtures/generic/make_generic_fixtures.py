#!/usr/bin/env python3
"""Writes the generic reader's fixtures: one wide table (every physical type; strings, ints, doubles, nested
lists, structs, maps, nulls) written by pyarrow in several encodings, page versions and codecs, with the
values pyarrow reads back, as JSON (the conformance rendering: bytes as base64, decimals as strings, INT96
timestamps as nanoseconds since the epoch, maps as key/value lists).

Run from the repository root (seeded: the same files every time, commit them):
    python3 Tests/Fixtures/generic/make_generic_fixtures.py
"""

import base64
import decimal
import json
import os

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

HERE = os.path.dirname(os.path.abspath(__file__))
ROWS = 120


def table(rng):
    n = ROWS
    def mask(p):
        return rng.random(n) < p
    words = ["alpha", "bravo", "charlie", "delta", "ünïcödé", ""]
    names = [None if i % 7 == 3 else ("long-" + "x" * 300 if i % 31 == 5 else f"name-{i}-{rng.integers(0, 1 << 30)}")
             for i in range(n)]
    tags = []
    for i in range(n):
        if i % 11 == 4:
            tags.append(None)
        elif i % 5 == 0:
            tags.append([])
        else:
            tags.append([None if k % 4 == 3 else int(rng.integers(-1 << 31, 1 << 31)) for k in range(int(rng.integers(1, 6)))])
    matrix = [None if i % 13 == 2 else [[float(rng.standard_normal()) for _ in range(int(rng.integers(0, 3)))]
                                        for _ in range(int(rng.integers(0, 3)))] for i in range(n)]
    labels = [[None if k == 1 else words[int(rng.integers(0, len(words)))] for k in range(int(rng.integers(0, 3)))] for _ in range(n)]
    long_list = [list(rng.integers(0, 256, 40, dtype=np.uint8).tolist()) for _ in range(n)]
    return pa.table({
        "id": pa.array(np.arange(n, dtype=np.int64)),
        "small": pa.array(rng.integers(-1000, 1000, n, dtype=np.int32), mask=mask(0.2)),
        "tiny": pa.array(rng.integers(0, 256, n, dtype=np.uint8)),
        "f32": pa.array(rng.standard_normal(n).astype(np.float32)),
        "price": pa.array(rng.standard_normal(n), mask=mask(0.15)),
        "flag": pa.array(rng.random(n) < 0.5, mask=mask(0.1)),
        "name": pa.array(names, type=pa.string()),
        "category": pa.array([words[int(k)] for k in rng.integers(0, len(words), n)], type=pa.string()),
        "blob": pa.array([bytes(rng.integers(0, 256, 4, dtype=np.uint8)) for _ in range(n)], type=pa.binary(4)),
        "amount": pa.array([decimal.Decimal(int(v)).scaleb(-2) for v in rng.integers(-10**8, 10**8, n)], type=pa.decimal128(12, 2)),
        "ts": pa.array(rng.integers(0, 2 * 10**18, n), type=pa.timestamp("ns")),
        "tags": pa.array(tags, type=pa.list_(pa.int32())),
        "matrix": pa.array(matrix, type=pa.list_(pa.list_(pa.float64()))),
        "labels": pa.array(labels, type=pa.list_(pa.string())),
        "pixels": pa.array(long_list, type=pa.list_(pa.uint8())),
        "point": pa.array([None if i % 9 == 1 else {"x": int(i), "tag": words[i % len(words)]} for i in range(n)],
                          type=pa.struct([("x", pa.int32()), ("tag", pa.string())])),
        "attrs": pa.array([[(words[k % len(words)], int(k)) for k in range(i % 3)] for i in range(n)],
                          type=pa.map_(pa.string(), pa.int32())),
    })


def render(value, column_type):
    if value is None:
        return None
    if pa.types.is_list(column_type):
        return [render(v, column_type.value_type) for v in value]
    if pa.types.is_map(column_type):
        return [{"key": render(k, column_type.key_type), "value": render(v, column_type.item_type)} for k, v in value]
    if pa.types.is_struct(column_type):
        return {column_type.field(i).name: render(value[column_type.field(i).name], column_type.field(i).type)
                for i in range(column_type.num_fields)}
    if isinstance(value, bytes):
        return {"base64": base64.b64encode(value).decode()}
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


VARIANTS = {
    "dictionary_v1_snappy": dict(use_dictionary=True, data_page_version="1.0", compression="snappy"),
    "plain_v1_uncompressed": dict(use_dictionary=False, data_page_version="1.0", compression="none"),
    "plain_v2_zstd": dict(use_dictionary=False, data_page_version="2.0", compression="zstd"),
    "dictionary_v2_gzip": dict(use_dictionary=True, data_page_version="2.0", compression="gzip"),
    "delta_v2_snappy": dict(use_dictionary=False, data_page_version="2.0", compression="snappy",
                            column_encoding={"id": "DELTA_BINARY_PACKED", "small": "DELTA_BINARY_PACKED",
                                             "name": "DELTA_LENGTH_BYTE_ARRAY", "category": "DELTA_BYTE_ARRAY",
                                             "price": "BYTE_STREAM_SPLIT", "f32": "BYTE_STREAM_SPLIT"}),
}


def main():
    rng = np.random.default_rng(1414)
    t = table(rng)
    columns = {}
    for name in t.column_names:
        column = t.column(name)
        if name == "ts":  # INT96 in the file; the conformance rendering is nanoseconds since the epoch
            columns[name] = column.cast(pa.int64()).to_pylist()
        else:
            columns[name] = [render(v, column.type) for v in column.to_pylist()]
    for variant, options in VARIANTS.items():
        path = os.path.join(HERE, f"wide_{variant}.parquet")
        pq.write_table(t, path, row_group_size=50, data_page_size=512, write_batch_size=16,
                       use_deprecated_int96_timestamps=True, **options)
    with open(os.path.join(HERE, "wide_expected.json"), "w") as f:
        json.dump({"rows": ROWS, "columns": columns}, f, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
