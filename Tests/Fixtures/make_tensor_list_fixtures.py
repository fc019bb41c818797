#!/usr/bin/env python3
"""Image columns as plain numeric lists, written by pyarrow: every list kind x element type x encoding x codec.

    python3 Tests/Fixtures/make_tensor_list_fixtures.py      write into Tests/Fixtures/generated/tensor_lists/

Each file holds column `image` (one flattened 8x8x3 image per row, HWC) and `id`; the same pixels (values
0..127, so that int8 holds them too) are also written in Ray's tagged layout (ray_uint8.parquet), so tests
can check that every layout reads to the same pixels and the same predictions.

manifest.json lists every file with what the reader must deliver, computed by numpy:
  {"files": [{"name", "kind", "dtype", "encoding", "codec", "shape", "element", "rows",
              "crc32": [crc32 of each row's delivered bytes (uint8 pixels or float32 values), null = error row]}]}
Special files: ragged rows, rows of a non-square length, int16 pixels out of range, nested lists (with and
without Hugging Face metadata), rows spanning pages, CHW order.
"""
import json
import sys
import zlib
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "Tests" / "Fixtures" / "generated" / "tensor_lists"
SHAPE = (8, 8, 3)
ROWS = 6
PER_ROW = int(np.prod(SHAPE))

ELEMENTS = {
    "uint8": pa.uint8(), "int8": pa.int8(), "int16": pa.int16(), "int32": pa.int32(),
    "float16": pa.float16(), "float32": pa.float32(), "float64": pa.float64(),
}
KINDS = ("list", "large_list", "fixed_size_list")
ENCODINGS = ("plain", "dictionary")
CODECS = ("snappy", "zstd", "none")


def pixels():
    rng = np.random.default_rng(14)
    return rng.integers(0, 128, (ROWS, PER_ROW), dtype=np.uint8)


def list_type(kind, element, size=PER_ROW):
    if kind == "list":
        return pa.list_(element)
    if kind == "large_list":
        return pa.large_list(element)
    return pa.list_(element, size)


def column(rows, kind, element, null_rows=()):
    """rows: list of 1-D numpy arrays (or None for a null row)."""
    typ = list_type(kind, element, len(next(r for r in rows if r is not None)))
    values = [None if i in null_rows else r.tolist() for i, r in enumerate(rows)]
    return pa.array(values, type=typ)


def delivered(row, dtype):
    """The bytes the reader delivers for a row: uint8 pixels for integers, float32 for floats."""
    if dtype.startswith("float"):
        return np.asarray(row, dtype=np.float32).tobytes()
    return np.asarray(row, dtype=np.uint8).tobytes()


def write(name, table, encoding, codec, **kw):
    pq.write_table(table, OUT / name, compression=codec if codec != "none" else "NONE",
                   use_dictionary=(encoding == "dictionary"), row_group_size=4, **kw)


