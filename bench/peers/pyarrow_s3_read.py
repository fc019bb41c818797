#!/usr/bin/env python3
"""pyarrow peer of Sluice's S3 read benchmark (`sluice-bench s3-read`).

Usage:
    python3 bench/peers/pyarrow_s3_read.py --endpoint URL --access-key K --secret-key S \\
        --bucket B --keys k1,k2,... [--repeat R] [--column image]

Reads the `image` tensor column of every object with pyarrow's own S3 client
(`pyarrow.fs.S3FileSystem(endpoint_override=..., scheme="http")`, the AWS SDK for C++ underneath):
    pq.read_table(["B/k1", ...], columns=["image"], filesystem=fs)   # pre_buffer and threads: pyarrow's defaults
    -> extension storage -> list values (flatten) -> .to_numpy()
so the bytes cross the network and end as uint8 pixels, as in Sluice's measurement. Prints one JSON line
with the best and median wall time of R runs.
"""

import argparse
import json
import statistics
import sys
import time

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
import pyarrow.parquet as pq


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--access-key", required=True)
    ap.add_argument("--secret-key", required=True)
    ap.add_argument("--bucket", required=True)
    ap.add_argument("--keys", required=True)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--column", default="image")
    args = ap.parse_args()

    scheme, _, host = args.endpoint.partition("://")
    fs = pafs.S3FileSystem(endpoint_override=host, scheme=scheme, access_key=args.access_key,
                           secret_key=args.secret_key, region="us-east-1")
    paths = [f"{args.bucket}/{key}" for key in args.keys.split(",")]
    times, rows, pixel_bytes = [], 0, 0
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        table = pq.read_table(paths, columns=[args.column], filesystem=fs)
        chunks = [c.storage if isinstance(c, pa.ExtensionArray) else c for c in table.column(args.column).chunks]
        arrays = [pc.list_flatten(c).to_numpy() for c in chunks]
        times.append(time.perf_counter() - t0)
        rows = table.num_rows
        pixel_bytes = sum(a.nbytes for a in arrays)
        if any(a.dtype != np.uint8 for a in arrays):
            raise SystemExit("wrong dtype")
        del table, chunks, arrays
    best = min(times)
    print(json.dumps({"peer": "pyarrow.fs.S3FileSystem", "version": pa.__version__, "images": rows,
                      "pixel_bytes": pixel_bytes, "seconds_best": round(best, 6),
                      "seconds_median": round(statistics.median(times), 6), "repeat": args.repeat}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
