#!/usr/bin/env python3
"""pyarrow peer of Sluice's tensor-column read benchmark.

Usage:
    python3 bench/peers/pyarrow_read_tensor.py FILE.parquet [--repeat R] [--column image]

Times, R times, the whole path from file to one contiguous uint8 array of N*196608 pixel values:
    pq.read_table(FILE, columns=["image"], use_threads=False)
    -> .column("image") -> extension storage (if any) -> list values (flatten) -> .to_numpy()
and checks the result (length N*256*256*3, dtype uint8). Prints one JSON line with the best and
median wall time; gb_per_s counts pixel bytes (N*196608) per second, 1e9 bytes per GB.

Fairness: pyarrow runs on one thread, as Sluice's single-thread benchmark does: use_threads=False,
pa.set_cpu_count(1) and pa.set_io_thread_count(1) (the I/O pool would otherwise pre-buffer column
chunks on other threads). The file is read through the OS page cache: every repeat after the first
reads from memory, so seconds_best is a warm-cache number, as is ours.
"""

import argparse
import json
import statistics
import sys
import time

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

PIXELS_PER_IMAGE = 256 * 256 * 3


def read_pixels(path, column):
    table = pq.read_table(path, columns=[column], use_threads=False)
    col = table.column(column)
    chunks = [c.storage if isinstance(c, pa.ExtensionArray) else c for c in col.chunks]
    storage = pa.chunked_array(chunks) if chunks else pa.chunked_array([], pa.list_(pa.uint8()))
    values = pc.list_flatten(storage)           # the uint8 list values, one chunk per row group
    return table.num_rows, values.to_numpy()    # one chunk: zero copy; several: one concatenation


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("file")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--column", default="image")
    args = ap.parse_args()
    if args.repeat < 1:
        ap.error("--repeat must be at least 1")

    pa.set_cpu_count(1)
    pa.set_io_thread_count(1)

    times = []
    rows = 0
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        rows, pixels = read_pixels(args.file, args.column)
        times.append(time.perf_counter() - t0)
        # A plain list<int16> file comes back as int16 (pyarrow does not narrow; the cheaper path for the peer).
        if pixels.dtype not in (np.uint8, np.int16) or pixels.shape != (rows * PIXELS_PER_IMAGE,):
            raise SystemExit("wrong result: %s %s for %d images" % (pixels.dtype, pixels.shape, rows))
        del pixels
    best = min(times)
    print(json.dumps({
        "peer": "pyarrow", "version": pa.__version__, "images": rows,
        "seconds_best": round(best, 6), "images_per_s": round(rows / best, 1),
        "gb_per_s": round(rows * PIXELS_PER_IMAGE / best / 1e9, 3),
        "seconds_median": round(statistics.median(times), 6), "repeat": args.repeat, "threads": 1,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
