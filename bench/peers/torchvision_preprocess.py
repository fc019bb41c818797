#!/usr/bin/python3
"""torchvision peer of Sluice's preprocessing benchmark (sluice-bench preprocess).

Usage (Debian 12: apt-get install python3-torchvision python3-pil; run with /usr/bin/python3):
    /usr/bin/python3 bench/peers/torchvision_preprocess.py [--raw RAW.npy] [--jpeg NAME=LIST.txt ...]
        [--repeat R] [--threads T] [--draft]

Workloads, each timed R times (best pass reported):
  raw      RAW.npy holds N uint8 images [N, 256, 256, 3]. Per image, torchvision's tensor transforms:
           torch.from_numpy(img).permute(2, 0, 1) -> Resize(256, antialias=True) -> CenterCrop(224)
           -> ConvertImageDtype(float32) -> Normalize(ImageNet mean, std), as a torchvision user
           preprocesses raw tensors.
  NAME     LIST.txt lists JPEG files (read into memory first). Per image: Image.open(BytesIO(bytes))
           .convert("RGB") -> Resize(256) -> CenterCrop(224) -> ToTensor() -> Normalize(mean, std):
           torchvision's standard evaluation transform with Pillow decoding. With --draft, Pillow's
           JPEG draft mode (DCT-domain reduction, Image.draft("RGB", (256, 256))) runs before convert,
           the peer of Sluice's --fast-decode.
Each output is a float32 [3, 224, 224] tensor; nothing is batched or written. With --decode-only, the
JPEG workloads are also timed for Image.open(BytesIO(bytes)).convert("RGB") alone (Pillow's decode).

Times: wall time and the thread's CPU time (time.thread_time) of each pass; the best of each is
reported. On a shared machine the CPU time is the steadier measure of work per core.

Threads: "1" is one process with torch.set_num_threads(1) (torch does not parallelise these ops
anyway). With --threads T > 1, T worker processes (fork, like DataLoader workers) each run the whole
workload at the same time; throughput is T * N / wall time of the slowest. Prints one JSON line.
"""

import argparse
import io
import json
import multiprocessing as mp
import sys
import time

import numpy as np
import PIL
import torch
import torchvision
import torchvision.transforms as T
from PIL import Image

MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]

torch.set_num_threads(1)

TENSOR_TRANSFORM = T.Compose([
    T.Resize(256, interpolation=T.InterpolationMode.BILINEAR, antialias=True),
    T.CenterCrop(224),
    T.ConvertImageDtype(torch.float),
    T.Normalize(MEAN, STD),
])
PIL_TRANSFORM = T.Compose([
    T.Resize(256, interpolation=T.InterpolationMode.BILINEAR),
    T.CenterCrop(224),
    T.ToTensor(),
    T.Normalize(MEAN, STD),
])

WORKLOADS = {}  # name -> (kind, items), filled before forking


def decode_once(name):
    _, items = WORKLOADS[name]
    for data in items:
        Image.open(io.BytesIO(data)).convert("RGB")


def run_once(name, draft):
    kind, items = WORKLOADS[name]
    checksum = 0.0
    if kind == "raw":
        for i in range(items.shape[0]):
            out = TENSOR_TRANSFORM(torch.from_numpy(items[i]).permute(2, 0, 1))
            checksum += float(out[0, 112, 112])
    else:
        for data in items:
            image = Image.open(io.BytesIO(data))
            if draft:
                image.draft("RGB", (256, 256))
            out = PIL_TRANSFORM(image.convert("RGB"))
            checksum += float(out[0, 112, 112])
    return checksum


def worker(args):
    name, draft, barrier = args
    barrier.wait()
    start = time.perf_counter()
    run_once(name, draft)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--raw")
    parser.add_argument("--jpeg", action="append", default=[], metavar="NAME=LIST")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--draft", action="store_true")
    parser.add_argument("--decode-only", action="store_true")
    args = parser.parse_args()

    if args.raw:
        WORKLOADS["raw"] = ("raw", np.load(args.raw))
    for spec in args.jpeg:
        name, _, listing = spec.partition("=")
        with open(listing) as f:
            paths = [line.strip() for line in f if line.strip()]
        WORKLOADS[name] = ("jpeg", [open(p, "rb").read() for p in paths])

    result = {"peer": "torchvision", "torchvision": torchvision.__version__, "torch": torch.__version__,
              "pillow": PIL.__version__, "draft": args.draft, "workloads": {}}
    for name, (kind, items) in WORKLOADS.items():
        count = items.shape[0] if kind == "raw" else len(items)
        run_once(name, args.draft)  # warm up
        times, cpu_times = [], []
        for _ in range(args.repeat):
            start, cpu = time.perf_counter(), time.thread_time()
            run_once(name, args.draft)
            times.append(time.perf_counter() - start)
            cpu_times.append(time.thread_time() - cpu)
        entry = {"images": count, "seconds_best": min(times), "images_per_s": count / min(times),
                 "cpu_seconds_best": min(cpu_times)}
        if args.decode_only and kind == "jpeg":
            decode_cpu = []
            for _ in range(args.repeat):
                cpu = time.thread_time()
                decode_once(name)
                decode_cpu.append(time.thread_time() - cpu)
            entry["decode_cpu_seconds_best"] = min(decode_cpu)
        if args.threads > 1:
            context = mp.get_context("fork")
            walls = []
            with context.Manager() as manager:
                with context.Pool(args.threads) as pool:
                    for _ in range(args.repeat):
                        barrier = manager.Barrier(args.threads)
                        start = time.perf_counter()
                        pool.map(worker, [(name, args.draft, barrier)] * args.threads)
                        walls.append(time.perf_counter() - start)
            entry["threads"] = args.threads
            entry["parallel_seconds_best"] = min(walls)
            entry["parallel_images_per_s"] = count * args.threads / min(walls)
        result["workloads"][name] = entry
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
