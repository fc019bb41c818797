#!/usr/bin/env python3
"""Writes the files of Sluice's generic-reading benchmarks (sluice-bench generic-read, sluice head).

Usage:
    python3 bench/peers/write_generic_tables.py wide OUT.parquet [--rows 1500000]
    python3 bench/peers/write_generic_tables.py list-images OUT.parquet [--rows 1000]

wide: a table of strings (dictionary-friendly and unique), ints, doubles (with nulls) and nested lists
(list<int32>, list<list<double>>, list<string> with null elements), written by pyarrow with its defaults
(snappy, dictionary encoding with fallback to PLAIN): about 150 MB for 1.5 million rows.
list-images: a plain list<uint8> column of ROWS flattened 256x256x3 images (no extension metadata), as
pyarrow writes it from numpy: about 190 MB for 1,000 rows. Seeded: the same bytes on every run.
"""

import argparse
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq


def wide(rows, rng):
    ids = np.arange(rows, dtype=np.int64)
    small = rng.integers(-1000, 1000, rows, dtype=np.int32)
    big = rng.integers(-(1 << 62), 1 << 62, rows, dtype=np.int64)
    price = rng.standard_normal(rows)
    score = pa.array(rng.random(rows), mask=rng.random(rows) < 0.1)
    words = np.array(["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"], dtype=object)
    category = pa.array(words[rng.integers(0, len(words), rows)], type=pa.string())
    names = pa.array([f"user-{i:x}-{v}" for i, v in zip(range(rows), rng.integers(0, 1 << 40, rows))], type=pa.string())
    lengths = rng.integers(0, 9, rows)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)
    tags = pa.ListArray.from_arrays(pa.array(offsets), pa.array(rng.integers(0, 1 << 20, int(offsets[-1]), dtype=np.int32)))
    inner_lengths = rng.integers(1, 4, rows * 2)
    inner_offsets = np.concatenate([[0], np.cumsum(inner_lengths)]).astype(np.int32)
    inner = pa.ListArray.from_arrays(pa.array(inner_offsets), pa.array(rng.standard_normal(int(inner_offsets[-1]))))
    outer_offsets = np.arange(0, rows * 2 + 1, 2, dtype=np.int32)
    matrix = pa.ListArray.from_arrays(pa.array(outer_offsets), inner, mask=pa.array(rng.random(rows) < 0.05))
    label_lengths = rng.integers(0, 3, rows)
    label_offsets = np.concatenate([[0], np.cumsum(label_lengths)]).astype(np.int32)
    label_values = pa.array(words[rng.integers(0, len(words), int(label_offsets[-1]))], type=pa.string(),
                            mask=rng.random(int(label_offsets[-1])) < 0.1)
    labels = pa.ListArray.from_arrays(pa.array(label_offsets), label_values)
    return pa.table({"id": ids, "small": small, "big": big, "price": price, "score": score, "category": category,
                     "name": names, "tags": tags, "matrix": matrix, "labels": labels})


def list_images(rows, rng):
    pixels = rng.integers(0, 256, rows * 256 * 256 * 3, dtype=np.uint8)
    offsets = np.arange(0, rows * 196608 + 1, 196608, dtype=np.int32)
    return pa.table({"id": np.arange(rows, dtype=np.int64),
                     "image": pa.ListArray.from_arrays(pa.array(offsets), pa.array(pixels))})


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("kind", choices=["wide", "list-images"])
    ap.add_argument("out")
    ap.add_argument("--rows", type=int)
    args = ap.parse_args()
    rng = np.random.default_rng(14)
    table = wide(args.rows or 1_500_000, rng) if args.kind == "wide" else list_images(args.rows or 1000, rng)
    pq.write_table(table, args.out)
    print(f"{args.out}: {table.num_rows} rows, {table.num_columns} columns")
    return 0


if __name__ == "__main__":
    sys.exit(main())
