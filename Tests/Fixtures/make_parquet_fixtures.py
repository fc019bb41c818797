#!/usr/bin/env python3
"""Write small Parquet fixture files, each with NAME.expected.json, for the Parquet tests.

Usage (from any directory):
    python3 Tests/Fixtures/make_parquet_fixtures.py            write into Tests/Fixtures/generated/parquet/
    python3 Tests/Fixtures/make_parquet_fixtures.py --out DIR  write into DIR
    python3 Tests/Fixtures/make_parquet_fixtures.py --check    regenerate into a temp dir, compare byte for byte
    python3 Tests/Fixtures/make_parquet_fixtures.py --list     print name, bytes and what each file covers
    python3 Tests/Fixtures/make_parquet_fixtures.py --describe FILE...   print every page header of FILE

The JSON documents use exactly the rendering of the upstream conformance files
("sluice-parquet-expected/1", see shared/data/parquet-testing/README.md): this script imports
make_expected.py from there and calls its make_doc(), so one Swift harness reads both sets.
Where to find shared/: $SLUICE_SHARED (the shared root, i.e. the folder holding data/), else
<repo>/../shared.

Differences from the upstream documents (all additive):
  upstream_path   the file's path relative to the folder that holds it (= `file`): these files
                  have no upstream.
  generator       "Tests/Fixtures/make_parquet_fixtures.py".
  tensor_columns  tensor files only: {column: {"shape": [...], "dtype": "uint8", "extension": name}};
                  `columns` renders such a column as the flat row-major element list of each row.
  optional        as upstream: a codec Sluice may refuse with a clear "unsupported codec" error (BROTLI).

Determinism: fixed seeds, no wall-clock or random names; pyarrow writes the same bytes for the
same table and options, so --check compares byte for byte. The bytes (created_by, ARROW:schema)
and the JSON (`pyarrow_version`) change with the pyarrow version (made with 26.0.1).

TIME(MILLIS): make_expected casts time32[ms] to int64, which pyarrow cannot do; this script
renders time32 through int32 instead (same integers; see patch_time32).

Large decimals: make_expected's render_decimal quantizes in the current decimal context, whose
default precision (28 digits) cannot hold DECIMAL(38) / DECIMAL(76) values; main() raises the
context precision to 100 digits first (the rendering rule itself is unchanged).

With SLUICE_FIXTURES_WITH_RAY=1 and `ray` importable, files written by Ray itself
(ray.data.from_numpy(...).write_parquet) go to generated/parquet_ray/ with their JSON and a
ray_layout.json that records what Ray wrote. They are not deterministic (Ray names files with
UUIDs and may change its layout between versions), so --check ignores them.
"""

import argparse
import base64
import collections
import decimal
import filecmp
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent          # <repo>/Tests/Fixtures
REPO = HERE.parents[1]                          # <repo>
DEFAULT_OUT = REPO / "Tests" / "Fixtures" / "generated" / "parquet"
RAY_OUT_NAME = "parquet_ray"
GENERATOR = "Tests/Fixtures/make_parquet_fixtures.py"
MAX_FILE_BYTES = 100 * 1000
MAX_TOTAL_BYTES = 2 * 1000 * 1000
BASE_SEED = 20260611


def shared_root():
    env = os.environ.get("SLUICE_SHARED")
    root = Path(env) if env else REPO.parent / "shared"
    if not (root / "data" / "parquet-testing" / "make_expected.py").is_file():
        raise SystemExit("cannot find %s/data/parquet-testing/make_expected.py; set SLUICE_SHARED to the "
                         "shared folder (the one holding data/)" % root)
    return root


def import_make_expected():
    sys.path.insert(0, str(shared_root() / "data" / "parquet-testing"))
    try:
        import make_expected  # noqa: E402 - path set just above
    finally:
        sys.path.pop(0)
    patch_time32(make_expected)
    return make_expected


def patch_time32(me):
    """make_expected renders TIME by casting time32[ms] to int64, a cast pyarrow does not have (no
    upstream file has a readable TIME column, so it never ran). Render time32 through int32 instead:
    the same integers, as the README's rule says ("integer in the file's unit")."""
    original = me.leaf_values

    def leaf_values(arr, leaf):
        if pa.types.is_time32(arr.type):
            if leaf.get("unit") != "MILLIS":
                raise ValueError("time32 column %s is not TIME(MILLIS)" % leaf["path"])
            return arr.cast(pa.int32()).to_pylist()
        return original(arr, leaf)
    me.leaf_values = leaf_values


# --------------------------------------------------------------------------
# Fixture registry
# --------------------------------------------------------------------------

Fixture = collections.namedtuple("Fixture", "name about build optional extra")
FIXTURES = []


def fixture(name, about, optional=False, extra=None):
    """Register build(rng) -> (pa.Table, pq.write_table keyword arguments)."""
    def register(build):
        FIXTURES.append(Fixture(name, about, build, optional, extra or {}))
        return build
    return register


def rng_for(name):
    return np.random.default_rng([BASE_SEED, zlib.crc32(name.encode())])


def with_nulls(values, mask):
    """Python list with None where mask is True."""
    return [None if m else v for v, m in zip(values, mask)]


INT32_MIN, INT32_MAX = -2**31, 2**31 - 1
INT64_MIN, INT64_MAX = -2**63, 2**63 - 1

# --------------------------------------------------------------------------
# Codecs: the same small table, v1 and v2 pages, per codec
# --------------------------------------------------------------------------

WORDS = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa"]


def codec_table(rng, n=200):
    nulls = rng.random(n) < 0.1
    return pa.table({
        "id": pa.array(np.arange(n, dtype=np.int64)),
        "value": pa.array(rng.normal(size=n)),
        "word": pa.array(with_nulls([WORDS[i] for i in rng.integers(0, len(WORDS), n)], nulls)),
        "flag": pa.array(with_nulls([bool(b) for b in rng.integers(0, 2, n)], rng.random(n) < 0.2)),
        "blob": pa.array([rng.bytes(int(k)) for k in rng.integers(0, 12, n)], pa.binary()),
        "text": pa.array([" ".join(WORDS[(i + j) % 10] for j in range(i % 9)) for i in range(n)]),
    })


CODECS = [("uncompressed", "none", "UNCOMPRESSED"), ("snappy", "snappy", "SNAPPY"), ("gzip", "gzip", "GZIP"),
          ("zstd", "zstd", "ZSTD"), ("lz4_raw", "lz4", "LZ4_RAW"), ("brotli", "brotli", "BROTLI")]


def register_codecs():
    for short, pa_name, parquet_name in CODECS:
        optional = parquet_name == "BROTLI"
        for version in ("1.0", "2.0"):
            pages = "v1" if version == "1.0" else "v2"
            name = "codec_%s_%s.parquet" % (short, pages)
            about = ("%s codec, DATA_PAGE%s pages: INT64 ids, DOUBLE, dictionary strings with nulls, "
                     "BOOLEAN with nulls, BYTE_ARRAY, compressible PLAIN text (200 rows)"
                     % (parquet_name, "" if pages == "v1" else "_V2"))
            if pages == "v2" and parquet_name == "UNCOMPRESSED":
                about += "; every v2 page has is_compressed=false"
            elif pages == "v2":
                about += ("; pyarrow sets is_compressed=false on v2 pages that do not shrink, so pages of both "
                          "kinds occur")
            if optional:
                about += "; optional codec: a clear 'unsupported codec' error is acceptable"

            def build(rng, pa_name=pa_name, version=version):
                return codec_table(rng), dict(compression=pa_name, data_page_version=version,
                                              use_dictionary=["id", "value", "word", "flag", "blob"])
            fixture(name, about, optional=optional)(build)


register_codecs()

# --------------------------------------------------------------------------
# Encodings
# --------------------------------------------------------------------------


