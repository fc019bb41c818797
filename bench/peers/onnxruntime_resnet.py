#!/usr/bin/env python3
"""ONNX Runtime peer of `sluice-infer-bench`: model-only images/s of the ONNX export that torch_resnet.py
writes (--export-onnx), fp32, 2 intra-op threads, all graph optimisations. Prints one JSON object per line.

Not installed by CI: `pip install onnxruntime numpy`.
"""
import argparse
import json
import time

import numpy as np
import onnxruntime as ort


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--onnx", required=True)
    parser.add_argument("--batches", default="1,16,64")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--min-runs", type=int, default=3)
    args = parser.parse_args()

    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(args.onnx, options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    for batch in [int(b) for b in args.batches.split(",")]:
        x = np.random.default_rng(0).standard_normal((batch, 3, 224, 224), dtype=np.float32)
        session.run(None, {name: x})
        times = []
        start = time.perf_counter()
        cpu = time.process_time()
        while len(times) < args.min_runs or time.perf_counter() - start < args.seconds:
            t = time.perf_counter()
            session.run(None, {name: x})
            times.append(time.perf_counter() - t)
        cpu = time.process_time() - cpu
        per_cpu_second = batch * len(times) / cpu
        times.sort()
        print(json.dumps({"peer": "onnxruntime", "version": ort.__version__, "config": "fp32", "batch": batch,
                          "threads": args.threads, "images_per_s": batch / times[len(times) // 2],
                          "best_images_per_s": batch / times[0], "images_per_cpu_s": per_cpu_second,
                          "runs": len(times)}), flush=True)


if __name__ == "__main__":
    main()
