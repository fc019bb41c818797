#!/usr/bin/env python3
"""Image columns as Spark writes them; run ONCE by hand, the small output files are committed.

    pip install pyspark          # 4.x, with Java 17
    python3 Tests/Fixtures/make_spark_fixtures.py

Writes Tests/Fixtures/spark/spark_array_{smallint,tinyint,int}.parquet: column `image` (array<…>, one
flattened 8x8x3 HWC image per row: the pixels of make_tensor_list_fixtures.py, values 0..127) and `id`,
and manifest.json with numpy's CRC-32 of each row's uint8 pixels.
"""
import json
import shutil
import tempfile
import zlib
from pathlib import Path

import numpy as np
from pyspark.sql import SparkSession
from pyspark.sql.types import ArrayType, ByteType, IntegerType, ShortType, StringType, StructField, StructType

OUT = Path(__file__).resolve().parent / "spark"
ROWS, PER_ROW = 6, 8 * 8 * 3


def main():
    pixels = np.random.default_rng(14).integers(0, 128, (ROWS, PER_ROW), dtype=np.uint8)
    spark = (SparkSession.builder.master("local[1]").appName("sluice-fixtures")
             .config("spark.sql.parquet.compression.codec", "snappy").getOrCreate())
    OUT.mkdir(parents=True, exist_ok=True)
    files = []
    for name, spark_type in [("smallint", ShortType()), ("tinyint", ByteType()), ("int", IntegerType())]:
        schema = StructType([StructField("image", ArrayType(spark_type)), StructField("id", StringType())])
        rows = [([int(v) for v in pixels[i]], f"img{i}") for i in range(ROWS)]
        frame = spark.createDataFrame(rows, schema).coalesce(1)
        with tempfile.TemporaryDirectory() as tmp:
            frame.write.mode("overwrite").parquet(tmp + "/out")
            part = next(Path(tmp, "out").glob("part-*.parquet"))
            target = OUT / f"spark_array_{name}.parquet"
            shutil.copyfile(part, target)
        files.append({"name": target.name, "shape": [8, 8, 3], "crc32": [zlib.crc32(p.tobytes()) for p in pixels]})
    spark.stop()
    (OUT / "manifest.json").write_text(json.dumps({"spark": spark.version, "files": files}, indent=1) + "\n")


if __name__ == "__main__":
    main()