def all_physical_table(rng, n=200):
    nulls = rng.random(n) < 0.15
    ints32 = rng.integers(INT32_MIN, INT32_MAX, n, endpoint=True, dtype=np.int64)
    ints64 = rng.integers(INT64_MIN, INT64_MAX, n, endpoint=True, dtype=np.int64)
    ints32[:2] = [INT32_MIN, INT32_MAX]
    ints64[:2] = [INT64_MIN, INT64_MAX]
    strings = ["s%d-%s" % (i, "x" * int(k)) for i, k in enumerate(rng.integers(0, 9, n))]
    return pa.table({
        "bool_req": pa.array([bool(b) for b in rng.integers(0, 2, n)]),
        "int32_req": pa.array(ints32.astype(np.int32)),
        "int64_req": pa.array(ints64),
        "float_req": pa.array(rng.normal(size=n).astype(np.float32)),
        "double_req": pa.array(rng.normal(size=n) * 1e6),
        "string_req": pa.array(strings),
        "binary_req": pa.array([rng.bytes(int(k)) for k in rng.integers(0, 6, n)], pa.binary()),
        "fsb4_req": pa.array([rng.bytes(4) for _ in range(n)], pa.binary(4)),
        "bool_opt": pa.array(with_nulls([bool(b) for b in rng.integers(0, 2, n)], nulls)),
        "int32_opt": pa.array(with_nulls(ints32.astype(np.int32).tolist(), nulls), pa.int32()),
        "int64_opt": pa.array(with_nulls(ints64.tolist(), nulls), pa.int64()),
        "double_opt": pa.array(with_nulls(rng.normal(size=n).tolist(), nulls), pa.float64()),
        "string_opt": pa.array(with_nulls(strings, nulls)),
        "fsb4_opt": pa.array(with_nulls([rng.bytes(4) for _ in range(n)], nulls), pa.binary(4)),
    })


def required(table):
    """Mark every column whose name ends in _req as non-nullable (Parquet REQUIRED)."""
    fields = [f.with_nullable(not f.name.endswith("_req")) for f in table.schema]
    return table.cast(pa.schema(fields))


@fixture("enc_plain_all_physical.parquet",
         "PLAIN encoding (no dictionary), v1 pages, SNAPPY: REQUIRED and OPTIONAL (15% nulls) BOOLEAN, INT32, "
         "INT64 (incl. MIN/MAX), FLOAT, DOUBLE, STRING, BYTE_ARRAY, FIXED_LEN_BYTE_ARRAY(4)")
def _(rng):
    return required(all_physical_table(rng)), dict(use_dictionary=False)


@fixture("enc_dictionary_all_types.parquet",
         "RLE_DICTIONARY data pages + PLAIN dictionary pages, v1, SNAPPY: low-cardinality INT32, INT64, FLOAT, "
         "DOUBLE, STRING, BYTE_ARRAY, FIXED_LEN_BYTE_ARRAY(3) with nulls, one all-same column (bit width 0 "
         "indices), BOOLEAN (never dictionary-encoded: PLAIN)")
def _(rng):
    n = 300
    nulls = rng.random(n) < 0.2
    pick = rng.integers(0, 7, n)
    return pa.table({
        "int32": pa.array(with_nulls((pick * 1000 - 3000).tolist(), nulls), pa.int32()),
        "int64": pa.array(with_nulls((pick * 10**15 - 3).tolist(), nulls), pa.int64()),
        "float": pa.array(with_nulls((pick / 4).tolist(), nulls), pa.float32()),
        "double": pa.array(with_nulls((pick / 3).tolist(), nulls), pa.float64()),
        "string": pa.array(with_nulls([WORDS[i] + "✓" for i in pick], nulls)),
        "binary": pa.array(with_nulls([bytes([i, 0, 255 - i]) for i in pick], nulls), pa.binary()),
        "fsb3": pa.array(with_nulls([bytes([65 + i] * 3) for i in pick], nulls), pa.binary(3)),
        "same": pa.array(["constant"] * n),
        "bool": pa.array(with_nulls([bool(i & 1) for i in pick], nulls)),
    }), dict(use_dictionary=True)


def delta_ints(rng, n, lo, hi, dtype):
    """Columns that exercise DELTA_BINARY_PACKED: random full range (delta overflow), extremes,
    monotonic, constant, small noise, alternating MIN/MAX."""
    full = rng.integers(lo, hi, n, endpoint=True, dtype=np.int64) if dtype == np.int64 else \
        rng.integers(lo, hi, n, endpoint=True, dtype=np.int64).astype(dtype)
    full[:4] = [lo, hi, lo, hi]
    full[-3:] = [hi, lo, 0]
    alternating = np.where(np.arange(n) % 2 == 0, lo, hi).astype(dtype)
    mono = (np.arange(n, dtype=np.int64) * 7 + 1000).astype(dtype)
    descending = (np.int64(10**6) - np.arange(n, dtype=np.int64) * 13).astype(dtype)
    small = rng.integers(-3, 4, n).astype(dtype)
    const = np.full(n, 42, dtype=dtype)
    mixed_bits = (rng.integers(0, 2, n) * rng.integers(0, 2**20, n)).astype(dtype)   # many zero deltas
    return full, alternating, mono, descending, small, const, mixed_bits


def delta_table(rng, n, lo, hi, dtype, arrow_type):
    full, alternating, mono, descending, small, const, mixed_bits = delta_ints(rng, n, lo, hi, dtype)
    nulls = rng.random(n) < 0.25
    return pa.table({
        "random_full_range": pa.array(full, arrow_type),
        "alternating_min_max": pa.array(alternating, arrow_type),
        "increasing": pa.array(mono, arrow_type),
        "decreasing": pa.array(descending, arrow_type),
        "small_noise": pa.array(small, arrow_type),
        "constant": pa.array(const, arrow_type),
        "mixed_bit_widths": pa.array(mixed_bits, arrow_type),
        "with_nulls": pa.array(with_nulls(full.tolist(), nulls), arrow_type),
        "single_value": pa.array([None] * (n - 1) + [int(hi)], arrow_type),
    })


def delta_encoding(table, encoding):
    return {name: encoding for name in table.column_names}


@fixture("enc_delta_binary_packed_int32.parquet",
         "DELTA_BINARY_PACKED INT32, v1 pages: 301 values (not a multiple of the 128-value block): random "
         "full range incl. INT32_MIN/MAX (deltas overflow 32 bits), alternating MIN/MAX, increasing, decreasing, "
         "small noise, constant (bit width 0), mixed widths, 25% nulls, a page with one non-null value")
def _(rng):
    t = delta_table(rng, 301, INT32_MIN, INT32_MAX, np.int32, pa.int32())
    return t, dict(use_dictionary=False, column_encoding=delta_encoding(t, "DELTA_BINARY_PACKED"))


@fixture("enc_delta_binary_packed_int64.parquet",
         "DELTA_BINARY_PACKED INT64, v2 pages, several pages per column (data_page_size 512): random full "
         "range incl. INT64_MIN/MAX (deltas overflow 64 bits), alternating MIN/MAX, increasing, decreasing, small "
         "noise, constant, mixed widths, 25% nulls, a column with one non-null value")
def _(rng):
    t = delta_table(rng, 301, INT64_MIN, INT64_MAX, np.int64, pa.int64())
    return t, dict(use_dictionary=False, column_encoding=delta_encoding(t, "DELTA_BINARY_PACKED"),
                   data_page_version="2.0", data_page_size=512, write_batch_size=64)


def text_samples(rng, n):
    pool = ["", "a", "hello", "naïve café", "日本語テキスト", "emoji 🦀🚀", "Ω≈ç√∫", "x" * 40,
            "tab\tnewline\n", "zero\x00byte", "Ελληνικά", "עברית"]
    return [pool[i] if i < len(pool) else "w%d" % i for i in rng.integers(0, len(pool) + 6, n)]


@fixture("enc_delta_length_byte_array.parquet",
         "DELTA_LENGTH_BYTE_ARRAY, v1 pages: STRING (empty, non-ASCII, embedded NUL), nulls, BYTE_ARRAY of random "
         "bytes, a REQUIRED column of lengths 0..199")
def _(rng):
    n = 200
    nulls = rng.random(n) < 0.2
    t = pa.table({
        "text": pa.array(with_nulls(text_samples(rng, n), nulls)),
        "bytes": pa.array(with_nulls([rng.bytes(int(k)) for k in rng.integers(0, 20, n)], nulls), pa.binary()),
        "growing_req": pa.array(["y" * i for i in range(n)]),
    })
    t = t.cast(pa.schema([t.schema.field(0), t.schema.field(1), t.schema.field(2).with_nullable(False)]))
    return t, dict(use_dictionary=False, column_encoding=delta_encoding(t, "DELTA_LENGTH_BYTE_ARRAY"))


