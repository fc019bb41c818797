#!/usr/bin/env python3
"""pyarrow peer of `sluice-bench generic-read`: every column of FILE into Arrow arrays, one thread.

Usage:
    python3 bench/peers/pyarrow_read_table.py FILE.parquet [--repeat R]

Times pq.read_table(FILE, use_threads=False) R times (pa.set_cpu_count(1), pa.set_io_thread_count(1));
prints one JSON line with the best and median wall time. Warm page cache, as Sluice's numbers.
"""

import argparse
import json
import statistics
import sys
import time

import pyarrow as pa
import pyarrow.parquet as pq


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("file")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    pa.set_cpu_count(1)
    pa.set_io_thread_count(1)
    times = []
    rows = 0
    for _ in range(max(1, args.repeat)):
        t0 = time.perf_counter()
        table = pq.read_table(args.file, use_threads=False)
        times.append(time.perf_counter() - t0)
        rows = table.num_rows
        del table
    print(json.dumps({"peer": "pyarrow", "version": pa.__version__, "rows": rows,
                      "seconds_best": round(min(times), 6), "seconds_median": round(statistics.median(times), 6),
                      "repeat": args.repeat, "threads": 1}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
