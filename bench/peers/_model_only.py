"""Model-only timing shared by the ONNX peers of scripts/bench-onnx (openvino_peer.py, onnxruntime_onnx_peer.py).

It measures the way sluice-infer-bench measures Sluice, so that the figures compare:
  * `streams` independent copies of the compiled model, each driven by its own thread with threads/streams
    engine threads, running the same batch back to back for about `seconds` (at least `min_runs` each), after
    one warm-up run per copy;
  * images/s = sum over streams of batch / median batch time; images per CPU-second over the timed window
    (process CPU time, every thread of the engine included);
  * the input: a fixed seeded float32 batch (standard normal), the calibration set: `calibration_samples`
    other seeded samples, the same for every int8 quantiser.
"""

import argparse
import hashlib
import json
import sys
import threading
import time

import numpy as np


def parse_args(doc, extra=None):
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--onnx", required=True, help="the ONNX model (dynamic or matching batch axis)")
    parser.add_argument("--precisions", default="fp32,bf16,int8")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--streams", default="1,2", help="stream counts to measure (the table keeps the best)")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--min-runs", type=int, default=3)
    parser.add_argument("--calibration-samples", type=int, default=32)
    parser.add_argument("--cache-dir", default=None, help="where quantised models are kept (default: a temporary folder)")
    if extra:
        extra(parser)
    args = parser.parse_args()
    args.precisions = [p for p in args.precisions.split(",") if p]
    args.streams = [int(s) for s in args.streams.split(",") if s]
    return args


def file_tag(path):
    """A short content hash of a model file: the key its quantised copies are cached under."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()[:16]


def input_batch(shape, batch, seed=7):
    return np.random.default_rng(seed).standard_normal((batch, *shape), dtype=np.float32)


def calibration_samples(shape, count, seed=100):
    """`count` single-sample batches [1, C, H, W], seeded, disjoint from the timed input."""
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((1, *shape), dtype=np.float32) for _ in range(count)]


def measure(runners, batch, seconds, min_runs):
    """runners: one zero-argument callable per stream (each runs one batch). Returns the figures as a dict."""
    for run in runners:
        run()
    per_stream = [[] for _ in runners]
    failures = []

    def loop(index):
        run, times = runners[index], per_stream[index]
        try:
            start = time.perf_counter()
            while len(times) < min_runs or time.perf_counter() - start < seconds:
                t = time.perf_counter()
                run()
                times.append(time.perf_counter() - t)
        except Exception as error:  # reported, not swallowed: the row says why
            failures.append(error)

    cpu = time.process_time()
    threads = [threading.Thread(target=loop, args=(i,)) for i in range(len(runners))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    cpu = time.process_time() - cpu
    if failures:
        raise failures[0]
    median = best = 0.0
    runs = 0
    for times in per_stream:
        times.sort()
        median += batch / times[len(times) // 2]
        best += batch / times[0]
        runs += len(times)
    return {"images_per_s": median, "best_images_per_s": best, "runs": runs,
            "images_per_cpu_s": batch * runs / cpu if cpu > 0 else None}


def emit(**fields):
    print(json.dumps(fields), flush=True)


def unsupported(peer, version, precision, batch, reason):
    emit(peer=peer, version=version, config=precision, batch=batch, unsupported=reason)
    print(f"{peer} {precision}: unsupported: {reason}", file=sys.stderr)
