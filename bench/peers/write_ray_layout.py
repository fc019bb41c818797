#!/usr/bin/env python3
"""Write synthetic 256x256x3 uint8 images as a Parquet tensor column in Ray Data's layout.

Usage:
    python3 bench/peers/write_ray_layout.py OUT.parquet --images N [--seed S] [--format v2|v1|native|list-uint8|list-int16]

Layout (what `ray.data.from_numpy(images).write_parquet(...)` writes with Ray 2.60 and pyarrow 26,
checked byte for byte by Tests/Fixtures/make_parquet_fixtures.py with SLUICE_FIXTURES_WITH_RAY=1):
  v2 (Ray's default): image = large_list<uint8>, field metadata ARROW:extension:name
      'ray.data.arrow_tensor_v2', ARROW:extension:metadata '[256, 256, 3]' (stored in ARROW:schema);
  v1: list<uint8> with 'ray.data.arrow_tensor';
  native: Arrow's canonical arrow.fixed_shape_tensor (fixed_size_list<uint8>[196608]).
In Parquet all three are the 3-level LIST `optional group image (LIST) { repeated group list {
optional int32 element (INTEGER(8, unsigned)) } }`. pyarrow write defaults: SNAPPY, dictionary
encoding (the 256 possible bytes make a 256-entry dictionary), 1 MiB data pages, v1 pages.
Ray names the column `data`; ours is `image`. At most 1000 rows per file (--rows-per-file):
with more images, OUT's stem gets a _00000, _00001, ... suffix per file.

The images are statistically photo-like, not uniform noise: correlated colour channels, smooth
gradients and low-frequency shapes, mid-scale texture, fine sensor noise, and a per-image contrast
stretch that spans the whole 0..255 range (so every byte value occurs, with clipping at both ends
as in real exposures). Deterministic for a given --seed.
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

H, W, C = 256, 256, 3
PIXELS = H * W * C
BATCH = 32


def upsample(low, size):
    """Bilinear upsampling of (B, h, w, k) float32 to (B, size, size, k)."""
    h = low.shape[1]
    pos = (np.arange(size, dtype=np.float32) + 0.5) * (h / size) - 0.5
    pos = np.clip(pos, 0, h - 1)
    i0 = np.floor(pos).astype(np.intp)
    i1 = np.minimum(i0 + 1, h - 1)
    f = (pos - i0).astype(np.float32)
    rows = low[:, i0] * (1 - f)[None, :, None, None] + low[:, i1] * f[None, :, None, None]
    return rows[:, :, i0] * (1 - f)[None, None, :, None] + rows[:, :, i1] * f[None, None, :, None]


def photo_batch(rng, count):
    """count photo-like images, uint8 (count, 256, 256, 3)."""
    y = np.linspace(0.0, 1.0, H, dtype=np.float32)[None, :, None]
    x = np.linspace(0.0, 1.0, W, dtype=np.float32)[None, None, :]
    # luminance: a tilted gradient (sky/ground) plus a few low-frequency waves
    gx, gy = (rng.normal(size=(2, count, 1, 1)) * 0.6).astype(np.float32)
    lum = gx * x + gy * y
    for _ in range(3):
        fx, fy = rng.uniform(-3.0, 3.0, size=(2, count, 1, 1)).astype(np.float32)
        phase = rng.uniform(0, 2 * np.pi, size=(count, 1, 1)).astype(np.float32)
        amp = rng.uniform(0.05, 0.35, size=(count, 1, 1)).astype(np.float32)
        lum = lum + amp * np.cos(2 * np.pi * (fx * x + fy * y) + phase)
    lum = lum[..., None]                                                        # (B, H, W, 1)
    # objects and texture at two scales, with mostly-shared structure across channels
    blobs = upsample(rng.normal(size=(count, 8, 8, 1)).astype(np.float32), H) * 0.35
    texture = upsample(rng.normal(size=(count, 64, 64, 1)).astype(np.float32), H) * 0.07
    chroma = upsample(rng.normal(size=(count, 6, 6, C)).astype(np.float32), H) * 0.15
    tint = rng.normal(size=(count, 1, 1, C)).astype(np.float32) * 0.15
    field = lum + blobs + texture + chroma + tint                               # (B, H, W, C)
    # a few sharp-edged objects (ellipses of their own colour), as photos have edges
    for _ in range(3):
        cy, cx = rng.uniform(0, 1, size=(2, count, 1, 1)).astype(np.float32)
        ry, rx = rng.uniform(0.05, 0.3, size=(2, count, 1, 1)).astype(np.float32)
        inside = ((y - cy) / ry) ** 2 + ((x - cx) / rx) ** 2 <= 1.0            # (B, H, W)
        colour = rng.normal(size=(count, 1, 1, C)).astype(np.float32) * 0.4
        field = field + inside[..., None] * colour
    # per-image contrast stretch to slightly beyond 0..255, then sensor noise and quantisation
    lo = field.min(axis=(1, 2, 3), keepdims=True)
    hi = field.max(axis=(1, 2, 3), keepdims=True)
    target_lo = rng.uniform(-25, 5, size=(count, 1, 1, 1)).astype(np.float32)
    target_hi = rng.uniform(250, 280, size=(count, 1, 1, 1)).astype(np.float32)
    img = (field - lo) / np.maximum(hi - lo, 1e-6) * (target_hi - target_lo) + target_lo
    img += rng.normal(scale=3.0, size=img.shape).astype(np.float32)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def images(n, seed):
    rng = np.random.default_rng(seed)
    out = np.empty((n, H, W, C), dtype=np.uint8)
    for start in range(0, n, BATCH):
        stop = min(n, start + BATCH)
        out[start:stop] = photo_batch(rng, stop - start)
    return out


def tensor_table(batch, fmt):
    n = batch.shape[0]
    flat = pa.array(batch.reshape(-1))
    shape_json = json.dumps([H, W, C]).encode()
    if fmt == "native":
        return pa.table({"image": pa.FixedShapeTensorArray.from_numpy_ndarray(batch)})
    if fmt in ("list-uint8", "list-int16"):
        # Plain lists, no extension metadata: pyarrow from numpy, and Spark's array<smallint>.
        dtype = np.uint8 if fmt == "list-uint8" else np.int16
        values = pa.array(batch.reshape(-1).astype(dtype))
        return pa.table({"image": pa.ListArray.from_arrays(pa.array(np.arange(n + 1, dtype=np.int32) * PIXELS), values)})
    if fmt == "v2":
        typ, name = pa.large_list(pa.uint8()), b"ray.data.arrow_tensor_v2"
        arr = pa.LargeListArray.from_arrays(pa.array(np.arange(n + 1, dtype=np.int64) * PIXELS), flat, type=typ)
    else:
        typ, name = pa.list_(pa.uint8()), b"ray.data.arrow_tensor"
        arr = pa.ListArray.from_arrays(pa.array(np.arange(n + 1, dtype=np.int32) * PIXELS), flat, type=typ)
    # key order as Ray writes it (metadata, then name): gives the same ARROW:schema bytes as Ray
    field = pa.field("image", typ, metadata={b"ARROW:extension:metadata": shape_json,
                                             b"ARROW:extension:name": name})
    return pa.Table.from_arrays([arr], schema=pa.schema([field]))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=Path)
    ap.add_argument("--images", type=int, required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--format", choices=("v2", "v1", "native", "list-uint8", "list-int16"), default="v2",
                    help="Ray tensor format (v2 = Ray's default), or a plain list<uint8> / list<int16> without metadata")
    ap.add_argument("--rows-per-file", type=int, default=1000)
    args = ap.parse_args()
    if args.images < 1 or args.rows_per_file < 1:
        ap.error("--images and --rows-per-file must be positive")

    t0 = time.perf_counter()
    data = images(args.images, args.seed)
    t_gen = time.perf_counter() - t0
    files = []
    n_files = (args.images + args.rows_per_file - 1) // args.rows_per_file
    args.out.parent.mkdir(parents=True, exist_ok=True)
    for k in range(n_files):
        part = data[k * args.rows_per_file:(k + 1) * args.rows_per_file]
        path = args.out if n_files == 1 else args.out.with_name("%s_%05d%s" % (args.out.stem, k, args.out.suffix))
        pq.write_table(tensor_table(part, args.format), str(path))   # pyarrow defaults, like Ray
        files.append(str(path))
    t_all = time.perf_counter() - t0
    counts = np.bincount(data.reshape(-1), minlength=256)
    print(json.dumps({
        "files": files, "images": args.images, "format": args.format, "seed": args.seed,
        "distinct_byte_values": int((counts > 0).sum()),
        "mean": round(float(data.mean()), 2), "std": round(float(data.std()), 2),
        "bytes_on_disk": sum(Path(f).stat().st_size for f in files), "pixel_bytes": int(data.size),
        "seconds_generate": round(t_gen, 2), "seconds_total": round(t_all, 2),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