def entry(name, kind, dtype, encoding, codec, rows, shape=SHAPE, order="hwc", null_rows=(), **extra):
    crcs = [None if (r is None or i in null_rows) else zlib.crc32(delivered(r, dtype)) for i, r in enumerate(rows)]
    return dict(name=name, kind=kind, dtype=dtype, encoding=encoding, codec=codec, shape=list(shape), order=order,
                element="float32" if dtype.startswith("float") else "uint8", rows=len(rows), crc32=crcs, **extra)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    base = pixels()
    ids = pa.array([f"img{i}" for i in range(ROWS)])
    files = []
    i = 0
    for kind in KINDS:
        for dtype, element in ELEMENTS.items():
            for encoding in ENCODINGS:
                codec = CODECS[i % len(CODECS)]
                i += 1
                rows = [r.astype(dtype if dtype != "float16" else np.float16) for r in base]
                name = f"{kind}_{dtype}_{encoding}_{codec}.parquet"
                write(name, pa.table({"image": column(rows, kind, element), "id": ids}), encoding, codec)
                files.append(entry(name, kind, dtype, encoding, codec, rows))

    # The other codecs Sluice reads (gzip, LZ4_RAW), on a few combinations.
    for kind, dtype, encoding, codec in [("list", "uint8", "dictionary", "gzip"), ("large_list", "int16", "plain", "gzip"),
                                         ("list", "int32", "dictionary", "lz4"), ("fixed_size_list", "uint8", "plain", "lz4")]:
        rows = [r.astype(dtype) for r in base]
        name = f"{kind}_{dtype}_{encoding}_{codec}.parquet"
        write(name, pa.table({"image": column(rows, kind, ELEMENTS[dtype]), "id": ids}), encoding, codec)
        files.append(entry(name, kind, dtype, encoding, codec, rows))

    # Ray's tagged layout of the same pixels: the reference the others are compared with.
    ray_field = pa.field("image", pa.list_(pa.uint8()), metadata={
        b"ARROW:extension:metadata": json.dumps(list(SHAPE)).encode(),
        b"ARROW:extension:name": b"ray.data.arrow_tensor_v2"})
    ray = pa.Table.from_arrays([column(list(base), "list", pa.uint8()), ids],
                               schema=pa.schema([ray_field, pa.field("id", pa.string())]))
    write("ray_uint8.parquet", ray, "dictionary", "snappy")
    files.append(entry("ray_uint8.parquet", "ray", "uint8", "dictionary", "snappy", list(base)))

    # Channels first: the same images transposed, read back with --image-layout chw.
    chw = [r.reshape(SHAPE).transpose(2, 0, 1).reshape(-1) for r in base]
    write("chw_list_uint8.parquet", pa.table({"image": column(chw, "list", pa.uint8()), "id": ids}), "dictionary", "zstd")
    files.append(entry("chw_list_uint8.parquet", "list", "uint8", "dictionary", "zstd", chw, shape=(3, 8, 8), order="chw"))

    # Rows spanning pages (tiny pages), a null row and a row holding a null, PLAIN and dictionary.
    for encoding in ENCODINGS:
        name = f"paged_list_int16_{encoding}.parquet"
        rows = [r.astype(np.int16) for r in base]
        values = [r.tolist() for r in rows]
        values[2] = None
        values[4][5] = None
        table = pa.table({"image": pa.array(values, type=pa.list_(pa.int16())), "id": ids})
        write(name, table, encoding, "snappy", data_page_size=64, write_batch_size=16)
        files.append(entry(name, "list", "int16", encoding, "snappy", rows, null_rows=(2, 4)))

    # Nested lists, as Hugging Face datasets' Array3D stores them; with and without its metadata.
    nested = [r.reshape(SHAPE).tolist() for r in base]
    nested_type = pa.list_(pa.list_(pa.list_(pa.uint8())))
    features = {"info": {"features": {"image": {"shape": list(SHAPE), "dtype": "uint8", "_type": "Array3D"},
                                      "id": {"dtype": "string", "_type": "Value"}}}}
    table = pa.table({"image": pa.array(nested, type=nested_type), "id": ids})
    pq.write_table(table.replace_schema_metadata({"huggingface": json.dumps(features)}), OUT / "nested_hf_uint8.parquet",
                   compression="snappy", row_group_size=4)
    files.append(entry("nested_hf_uint8.parquet", "nested", "uint8", "dictionary", "snappy", list(base)))
    pq.write_table(table, OUT / "nested_plain_uint8.parquet", compression="zstd", use_dictionary=False, row_group_size=4)
    files.append(entry("nested_plain_uint8.parquet", "nested", "uint8", "plain", "zstd", list(base), needs_shape=True))
    # One inner list one value short (another row's is one longer): those rows are errors, not a crash.
    bent = [r.reshape(SHAPE).tolist() for r in base]
    bent[1][0][0] = bent[1][0][0][:2]
    bent[1][0][1] = bent[1][0][1] + [7]
    pq.write_table(pa.table({"image": pa.array(bent, type=nested_type), "id": ids})
                   .replace_schema_metadata({"huggingface": json.dumps(features)}),
                   OUT / "nested_hf_bent.parquet", compression="snappy", use_dictionary=False)
    files.append(entry("nested_hf_bent.parquet", "nested", "uint8", "plain", "snappy", list(base), null_rows=(1,)))

    # Ragged, read with --image-shape: row 3 is shorter, row 5 longer: error rows.
    ragged = [r for r in base]
    ragged[3] = ragged[3][:-3]
    ragged[5] = np.concatenate([ragged[5], ragged[5][:3]])
    write("ragged_list_uint8.parquet", pa.table({"image": pa.array([r.tolist() for r in ragged], type=pa.list_(pa.uint8())),
                                                 "id": ids}), "dictionary", "snappy")
    files.append(entry("ragged_list_uint8.parquet", "list", "uint8", "dictionary", "snappy", list(base), null_rows=(3, 5),
                       needs_shape=True))
    # Ragged from the first row: no shape can be inferred.
    first_ragged = [r for r in base]
    first_ragged[0] = first_ragged[0][:-3]
    write("ragged_first_list_uint8.parquet", pa.table({"image": pa.array([r.tolist() for r in first_ragged], type=pa.list_(pa.uint8())),
                                                       "id": ids}), "dictionary", "snappy")
    # 8 x 5 x 3 = 120 values: no square image holds them.
    write("nonsquare_list_uint8.parquet", pa.table({"image": pa.array([r[:120].tolist() for r in base], type=pa.list_(pa.uint8())),
                                                    "id": ids}), "plain", "snappy")
    # int16 pixels with 300 in row 3: a typed error naming the row (PLAIN) or the dictionary entry.
    for encoding in ENCODINGS:
        hot = [r.astype(np.int16) for r in base]
        hot[3][10] = 300
        write(f"outofrange_list_int16_{encoding}.parquet",
              pa.table({"image": pa.array([r.tolist() for r in hot], type=pa.list_(pa.int16())), "id": ids}), encoding, "snappy")

    # The same beside a null row: the page takes the general (irregular) path, which must name row 3 too.
    hot = [r.astype(np.int16).tolist() for r in base]
    hot[1] = None
    hot[3][10] = 300
    write("outofrange_nullrow_list_int16_plain.parquet",
          pa.table({"image": pa.array(hot, type=pa.list_(pa.int16())), "id": ids}), "plain", "snappy")

    # Preprocessed model input: float32 [3, 16, 16] CHW, normalised (what the `staged` strategy writes).
    rng = np.random.default_rng(141)
    floats = rng.normal(0, 1, (ROWS, 3 * 16 * 16)).astype(np.float32)
    write("preprocessed_list_float32.parquet", pa.table({"image": pa.array(list(floats), type=pa.list_(pa.float32())), "id": ids}),
          "plain", "snappy")
    files.append(entry("preprocessed_list_float32.parquet", "list", "float32", "plain", "snappy", list(floats),
                       shape=(3, 16, 16), order="chw"))

    # The pipeline tests' stand-in model takes [3, 4, 4]: preprocessed input of that shape, and the same
    # with 0...255 values stored as floats (not normalised: error rows).
    small = rng.normal(0, 1, (ROWS, 48)).astype(np.float32)
    write("preprocessed_small_float32.parquet", pa.table({"image": pa.array(list(small), type=pa.list_(pa.float32())), "id": ids}),
          "plain", "snappy")
    files.append(entry("preprocessed_small_float32.parquet", "list", "float32", "plain", "snappy", list(small),
                       shape=(3, 4, 4), order="chw"))
    raw = base[:, :48].astype(np.float32)
    raw[:, 0] = 200.0
    write("unnormalised_small_float32.parquet", pa.table({"image": pa.array(list(raw), type=pa.list_(pa.float32())), "id": ids}),
          "plain", "snappy")

    (OUT / "manifest.json").write_text(json.dumps({"files": files}, indent=1) + "\n")
    print(f"wrote {len(files)} tensor list fixtures (+ error cases) into {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