@fixture("enc_delta_byte_array.parquet",
         "DELTA_BYTE_ARRAY (prefix sharing), v2 pages, several pages: sorted URLs with long shared prefixes, "
         "random strings, non-ASCII with shared multi-byte prefixes, nulls, BYTE_ARRAY, FIXED_LEN_BYTE_ARRAY(6)")
def _(rng):
    n = 240
    nulls = rng.random(n) < 0.15
    urls = sorted("https://example.com/datasets/images/%s/%05d.jpg" % (WORDS[int(rng.integers(0, 4))], int(k))
                  for k in rng.integers(0, 100000, n))
    prefix_text = ["日本語/%s/%d" % (WORDS[i % 3], i) for i in range(n)]
    t = pa.table({
        "urls": pa.array(urls),
        "urls_nulls": pa.array(with_nulls(urls, nulls)),
        "random": pa.array(text_samples(rng, n)),
        "non_ascii_prefix": pa.array(prefix_text),
        "binary": pa.array([b"\x00\x01prefix" + bytes([i % 256]) * (i % 5) for i in range(n)], pa.binary()),
        "fsb6": pa.array(with_nulls([b"key" + b"%03d" % (i // 3) for i in range(n)], nulls), pa.binary(6)),
    })
    return t, dict(use_dictionary=False, column_encoding=delta_encoding(t, "DELTA_BYTE_ARRAY"),
                   data_page_version="2.0", data_page_size=512, write_batch_size=50)


def bss_table(rng, n=150):
    nulls = rng.random(n) < 0.2
    f32 = rng.normal(size=n).astype(np.float32)
    f32[:5] = [np.nan, np.inf, -np.inf, -0.0, np.finfo(np.float32).max]
    f64 = rng.normal(size=n) * 1e9
    f64[:5] = [np.nan, np.inf, -np.inf, -0.0, 5e-324]
    f16 = rng.normal(size=n).astype(np.float16)
    f16[:5] = [np.nan, np.inf, -np.inf, -0.0, np.float16(6e-8)]
    i32 = rng.integers(INT32_MIN, INT32_MAX, n, endpoint=True, dtype=np.int64).astype(np.int32)
    i64 = rng.integers(INT64_MIN, INT64_MAX, n, endpoint=True, dtype=np.int64)
    dec = [decimal.Decimal(int(v)).scaleb(-3) for v in rng.integers(-9999999, 9999999, n)]
    return pa.table({
        "float": pa.array(f32),
        "double": pa.array(f64),
        "float16": pa.array(f16),
        "int32": pa.array(i32),
        "int64": pa.array(i64),
        "fsb5": pa.array([rng.bytes(5) for _ in range(n)], pa.binary(5)),
        "decimal_7_3": pa.array(dec, pa.decimal128(7, 3)),
        "float_nulls": pa.array(with_nulls(f32.tolist(), nulls), pa.float32()),
        "int64_nulls": pa.array(with_nulls(i64.tolist(), nulls), pa.int64()),
        "fsb5_nulls": pa.array(with_nulls([rng.bytes(5) for _ in range(n)], nulls), pa.binary(5)),
    })


@fixture("enc_byte_stream_split.parquet",
         "BYTE_STREAM_SPLIT, v1 pages, SNAPPY: FLOAT, DOUBLE (NaN, +-inf, -0.0, extremes), FLOAT16, INT32, INT64, "
         "FIXED_LEN_BYTE_ARRAY(5), DECIMAL(7,3) in FLBA(4); FLOAT/INT64/FLBA with 20% nulls; 150 rows")
def _(rng):
    t = bss_table(rng)
    return t, dict(use_dictionary=False, column_encoding=delta_encoding(t, "BYTE_STREAM_SPLIT"))


@fixture("enc_byte_stream_split_v2_zstd.parquet",
         "BYTE_STREAM_SPLIT, v2 pages, ZSTD, several pages per column (data_page_size 512): same kinds of "
         "columns as enc_byte_stream_split")
def _(rng):
    t = bss_table(rng)
    return t, dict(use_dictionary=False, column_encoding=delta_encoding(t, "BYTE_STREAM_SPLIT"),
                   compression="zstd", data_page_version="2.0", data_page_size=512, write_batch_size=64)


def boolean_table(rng, n=600):
    runs = np.repeat(rng.integers(0, 2, 12).astype(bool), 50)
    return pa.table({
        "long_runs": pa.array(runs[:n]),
        "alternating": pa.array(np.arange(n) % 2 == 0),
        "random": pa.array(rng.integers(0, 2, n).astype(bool)),
        "all_true": pa.array(np.ones(n, dtype=bool)),
        "with_nulls": pa.array(with_nulls(rng.integers(0, 2, n).astype(bool).tolist(), rng.random(n) < 0.3)),
    })


@fixture("enc_rle_boolean_v2.parquet",
         "BOOLEAN values with the RLE encoding (length-prefixed RLE/bit-packed hybrid, bit width 1) in DATA_PAGE_V2 "
         "pages, SNAPPY: long runs, alternating, random, all true, 30% nulls; several pages")
def _(rng):
    t = boolean_table(rng)
    return t, dict(use_dictionary=False, column_encoding=delta_encoding(t, "RLE"), data_page_version="2.0",
                   data_page_size=32, write_batch_size=150)


@fixture("enc_rle_boolean_v1.parquet",
         "BOOLEAN values with the RLE encoding in v1 DATA_PAGE pages (legal, rarer than v2): same columns as "
         "enc_rle_boolean_v2")
def _(rng):
    t = boolean_table(rng)
    return t, dict(use_dictionary=False, column_encoding=delta_encoding(t, "RLE"), data_page_version="1.0")

# --------------------------------------------------------------------------
# Pages and row groups
# --------------------------------------------------------------------------


def paging_table(rng, n, nullable):
    nulls = rng.random(n) < (0.3 if nullable else 0.0)
    t = pa.table({
        "id": pa.array(np.arange(n, dtype=np.int64)),
        "value": pa.array(with_nulls(rng.normal(size=n).tolist(), nulls), pa.float64()),
        "word": pa.array(with_nulls(["%s-%d" % (WORDS[i % 10], i % 37) for i in range(n)], nulls)),
        "small": pa.array(with_nulls(rng.integers(-100, 100, n).tolist(), nulls), pa.int32()),
    })
    if not nullable:
        t = t.cast(pa.schema([f.with_nullable(False) for f in t.schema]))
    return t


def register_paging():
    for version in ("1.0", "2.0"):
        pages = "v1" if version == "1.0" else "v2"
        for nullable in (False, True):
            kind = "optional_nulls" if nullable else "required"
            name = "pages_%s_%s.parquet" % (pages, kind)
            about = ("DATA_PAGE%s pages, %s columns (INT64 ids, DOUBLE, dictionary STRING, INT32): 900 rows in "
                     "3 row groups of 300, each column chunk split into several small pages (data_page_size 512)"
                     % ("" if pages == "v1" else "_V2",
                        "OPTIONAL with 30% nulls" if nullable else "REQUIRED (no definition levels)"))

            def build(rng, version=version, nullable=nullable):
                return paging_table(rng, 900, nullable), dict(
                    data_page_version=version, data_page_size=512, write_batch_size=50, row_group_size=300)
            fixture(name, about)(build)


register_paging()


def fallback_table(rng, n=800):
    nulls = rng.random(n) < 0.1
    # few distinct values first, then ever new ones: the dictionary overflows part-way through
    words = ["w%02d" % (i % 20) if i < 200 else "unique-%06d-%s" % (i, "z" * int(i % 7)) for i in range(n)]
    ints = [i % 10 if i < 200 else int(v) for i, v in enumerate(rng.integers(0, 2**40, n))]
    return pa.table({
        "word": pa.array(with_nulls(words, nulls)),
        "number": pa.array(with_nulls(ints, nulls), pa.int64()),
    })


@fixture("pages_dictionary_fallback_v1.parquet",
         "dictionary fallback mid-column, v1 pages: a small dictionary page limit (512 bytes) makes pyarrow "
         "switch from RLE_DICTIONARY pages to PLAIN pages part-way through each STRING/INT64 column chunk; nulls")
def _(rng):
    return fallback_table(rng), dict(dictionary_pagesize_limit=512, data_page_size=1024, write_batch_size=100)


@fixture("pages_dictionary_fallback_v2.parquet",
         "dictionary fallback mid-column, DATA_PAGE_V2 pages, ZSTD: RLE_DICTIONARY pages then PLAIN pages in the "
         "same chunk; nulls")
def _(rng):
    return fallback_table(rng), dict(dictionary_pagesize_limit=512, data_page_size=1024, write_batch_size=100,
                                     data_page_version="2.0", compression="zstd")


@fixture("pages_crc_page_index.parquet",
         "page CRC32 on every page (write_page_checksum) and a column/offset index (write_page_index), v1 pages, "
         "2 row groups, several pages per chunk, nulls; crc_check is 'pass'")
def _(rng):
    return paging_table(rng, 400, True), dict(write_page_checksum=True, write_page_index=True,
                                                data_page_size=512, write_batch_size=50, row_group_size=200)


@fixture("edge_zero_rows.parquet", "zero rows: schema with INT64, STRING and list<INT32> columns, no values")
def _(rng):
    return pa.table({"id": pa.array([], pa.int64()), "s": pa.array([], pa.string()),
                     "l": pa.array([], pa.list_(pa.int32()))}), {}


@fixture("edge_all_nulls.parquet",
         "OPTIONAL columns that are null in every row (INT32, STRING, DOUBLE, list<INT64>, struct): data pages with "
         "definition levels only; a dictionary page with no entries where the column is dictionary-encoded")
def _(rng):
    n = 50
    return pa.table({
        "int32": pa.array([None] * n, pa.int32()),
        "string": pa.array([None] * n, pa.string()),
        "double": pa.array([None] * n, pa.float64()),
        "list": pa.array([None] * n, pa.list_(pa.int64())),
        "struct": pa.array([None] * n, pa.struct([("a", pa.int32())])),
    }), {}

# --------------------------------------------------------------------------
# Physical and logical types
# --------------------------------------------------------------------------


@fixture("types_integers.parquet",
         "INTEGER logical types: int8/16/32/64 (MIN, MAX, -1, 0) and uint8/16/32/64 (0, MAX, MAX-1, 2^(w-1)) "
         "stored as INT32/INT64 with INTEGER(bit_width, signed) annotations; nulls")
def _(rng):
    cols = {}
    for bits in (8, 16, 32, 64):
        lo, hi = -2**(bits - 1), 2**(bits - 1) - 1
        vals = [lo, hi, -1, 0, 1, None] + rng.integers(lo, hi, 14, endpoint=True, dtype=np.int64).tolist()
        cols["int%d" % bits] = pa.array(vals, getattr(pa, "int%d" % bits)())
        umax = 2**bits - 1
        uvals = [0, umax, umax - 1, 2**(bits - 1), 1, None] + \
            [int(v) for v in rng.integers(0, umax, 14, endpoint=True, dtype=np.uint64)]
        cols["uint%d" % bits] = pa.array(uvals, getattr(pa, "uint%d" % bits)())
    return pa.table(cols), {}


@fixture("types_floats.parquet",
         "FLOAT16 (FIXED_LEN_BYTE_ARRAY(2)), FLOAT, DOUBLE: NaN, +-inf, -0.0, +0.0, smallest subnormal, largest "
         "finite, 1.1 (inexact), random values, nulls; dictionary-encoded and PLAIN copies")
def _(rng):
    def column(dtype, n=24):
        info = np.finfo(dtype)
        special = [np.nan, np.inf, -np.inf, -0.0, 0.0, info.smallest_subnormal, -info.smallest_subnormal,
                   info.max, info.min, info.tiny, 1.1, -2.5]
        vals = np.array(special + rng.normal(size=n - len(special)).tolist(), dtype=dtype)
        return vals, [None if i % 7 == 6 else float(v) for i, v in enumerate(vals)]
    cols = {}
    for name, dtype, typ in (("float16", np.float16, pa.float16()), ("float32", np.float32, pa.float32()),
                             ("float64", np.float64, pa.float64())):
        vals, with_null = column(dtype)
        cols[name] = pa.array(vals, typ)
        cols[name + "_plain_nulls"] = pa.array(np.array([np.nan if v is None else v for v in with_null], dtype),
                                               typ, mask=np.array([v is None for v in with_null]))
    t = pa.table(cols)
    plain = [c for c in t.column_names if c.endswith("_plain_nulls")]
    return t, dict(use_dictionary=[c for c in t.column_names if c not in plain])


@fixture("types_decimal_flba.parquet",
         "DECIMAL in FIXED_LEN_BYTE_ARRAY (pyarrow's default): decimal128(5,2), (18,4), (38,10) and decimal256(40,5), "
         "(76,20), (76,0): zero, +-1 ulp, negative, largest magnitudes, nulls")
def _(rng):
    def values(p, s, n=12):
        big = 10**p - 1
        ints = [0, 1, -1, big, -big, 10**(p // 2), -(10**(p - 1)) - 7, None]
        ints += [int(v) * (10**max(0, p - 18)) for v in rng.integers(-10**min(p, 18) + 1, 10**min(p, 18) - 1,
                                                                        n - len(ints), dtype=np.int64)]
        return [None if v is None else decimal.Decimal(v).scaleb(-s) for v in ints]
    cols = {}
    for p, s in ((5, 2), (18, 4), (38, 10)):
        cols["d128_%d_%d" % (p, s)] = pa.array(values(p, s), pa.decimal128(p, s))
    for p, s in ((40, 5), (76, 20), (76, 0)):
        cols["d256_%d_%d" % (p, s)] = pa.array(values(p, s), pa.decimal256(p, s))
    return pa.table(cols), {}


@fixture("types_decimal_int32_int64.parquet",
         "DECIMAL stored as INT32 (precision <= 9) and INT64 (precision <= 18) via store_decimal_as_integer: "
         "decimal(4,2), (9,0), (9,9), (18,3), negative, extremes, nulls")
def _(rng):
    cols = {}
    for p, s in ((4, 2), (9, 0), (9, 9), (18, 3)):
        big = 10**p - 1
        ints = [0, 1, -1, big, -big, None, 12345 % (big + 1), -(10**(p - 1))]
        cols["dec_%d_%d" % (p, s)] = pa.array([None if v is None else decimal.Decimal(v).scaleb(-s) for v in ints],
                                              pa.decimal128(p, s))
    return pa.table(cols), dict(store_decimal_as_integer=True)


@fixture("types_temporal.parquet",
         "DATE (date32; date64 written as DATE too), TIME(MILLIS) INT32, TIME(MICROS/NANOS) INT64, TIMESTAMP "
         "MILLIS/MICROS/NANOS with and without time zone (is_adjusted_to_utc), timestamp[s] (written as MILLIS); "
         "values before 1970, far future, nulls")
def _(rng):
    days = [0, -1, 19000, -719162, 2932896, None, 18628]
    ms_of_day = [0, 1, 86399999, 43200000, None, 1234, 3600000]
    t = pa.table({
        "date32": pa.array(days, pa.date32()),
        "date64": pa.array([None if d is None else d * 86400000 for d in days], pa.date64()),
        "time32_ms": pa.array(ms_of_day, pa.time32("ms")),
        "time64_us": pa.array([None if v is None else v * 1000 + 7 for v in ms_of_day], pa.time64("us")),
        "time64_ns": pa.array([None if v is None else v * 1000000 + 999 for v in ms_of_day], pa.time64("ns")),
        "ts_s": pa.array([0, -1, 1700000000, 253402300799, None, -62135596800, 86400], pa.timestamp("s")),
        "ts_ms": pa.array([0, -1, 1700000000123, 253402300799999, None, 1, 86400000], pa.timestamp("ms")),
        "ts_us": pa.array([0, -1, 1700000000123456, 253402300799999999, None, 1, 86400000000], pa.timestamp("us")),
        "ts_ns": pa.array([0, -1, 1700000000123456789, INT64_MAX, None, INT64_MIN + 1, 1], pa.timestamp("ns")),
        "ts_ms_utc": pa.array([0, -1, 1700000000123, 1, None, 2, 3], pa.timestamp("ms", tz="UTC")),
        "ts_us_tz": pa.array([0, -1, 1700000000123456, 1, None, 2, 3], pa.timestamp("us", tz="Europe/Paris")),
        "ts_ns_utc": pa.array([0, -1, 1700000000123456789, 1, None, 2, 3], pa.timestamp("ns", tz="UTC")),
        "ts_s_offset_tz": pa.array([0, -1, 1700000000, 1, None, 2, 3], pa.timestamp("s", tz="+05:30")),
    })
    return t, {}


@fixture("types_int96_timestamp.parquet",
         "INT96 timestamps (use_deprecated_int96_timestamps), dictionary and PLAIN: 1970, before 1970, microsecond "
         "precision, year 9999 (beyond Int64 nanoseconds: see the README's INT96 notes), year 1, nulls")
def _(rng):
    # written from microseconds so that years outside 1677..2262 are possible
    vals = [0, -1, 1700000000123456, 253402300799999999, None, -62135596800000000, 123]
    t = pa.table({"ts_int96": pa.array(vals, pa.timestamp("us")),
                  "ts_int96_plain": pa.array(vals, pa.timestamp("us"))})
    return t, dict(use_deprecated_int96_timestamps=True, use_dictionary=["ts_int96"])


@fixture("types_strings_binary.parquet",
         "STRING (non-ASCII: accents, CJK, emoji, RTL, embedded NUL; empty), BYTE_ARRAY (0x00..0xff, empty), "
         "FIXED_LEN_BYTE_ARRAY(3), large_string and large_binary (same Parquet types), nulls; dictionary and PLAIN")
def _(rng):
    text = ["", "ascii", "naïve café", "日本語", "emoji 🦀🚀👍🏽", "עברית", "zero\x00byte", None, "x" * 100, "Ω"]
    binary = [b"", bytes(range(256)), b"\x00", b"\xff\xfe", None, b"plain", rng.bytes(7), b"\x80", b"a", b"b"]
    fsb = [b"abc", b"\x00\x00\x00", b"\xff\xff\xff", None, b"xyz", b"123", b"\x01\x02\x03", b"   ", b"a\x00b",
           b"zzz"]
    t = pa.table({
        "string": pa.array(text, pa.string()),
        "binary": pa.array(binary, pa.binary()),
        "fsb3": pa.array(fsb, pa.binary(3)),
        "large_string": pa.array(text, pa.large_string()),
        "large_binary": pa.array(binary, pa.large_binary()),
        "string_plain": pa.array(text, pa.string()),
    })
    return t, dict(use_dictionary=["string", "binary", "fsb3", "large_string", "large_binary"])


@fixture("types_null_column.parquet",
         "Arrow null type: an OPTIONAL INT32 column with the UNKNOWN (Null) logical type, every value null, next "
         "to an INT32 column")
def _(rng):
    return pa.table({"nothing": pa.array([None] * 5, pa.null()), "n": pa.array([1, 2, 3, 4, 5], pa.int32())}), {}

# --------------------------------------------------------------------------
# Nesting
# --------------------------------------------------------------------------


@fixture("nested_struct.parquet",
         "struct<a: int32, b: string, c: struct<d: double, e: list<int32>>> with nulls at the struct, field and "
         "inner-struct level; a struct with REQUIRED fields inside an OPTIONAL struct; a REQUIRED struct")
def _(rng):
    inner = pa.struct([("d", pa.float64()), ("e", pa.list_(pa.int32()))])
    s = pa.struct([("a", pa.int32()), ("b", pa.string()), ("c", inner)])
    rows = [
        {"a": 1, "b": "one", "c": {"d": 1.5, "e": [1, 2]}},
        None,
        {"a": None, "b": "no a", "c": None},
        {"a": 4, "b": None, "c": {"d": None, "e": None}},
        {"a": 5, "b": "five", "c": {"d": -0.0, "e": []}},
        {"a": None, "b": None, "c": {"d": None, "e": [None]}},
    ]
    req_inner = pa.struct([pa.field("x", pa.int64(), nullable=False), pa.field("y", pa.string(), nullable=False)])
    req_rows = [{"x": 1, "y": "a"}, None, {"x": 3, "y": ""}, {"x": -4, "y": "d"}, None, {"x": 6, "y": "f"}]
    schema = pa.schema([pa.field("s", s), pa.field("opt_struct_req_fields", req_inner),
                        pa.field("req_struct", pa.struct([("v", pa.int32())]), nullable=False)])
    t = pa.table({"s": pa.array(rows, s), "opt_struct_req_fields": pa.array(req_rows, req_inner),
                  "req_struct": pa.array([{"v": i if i % 3 else None} for i in range(6)],
                                         pa.struct([("v", pa.int32())]))}, schema=schema)
    return t, {}


@fixture("nested_list_int.parquet",
         "list<int32> with null lists, empty lists, null elements; a list whose elements are REQUIRED; a REQUIRED "
         "list; list<int64> dictionary-encoded; 3-level LIST ('list'/'element')")
def _(rng):
    rows = [[1, 2, 3], None, [], [None], [4, None, 5], [], None, [6], [INT32_MIN, INT32_MAX], [None, None]]
    req_elem = pa.list_(pa.field("element", pa.int32(), nullable=False))
    req_rows = [[1], [], None, [2, 3], [4, 5, 6], None, [], [7], [8, 9], [10]]
    schema = pa.schema([pa.field("l", pa.list_(pa.int32())), pa.field("l_req_elements", req_elem),
                        pa.field("l_required", pa.list_(pa.int32()), nullable=False),
                        pa.field("l_dict", pa.list_(pa.int64()))])
    t = pa.table({
        "l": pa.array(rows, pa.list_(pa.int32())),
        "l_req_elements": pa.array(req_rows, req_elem),
        "l_required": pa.array([[i] * (i % 3) for i in range(10)], pa.list_(pa.int32())),
        "l_dict": pa.array([[i % 2, 7] if i % 4 else None for i in range(10)], pa.list_(pa.int64())),
    }, schema=schema)
    return t, {}


@fixture("nested_list_list_string.parquet",
         "list<list<string>>: null outer lists, empty outer lists, null and empty inner lists, null strings, "
         "non-ASCII (max repetition level 2, max definition level 5)")
def _(rng):
    rows = [[["a", "b"], ["c"]], None, [], [None], [[]], [["d", None], None, [], ["é", "日本"]],
            [[None]], [["x"] * 3, ["y"]]]
    return pa.table({"ll": pa.array(rows, pa.list_(pa.list_(pa.string())))}), {}


@fixture("nested_list_struct.parquet",
         "list<struct<x: int32, y: string>>: null lists, empty lists, null structs, null fields")
def _(rng):
    typ = pa.list_(pa.struct([("x", pa.int32()), ("y", pa.string())]))
    rows = [[{"x": 1, "y": "a"}, {"x": 2, "y": "b"}], None, [], [None], [{"x": None, "y": "c"}, None,
                                                                        {"x": 3, "y": None}], [{"x": 4, "y": "d"}]]
    return pa.table({"ls": pa.array(rows, typ)}), {}


@fixture("nested_struct_list.parquet",
         "struct<id: int64, tags: list<string>, scores: list<double>>: null struct, null/empty lists inside")
def _(rng):
    typ = pa.struct([("id", pa.int64()), ("tags", pa.list_(pa.string())), ("scores", pa.list_(pa.float64()))])
    rows = [{"id": 1, "tags": ["a", "b"], "scores": [1.0]}, None, {"id": 2, "tags": None, "scores": []},
            {"id": None, "tags": [], "scores": [None, 2.5]}, {"id": 3, "tags": [None], "scores": None}]
    return pa.table({"sl": pa.array(rows, typ)}), {}


@fixture("nested_map_string_int.parquet",
         "map<string, int32> (MAP / key_value / key REQUIRED, value OPTIONAL): null maps, empty maps, null values, "
         "repeated keys across rows; map<string, list<int32>>")
def _(rng):
    rows = [[("a", 1), ("b", 2)], None, [], [("c", None)], [("a", 3), ("d", 4), ("é", 5)], [("z", -1)]]
    mlist = pa.map_(pa.string(), pa.list_(pa.int32()))
    rows2 = [[("k", [1, 2])], [], None, [("k", None), ("j", [])], [("x", [None])], None]
    return pa.table({"m": pa.array(rows, pa.map_(pa.string(), pa.int32())), "m_list": pa.array(rows2, mlist)}), {}


@fixture("nested_fixed_size_list.parquet",
         "fixed_size_list<int32, 3> and fixed_size_list<float, 2> (written as 3-level LISTs; pyarrow restores the "
         "fixed size from ARROW:schema): null rows, null elements")
def _(rng):
    return pa.table({
        "fsl3": pa.array([[1, 2, 3], None, [4, None, 6], [7, 8, 9]], pa.list_(pa.int32(), 3)),
        "fsl2_float": pa.array([[0.5, 1.5], [None, -1.0], None, [2.0, 3.0]], pa.list_(pa.float32(), 2)),
    }), {}


@fixture("nested_large_list.parquet",
         "large_list<int64> and large_list<large_string> (64-bit offsets in Arrow; same Parquet LIST layout)")
def _(rng):
    return pa.table({
        "ll": pa.array([[1, 2], None, [], [None, 3]], pa.large_list(pa.int64())),
        "lls": pa.array([["a"], [], None, ["b", None, "ü"]], pa.large_list(pa.large_string())),
    }), {}


@fixture("nested_list_item_naming.parquet",
         "3-level LISTs written with use_compliant_nested_type=False: the element field is named 'item' (pyarrow "
         "cannot write the legacy 2-level form; see upstream old_list_structure.parquet for that)")
def _(rng):
    return pa.table({
        "l": pa.array([[1, 2], None, [], [None]], pa.list_(pa.int32())),
        "ll": pa.array([[["a"]], [[], None], None, [["b", None]]], pa.list_(pa.list_(pa.string()))),
    }), dict(use_compliant_nested_type=False)


def multipage_list_table(rng, n=400):
    lengths = rng.integers(0, 12, n)
    rows = []
    for i, k in enumerate(lengths):
        if i % 17 == 5:
            rows.append(None)
        else:
            vals = rng.integers(-1000, 1000, int(k)).tolist()
            rows.append([None if j % 9 == 4 else v for j, v in enumerate(vals)])
    return pa.table({"id": pa.array(np.arange(n, dtype=np.int32)), "l": pa.array(rows, pa.list_(pa.int32()))})


@fixture("nested_list_multipage_v1.parquet",
         "list<int32> (0..11 elements, null lists, null elements) in many small v1 pages and 2 row groups, PLAIN "
         "(pyarrow 26 starts every page at a row boundary even in v1, so no row spans two pages here)")
def _(rng):
    return multipage_list_table(rng), dict(use_dictionary=False, data_page_size=256, write_batch_size=7,
                                           row_group_size=200)


@fixture("nested_list_multipage_v2.parquet",
         "list<int32> in many small DATA_PAGE_V2 pages (v2 pages must start at a row boundary), 2 row groups, "
         "dictionary-encoded")
def _(rng):
    return multipage_list_table(rng), dict(data_page_size=256, write_batch_size=7, row_group_size=200,
                                           data_page_version="2.0")

# --------------------------------------------------------------------------
# Tensor columns (Ray Data layout, Arrow canonical fixed_shape_tensor)
# --------------------------------------------------------------------------

RAY_V1 = "ray.data.arrow_tensor"
RAY_V2 = "ray.data.arrow_tensor_v2"


def ray_tensor_field(name, storage_type, extension, shape):
    """The field Ray writes for ArrowTensorType(V2): storage list plus the IPC extension keys.
    Key order metadata-then-name makes ARROW:schema byte-identical to what Ray 2.60 writes (checked:
    the whole file equals Ray's for the same array); readers must not depend on the order."""
    return pa.field(name, storage_type, metadata={
        b"ARROW:extension:metadata": json.dumps(list(shape)).encode(),   # Ray: json.dumps(shape) -> b"[4, 4, 3]"
        b"ARROW:extension:name": extension.encode(),
    })


def tensor_array(values, shape, rows, list_type, null_rows=()):
    """rows tensors of `shape` from the flat `values`; list offsets, null rows carry no values."""
    per_row = int(np.prod(shape))
    offsets = [0]
    mask = []
    for r in range(rows):
        is_null = r in null_rows
        offsets.append(offsets[-1] + (0 if is_null else per_row))
        mask.append(is_null)
    offsets_type = pa.int64() if pa.types.is_large_list(list_type) else pa.int32()
    arr_cls = pa.LargeListArray if pa.types.is_large_list(list_type) else pa.ListArray
    return arr_cls.from_arrays(pa.array(offsets, offsets_type), pa.array(values[:offsets[-1]]),
                               type=list_type, mask=pa.array(mask) if null_rows else None)


def tensor_extra(column, shape, dtype, extension):
    return {"tensor_columns": {column: {"shape": list(shape), "dtype": dtype, "extension": extension}}}


SHAPE = (4, 4, 3)
TENSOR_ROWS = 20
TENSOR_WRITE = dict(compression="snappy", use_dictionary=True, row_group_size=10, data_page_size=128,
                    write_batch_size=48)


def ray_uint8_table(rng, extension, list_type):
    values = rng.integers(0, 256, TENSOR_ROWS * 48, dtype=np.uint8)
    field = ray_tensor_field("image", list_type, extension, SHAPE)
    arr = tensor_array(values, SHAPE, TENSOR_ROWS, list_type)
    label = pa.array(np.arange(TENSOR_ROWS, dtype=np.int64) % 3)
    return pa.Table.from_arrays([arr, label], schema=pa.schema([field, pa.field("label", pa.int64())]))


@fixture("tensor_ray_v1_uint8.parquet",
         "Ray Data tensor layout (ArrowTensorType): column image = list<uint8> whose field carries "
         "ARROW:extension:name 'ray.data.arrow_tensor' and ARROW:extension:metadata '[4, 4, 3]' (in ARROW:schema); "
         "20 rows of random uint8 [4,4,3], RLE_DICTIONARY, SNAPPY, 2 row groups of 10, several v1 pages per chunk; "
         "plus an INT64 label",
         extra=tensor_extra("image", SHAPE, "uint8", RAY_V1))
def _(rng):
    return ray_uint8_table(rng, RAY_V1, pa.list_(pa.uint8())), dict(TENSOR_WRITE)


@fixture("tensor_ray_v2_uint8.parquet",
         "Ray Data tensor layout V2 (ArrowTensorTypeV2, Ray's default): image = large_list<uint8> with "
         "ARROW:extension:name 'ray.data.arrow_tensor_v2', metadata '[4, 4, 3]'; otherwise as tensor_ray_v1_uint8",
         extra=tensor_extra("image", SHAPE, "uint8", RAY_V2))
def _(rng):
    return ray_uint8_table(rng, RAY_V2, pa.large_list(pa.uint8())), dict(TENSOR_WRITE)


@fixture("tensor_arrow_fixed_shape_uint8.parquet",
         "Arrow canonical extension arrow.fixed_shape_tensor(uint8, [4,4,3]) (storage fixed_size_list<uint8, 48>, "
         "written as a 3-level LIST), 20 rows, dictionary, SNAPPY, 2 row groups, several pages",
         extra=tensor_extra("image", SHAPE, "uint8", "arrow.fixed_shape_tensor"))
def _(rng):
    values = rng.integers(0, 256, (TENSOR_ROWS,) + SHAPE, dtype=np.uint8)
    return pa.table({"image": pa.FixedShapeTensorArray.from_numpy_ndarray(values)}), dict(TENSOR_WRITE)


@fixture("tensor_ray_v2_float32.parquet",
         "Ray tensor layout V2 with float32 elements: image = large_list<float> of shape [2, 3, 4], "
         "'ray.data.arrow_tensor_v2'; 12 rows, PLAIN (no dictionary), SNAPPY, v1 pages",
         extra=tensor_extra("image", (2, 3, 4), "float32", RAY_V2))
def _(rng):
    shape = (2, 3, 4)
    rows = 12
    values = rng.normal(size=rows * 24).astype(np.float32)
    typ = pa.large_list(pa.float32())
    arr = tensor_array(values, shape, rows, typ)
    return pa.Table.from_arrays([arr], schema=pa.schema([ray_tensor_field("image", typ, RAY_V2, shape)])), \
        dict(use_dictionary=False, compression="snappy")


@fixture("tensor_ray_v1_uint8_null_row.parquet",
         "Ray tensor layout (ray.data.arrow_tensor, list<uint8>, [4,4,3]) where rows 3 and 7 are null (no values; "
         "definition level 0 for the row), 10 rows, dictionary, SNAPPY",
         extra=tensor_extra("image", SHAPE, "uint8", RAY_V1))
def _(rng):
    rows = 10
    values = rng.integers(0, 256, rows * 48, dtype=np.uint8)
    typ = pa.list_(pa.uint8())
    arr = tensor_array(values, SHAPE, rows, typ, null_rows=(3, 7))
    return pa.Table.from_arrays([arr], schema=pa.schema([ray_tensor_field("image", typ, RAY_V1, SHAPE)])), \
        dict(compression="snappy")

# --------------------------------------------------------------------------
# Hugging Face-style image column
# --------------------------------------------------------------------------

HF_IMAGES = ["photo-hopper.jpg", "jpeg-tiny-21x32-mona-lisa.jpg", "png-rgba-hippopotamus-36x28.png",
             "png-suite-basn2c08.png", "jpeg-444-hippopotamus-36x28.jpg"]


def hf_image_bytes():
    folder = shared_root() / "data" / "images"
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    known = {e["name"]: e for e in manifest["images"]}
    out = []
    for name in HF_IMAGES:
        entry = known.get(name)
        data = (folder / name).read_bytes()
        if entry is None or entry.get("expect_error") or len(data) > 30000 or \
                hashlib.sha256(data).hexdigest() != entry["sha256"]:
            raise SystemExit("shared image %s is missing, broken or changed" % name)
        out.append((name, data))
    return out


@fixture("hf_image_struct.parquet",
         "Hugging Face datasets Image layout: image = struct<bytes: binary, path: string> holding real small JPEG/PNG "
         "files (from shared/data/images), one row with path null, one null image; image_bytes = the same bytes as "
         "plain BYTE_ARRAY; int64 label; 'huggingface' schema metadata; PLAIN for the bytes (no dictionary)")
def _(rng):
    images = hf_image_bytes()
    structs = [{"bytes": data, "path": name} for name, data in images]
    structs[2]["path"] = None
    structs.append(None)
    typ = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
    features = {"info": {"features": {"image": {"_type": "Image"},
                                      "image_bytes": {"dtype": "binary", "_type": "Value"},
                                      "label": {"dtype": "int64", "_type": "Value"}}}}
    t = pa.table({
        "image": pa.array(structs, typ),
        "image_bytes": pa.array([d for _, d in images] + [None], pa.binary()),
        "label": pa.array(np.arange(len(structs), dtype=np.int64)),
    }).replace_schema_metadata({b"huggingface": json.dumps(features, sort_keys=True).encode()})
    return t, dict(use_dictionary=["image.path", "label"], compression="snappy")

# --------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------


def with_extra(doc, extra):
    """Insert our extra keys after `about` so every document starts the same way."""
    out = {}
    for key, value in doc.items():
        out[key] = value
        if key == "about":
            out["generator"] = GENERATOR
            for k, v in extra.items():
                out[k] = v
    return out


def write_expected(me, path, about, optional=False, extra=None):
    spec = me.f(str(path), "values", about, optional=optional)
    doc = me.make_doc(spec)
    doc["upstream_path"] = path.name
    text = me.dump_doc(with_extra(doc, extra or {}))
    with open(str(path) + ".expected.json", "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)


def generate(out_dir, me, only=None):
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for fx in FIXTURES:
        if only and fx.name not in only:
            continue
        if fx.optional and fx.name.startswith("codec_brotli") and not pa.Codec.is_available("brotli"):
            print("skip %s: pyarrow has no brotli" % fx.name, file=sys.stderr)
            continue
        table, kwargs = fx.build(rng_for(fx.name))
        path = out_dir / fx.name
        pq.write_table(table, str(path), **kwargs)
        write_expected(me, path, fx.about, fx.optional, fx.extra)
        written.append(path)
    check_sizes(out_dir)
    return written


def check_sizes(out_dir):
    total = 0
    for p in sorted(out_dir.iterdir()):
        if p.is_file():
            size = p.stat().st_size
            total += size
            if size > MAX_FILE_BYTES:
                raise SystemExit("%s is %d bytes (limit %d)" % (p.name, size, MAX_FILE_BYTES))
    if total > MAX_TOTAL_BYTES:
        raise SystemExit("fixtures total %d bytes (limit %d)" % (total, MAX_TOTAL_BYTES))


def compare_dirs(a, b):
    names_a = sorted(p.name for p in a.iterdir())
    names_b = sorted(p.name for p in b.iterdir())
    problems = []
    if names_a != names_b:
        problems.append("file lists differ: only in %s: %s; only in %s: %s" % (
            a, sorted(set(names_a) - set(names_b)), b, sorted(set(names_b) - set(names_a))))
    for name in sorted(set(names_a) & set(names_b)):
        if not filecmp.cmp(a / name, b / name, shallow=False):
            problems.append("differs: %s" % name)
    return problems


def run_check(out_dir, me):
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / "a"
        generate(fresh, me)
        if out_dir.is_dir() and any(out_dir.iterdir()):
            other = out_dir
        else:
            other = Path(tmp) / "b"
            generate(other, me)
        problems = compare_dirs(fresh, other)
    if problems:
        print("not deterministic / out of date (%s):" % other, *problems, sep="\n  ")
        return 1
    print("ok: %d fixtures byte-identical to %s" % (len(FIXTURES), other))
    return 0

# --------------------------------------------------------------------------
# Page walk (for --describe and the Ray report)
# --------------------------------------------------------------------------


def first_rle_value(data, pos, bit_width):
    """First value of an RLE/bit-packed hybrid run starting at pos."""
    header, shift = 0, 0
    while True:
        b = data[pos]
        pos += 1
        header |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            break
    if header & 1:
        return data[pos] & ((1 << bit_width) - 1) if bit_width else 0
    return int.from_bytes(data[pos:pos + (bit_width + 7) // 8], "little")


def describe_pages(me, path):
    buf = Path(path).read_bytes()
    fmd = me.read_footer(buf)
    entries, leaves = me.schema_entries(fmd)
    out = []
    for rg_index, rg in enumerate(fmd.get(4, [])):
        for col_index, cc in enumerate(rg.get(1, [])):
            md = cc[3]
            leaf = leaves[col_index]
            rep_width = int(leaf["max_repetition_level"]).bit_length()
            pos = me.chunk_start(md)
            end = pos + md[7]
            pages = []
            while pos < end:
                r = me.ThriftReader(buf, pos)
                ph = r.read_struct()
                header_len = r.pos - pos
                body = buf[r.pos:r.pos + ph[3]]
                pos = r.pos + ph[3]
                page = {"type": me.name_of(me.PAGE_TYPE, ph[1]), "header_bytes": header_len,
                        "compressed": ph[3], "uncompressed": ph[2]}
                if ph[1] == 2:
                    page["dict_entries"] = ph[7][1]
                    page["encoding"] = me.name_of(me.ENCODING, ph[7].get(2))
                elif ph[1] == 0:
                    h = ph[5]
                    page.update(num_values=h[1], encoding=me.name_of(me.ENCODING, h[2]),
                                def_enc=me.name_of(me.ENCODING, h[3]), rep_enc=me.name_of(me.ENCODING, h[4]))
                    if rep_width:
                        raw = me.inflate(md.get(4, 0), body, ph[2])
                        page["starts_at_row"] = first_rle_value(raw, 4, rep_width) == 0
                elif ph[1] == 3:
                    h = ph[8]
                    page.update(num_values=h[1], num_nulls=h[2], num_rows=h[3],
                                encoding=me.name_of(me.ENCODING, h[4]), def_bytes=h[5], rep_bytes=h[6],
                                is_compressed=h.get(7, True))
                    if rep_width and h[6]:
                        page["starts_at_row"] = first_rle_value(body, 0, rep_width) == 0
                pages.append(page)
            out.append({"row_group": rg_index, "path": leaf["path"], "codec": me.name_of(me.CODEC, md.get(4)),
                        "num_values": md[5], "total_compressed": md[7], "total_uncompressed": md[6],
                        "pages": pages})
    return out


def describe(me, paths):
    for p in paths:
        print("==", p)
        for chunk in describe_pages(me, p):
            pages = chunk.pop("pages")
            print(json.dumps(chunk))
            for page in pages:
                print("   ", json.dumps(page))

# --------------------------------------------------------------------------
# Optional: files written by Ray itself
# --------------------------------------------------------------------------

RAY_FORMATS = [("default", None), ("v1", "V1"), ("v2", "V2"), ("native", "ARROW_NATIVE")]


def ray_child(out_dir):
    """Runs in a child process: write a tiny [2,4,4,3] uint8 array through Ray in every tensor format."""
    import ray
    from ray.data.context import DataContext
    from ray.data._internal.tensor_extensions.arrow import FixedShapeTensorFormat
    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        arr = np.arange(2 * 48, dtype=np.uint8).reshape((2,) + SHAPE)
        info = {"ray_version": ray.__version__}
        for label, fmt in RAY_FORMATS:
            ctx = DataContext.get_current()
            if fmt is not None:
                ctx.arrow_fixed_shape_tensor_format = getattr(FixedShapeTensorFormat, fmt)
            info[label] = {"dataset_schema": str(ray.data.from_numpy(arr).schema())}
            tmp = Path(tempfile.mkdtemp(prefix="ray_write_"))
            ray.data.from_numpy(arr).write_parquet(str(tmp))
            files = sorted(tmp.glob("*.parquet"))
            if len(files) != 1:
                raise SystemExit("Ray wrote %d files: %s" % (len(files), files))
            shutil.copyfile(files[0], out_dir / ("ray_from_numpy_%s.parquet" % label))
            info[label]["ray_file_name"] = files[0].name
            shutil.rmtree(tmp)
        (out_dir / "ray_child.json").write_text(json.dumps(info, indent=1) + "\n", encoding="utf-8")
    finally:
        ray.shutdown()


def emulate_ray_file(label):
    """The bytes this script's Ray emulation writes for the array ray_child() gives Ray."""
    values = np.arange(2 * 48, dtype=np.uint8)
    if label == "native":
        table = pa.table({"data": pa.FixedShapeTensorArray.from_numpy_ndarray(values.reshape((2,) + SHAPE))})
    else:
        ext, typ = (RAY_V1, pa.list_(pa.uint8())) if label == "v1" else (RAY_V2, pa.large_list(pa.uint8()))
        table = pa.Table.from_arrays([tensor_array(values, SHAPE, 2, typ)],
                                     schema=pa.schema([ray_tensor_field("data", typ, ext, SHAPE)]))
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return sink.getvalue().to_pybytes()


def print_raw_arrow_fields(path):
    """Child process: the ARROW:schema fields exactly as stored, extension keys included (the canonical
    arrow.fixed_shape_tensor is unregistered first, so pyarrow does not fold them into a type)."""
    try:
        pa.unregister_extension_type("arrow.fixed_shape_tensor")
    except (KeyError, pa.ArrowKeyError):
        pass
    raw = pq.read_metadata(str(path)).metadata[b"ARROW:schema"]
    schema = pa.ipc.read_schema(pa.py_buffer(base64.b64decode(raw)))
    print(json.dumps([{"name": f.name, "type": str(f.type), "nullable": f.nullable,
                       "metadata": {k.decode(): v.decode("latin-1") for k, v in (f.metadata or {}).items()}}
                      for f in schema]))


def raw_arrow_fields(path):
    out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--raw-arrow-schema", str(path)],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def write_ray_fixtures(base_out, me):
    import importlib.util
    if importlib.util.find_spec("ray") is None:
        print("SLUICE_FIXTURES_WITH_RAY=1 but ray is not installed: skipped", file=sys.stderr)
        return
    out_dir = base_out.parent / RAY_OUT_NAME
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    subprocess.run([sys.executable, str(Path(__file__).resolve()), "--ray-child", str(out_dir)], check=True)
    child = json.loads((out_dir / "ray_child.json").read_text(encoding="utf-8"))
    (out_dir / "ray_child.json").unlink()
    layout = {"ray_version": child["ray_version"], "pyarrow_version": pa.__version__, "files": {}}
    for label, _ in RAY_FORMATS:
        path = out_dir / ("ray_from_numpy_%s.parquet" % label)
        meta = pq.read_metadata(str(path))
        fld = raw_arrow_fields(path)[0]
        extension = fld["metadata"].get("ARROW:extension:name")
        layout["files"][path.name] = {
            "tensor_format_setting": label,
            "ray_dataset_schema": child[label]["dataset_schema"],
            "ray_file_name": child[label]["ray_file_name"],
            "arrow_field_in_ARROW_schema": fld,
            "schema_metadata_keys": sorted(k.decode() for k in (meta.metadata or {})),
            "parquet_schema": str(meta.schema).strip().splitlines()[1:],
            "row_groups": meta.num_row_groups,
            "chunks": describe_pages(me, path),
            "our_emulation_is_byte_identical": emulate_ray_file(label) == path.read_bytes(),
        }
        write_expected(me, path, "written by Ray %s: ray.data.from_numpy(np.arange(96, dtype=uint8).reshape(2,4,4,3))"
                       ".write_parquet(), tensor format setting %s (not deterministic: regenerated only with "
                       "SLUICE_FIXTURES_WITH_RAY=1)" % (child["ray_version"], label),
                       extra=tensor_extra(fld["name"], SHAPE, "uint8", extension))
    (out_dir / "ray_layout.json").write_text(json.dumps(layout, indent=1) + "\n", encoding="utf-8")
    print("wrote Ray files into", out_dir)

# --------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default %(default)s)")
    ap.add_argument("--check", action="store_true", help="regenerate into a temp dir and compare byte for byte")
    ap.add_argument("--list", action="store_true", help="print name, size and coverage of each fixture")
    ap.add_argument("--describe", nargs="+", metavar="FILE", help="print the page headers of Parquet files")
    ap.add_argument("--ray-child", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--raw-arrow-schema", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("only", nargs="*", help="only these fixture names")
    args = ap.parse_args()

    if args.ray_child:
        ray_child(args.ray_child)
        return 0
    if args.raw_arrow_schema:
        print_raw_arrow_fields(args.raw_arrow_schema)
        return 0
    decimal.getcontext().prec = 100   # render_decimal quantizes DECIMAL(76) values; see the docstring
    me = import_make_expected()
    if args.describe:
        describe(me, args.describe)
        return 0
    if args.list:
        for fx in FIXTURES:
            p = args.out / fx.name
            size = p.stat().st_size if p.exists() else -1
            print("%-42s %6d  %s" % (fx.name, size, fx.about))
        return 0
    if args.check:
        return run_check(args.out, me)
    t0 = time.perf_counter()
    if not args.only and args.out.exists():
        for p in args.out.iterdir():           # stale files from removed fixtures must not linger
            if p.is_file() and (p.name.endswith(".parquet") or p.name.endswith(".parquet.expected.json")):
                p.unlink()
    written = generate(args.out, me, set(args.only) or None)
    total = sum(p.stat().st_size + Path(str(p) + ".expected.json").stat().st_size for p in written)
    print("wrote %d fixtures (%d bytes with JSON) into %s in %.2f s" % (
        len(written), total, args.out, time.perf_counter() - t0))
    if os.environ.get("SLUICE_FIXTURES_WITH_RAY") == "1":
        write_ray_fixtures(args.out, me)
    return 0


if __name__ == "__main__":
    sys.exit(main())
