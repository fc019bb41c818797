#!/usr/bin/env python3
"""PySpark peer of `sluice bench`: the public comparison's two Spark configurations, in local mode
(master local[--tasks], default the cores; one JVM, Python workers forked by it).

  --mode fused   one job: read Parquet -> mapInPandas(preprocess + ResNet-50 + top-5) -> write.
                 Each task reads, preprocesses and infers its partition in sequence, with its own
                 model (loaded once per Python worker) on --threads // --tasks torch threads.
  --mode staged  job 1: read -> mapInPandas(preprocess) -> float32 tensors (array<float>, 3x224x224)
                 written as Parquet to a scratch directory; job 2: read them -> mapInPandas(ResNet-50
                 + top-5) -> write. Reports both phases; the scratch directory is removed at the end.

Spark reads the tensor column as array<smallint> (Parquet UINT_8); the image shape comes from the
Arrow metadata of the first file. Arrow batches and the Parquet reader's batches hold --batch-size
rows. The JVM gets --jvm-memory (default 3g). Output: Spark's part files, columns id ("<file
stem>:<row>", from Spark's _metadata.row_index), top_k, scores as in Sluice's output. Prints one
JSON line on stdout.

    python3 bench/peers/spark_peer.py --mode fused|staged --input DIR --output DIR
        [--batch-size 64] [--limit N] [--tasks N] [--jvm-memory 3g] [--weights FILE]
"""

import os
import shutil
import sys
import tempfile
import time

import _common as c

_model = None


def classify_partition(batches, shape, weights, threads, preprocessed):
    """mapInPandas function: DataFrames (id, image|tensor) -> DataFrames (id, top_k, scores)."""
    global _model
    import numpy as np
    import pandas as pd
    import torch
    torch.set_num_threads(threads)
    if _model is None:                        # once per Python worker (Spark reuses workers)
        _model = c.build_model(weights).to(memory_format=torch.channels_last)
    for df in batches:
        if preprocessed:
            x = torch.from_numpy(np.stack(df["tensor"].to_numpy()).reshape(-1, 3, 224, 224))
        else:
            x = c.preprocess(np.stack(df["image"].to_numpy()).astype(np.uint8).reshape((-1,) + shape))
        with torch.inference_mode():
            logits = _model(x.contiguous(memory_format=torch.channels_last)).numpy()
        classes, scores = c.top_k(logits)
        yield pd.DataFrame({"id": df["id"], "top_k": list(classes), "scores": list(scores)})


def preprocess_partition(batches, shape):
    """mapInPandas function for the staged mode's first job: (id, image) -> (id, tensor)."""
    import numpy as np
    import pandas as pd
    for df in batches:
        x = c.preprocess(np.stack(df["image"].to_numpy()).astype(np.uint8).reshape((-1,) + shape))
        yield pd.DataFrame({"id": df["id"], "tensor": list(x.numpy().reshape(len(df), -1))})


def read_images(spark, F, args):
    """The input as (id, image), limited to the first --limit rows in file order without
    changing the plan (a filter on file and row index, not a global limit)."""
    import pyarrow.parquet as pq
    files = c.input_files(args.input)
    keep, last, last_rows, total = [], None, None, 0
    for f in files:
        if args.limit is not None and total >= args.limit:
            break
        rows = pq.read_metadata(str(f)).num_rows
        keep.append(str(f))
        if args.limit is not None and total + rows > args.limit:
            last, last_rows = f.stem, args.limit - total
        total += rows
    df = spark.read.parquet(*keep)
    stem = F.regexp_extract(F.col("_metadata.file_name"), r"^(.*?)(\.[^.]*)?$", 1)
    row = F.col("_metadata.row_index")
    df = df.select(F.concat(stem, F.lit(":"), row.cast("string")).alias("id"), "image", stem.alias("_s"), row.alias("_r"))
    if last is not None:
        df = df.where((F.col("_s") != last) | (F.col("_r") < last_rows))
    return df.drop("_s", "_r")


def main():
    def extra(ap):
        ap.add_argument("--mode", choices=("fused", "staged"), required=True)
        ap.add_argument("--tasks", type=int, default=None, help="local[N] task slots (default: --threads)")
        ap.add_argument("--jvm-memory", default="3g", help="spark.driver.memory (default 3g)")
        ap.add_argument("--scratch", default=None, help="staged mode's intermediate directory "
                        "(default: a new temporary directory, removed at the end)")
    args = c.parse_args(__doc__, extra)
    pyspark = c.require("pyspark")
    c.require("pyspark.sql", "pandas", "torch", "pyarrow", "psutil")
    c.torchvision()
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F
    if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
        print("peer not installed: Spark needs Java 17 or later (no java on PATH, no JAVA_HOME)",
              file=sys.stderr)
        sys.exit(c.NOT_INSTALLED)
    c.check_done(args, f"spark_{args.mode}", pyspark.__version__)
    tasks = args.tasks or args.threads
    threads = max(1, args.threads // tasks)
    shape = c.image_shape(c.input_files(args.input)[0])
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")     # local mode: stay on the loopback
    stdout = c.claim_stdout()

    monitor = c.TreeMonitor().start()
    t0 = time.perf_counter()
    spark = (SparkSession.builder.master(f"local[{tasks}]").appName(f"sluice-peer-{args.mode}")
             .config("spark.driver.memory", args.jvm_memory)
             .config("spark.ui.enabled", "false")
             .config("spark.ui.showConsoleProgress", "false")
             .config("spark.sql.execution.arrow.maxRecordsPerBatch", str(args.batch_size))
             .config("spark.sql.parquet.columnarReaderBatchSize", str(args.batch_size))
             .config("spark.sql.execution.pyspark.udf.faulthandler.enabled", "true")
             .getOrCreate())
    spark.sparkContext.setLogLevel("WARN")
    spark.sparkContext.addPyFile(str(c.HERE / "_common.py"))
    startup = time.perf_counter() - t0
    out_schema = "id string, top_k array<int>, scores array<float>"
    images = read_images(spark, F, args)
    phases = {}
    scratch = None
    try:
        if args.mode == "fused":
            (images.mapInPandas(lambda it: classify_partition(it, shape, args.weights, threads, False), out_schema)
             .write.mode("overwrite").parquet(args.output))
        else:
            scratch = args.scratch or tempfile.mkdtemp(prefix="sluice-spark-staged-")
            t1 = time.perf_counter()
            (images.mapInPandas(lambda it: preprocess_partition(it, shape), "id string, tensor array<float>")
             .write.mode("overwrite").parquet(scratch))
            t2 = time.perf_counter()
            (spark.read.parquet(scratch)
             .mapInPandas(lambda it: classify_partition(it, shape, args.weights, threads, True), out_schema)
             .write.mode("overwrite").parquet(args.output))
            phases = {"phase1_seconds": round(t2 - t1, 2), "phase2_seconds": round(time.perf_counter() - t2, 2),
                      "scratch_bytes": sum(f.stat().st_size for f in c.input_files(scratch))}
        seconds = time.perf_counter() - t0
        measured = monitor.stop()
    finally:
        spark.stop()
        if scratch and not args.scratch:
            shutil.rmtree(scratch, ignore_errors=True)
    c.report(stdout, f"spark_{args.mode}", pyspark.__version__, c.count_rows(args.output), seconds, measured,
             startup_seconds=round(startup, 2), batch_size=args.batch_size, tasks=tasks,
             threads_per_task=threads, **phases)
    return 0


if __name__ == "__main__":
    sys.exit(main())
