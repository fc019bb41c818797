#!/usr/bin/env python3
"""Image columns as Hugging Face `datasets` writes them; run ONCE by hand, the small output files are committed.

    pip install datasets
    python3 Tests/Fixtures/make_huggingface_fixtures.py

Writes Tests/Fixtures/huggingface/hf_array3d_uint8.parquet (an Array3D(shape=(8, 8, 3), dtype="uint8")
feature: list<list<list<uint8>>> with the shape in the footer's `huggingface` metadata) and
hf_array3d_int16.parquet, with the pixels of make_tensor_list_fixtures.py (values 0..127), and
manifest.json with numpy's CRC-32 of each row's uint8 pixels.
"""
import json
import zlib
from pathlib import Path

import datasets
import numpy as np

OUT = Path(__file__).resolve().parent / "huggingface"
ROWS, SHAPE = 6, (8, 8, 3)


def main():
    pixels = np.random.default_rng(14).integers(0, 128, (ROWS, int(np.prod(SHAPE))), dtype=np.uint8)
    OUT.mkdir(parents=True, exist_ok=True)
    files = []
    for dtype in ("uint8", "int16"):
        features = datasets.Features({"image": datasets.Array3D(shape=SHAPE, dtype=dtype), "id": datasets.Value("string")})
        data = {"image": [p.reshape(SHAPE).astype(dtype) for p in pixels], "id": [f"img{i}" for i in range(ROWS)]}
        target = OUT / f"hf_array3d_{dtype}.parquet"
        datasets.Dataset.from_dict(data, features=features).to_parquet(str(target))
        files.append({"name": target.name, "shape": list(SHAPE), "crc32": [zlib.crc32(p.tobytes()) for p in pixels]})
    (OUT / "manifest.json").write_text(json.dumps({"datasets": datasets.__version__, "files": files}, indent=1) + "\n")


if __name__ == "__main__":
    main()
