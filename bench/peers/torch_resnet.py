#!/usr/bin/env python3
"""PyTorch peer of `sluice-infer-bench`: model-only images/s of a torchvision ResNet on the same cores.

Same seeded weights as Sluice (Tests/Fixtures/make_engine_fixtures.py), torch.inference_mode(), and for each
batch size three configurations: fp32 (NCHW), fp32 channels_last (PyTorch's best fp32 on CPU) and bf16 via
torch.autocast("cpu", dtype=torch.bfloat16) with channels_last. Optionally exports the model to ONNX for the
ONNX Runtime peer. Prints one JSON object per line: images/s (median batch time), and images per CPU-second
of the whole process (which the benchmark turns into a figure that does not depend on other load).

Runs with any PyTorch >= 1.13: Debian 12's python3-torchvision (torch 1.13) works, and so does a PyPI torch.
Not installed by CI: `apt-get install python3-torchvision`, then run with /usr/bin/python3.
"""
import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "Tests", "Fixtures"))

import torch  # noqa: E402
import make_engine_fixtures as fixtures  # noqa: E402


def measure(model, batch, seconds, min_runs, autocast):
    x = torch.randn(batch, 3, 224, 224)
    if getattr(model, "_channels_last", False):
        x = x.contiguous(memory_format=torch.channels_last)
    times = []
    with torch.inference_mode():
        ctx = torch.autocast("cpu", dtype=torch.bfloat16) if autocast else torch.autocast("cpu", enabled=False)
        with ctx:
            model(x)  # warm-up (oneDNN primitive creation, weight prepacking)
            start = time.perf_counter()
            cpu = time.process_time()
            while len(times) < min_runs or time.perf_counter() - start < seconds:
                t = time.perf_counter()
                model(x)
                times.append(time.perf_counter() - t)
            cpu = time.process_time() - cpu
    images = batch * len(times)
    times.sort()
    return batch / times[len(times) // 2], batch / times[0], len(times), images / cpu


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="resnet50")
    parser.add_argument("--batches", default="1,16,64")
    parser.add_argument("--configs", default="fp32,fp32_channels_last,bf16_channels_last")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--min-runs", type=int, default=3)
    parser.add_argument("--export-onnx", help="also write the model (fp32, dynamic batch) to this ONNX file")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    model = fixtures.seeded_model(args.model, fixtures.WEIGHT_SEED)
    if args.export_onnx:
        os.makedirs(os.path.dirname(os.path.abspath(args.export_onnx)), exist_ok=True)
        torch.onnx.export(model, torch.randn(1, 3, 224, 224), args.export_onnx, input_names=["input"],
                          output_names=["logits"], dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
                          opset_version=13)
    for config in args.configs.split(","):
        m = model
        m._channels_last = False
        if "channels_last" in config:
            m = model.to(memory_format=torch.channels_last)
            m._channels_last = True
        else:
            m = model.to(memory_format=torch.contiguous_format)
        for batch in [int(b) for b in args.batches.split(",")]:
            median, best, runs, per_cpu_second = measure(m, batch, args.seconds, args.min_runs, config.startswith("bf16"))
            print(json.dumps({"peer": "pytorch", "version": torch.__version__, "config": config, "batch": batch,
                              "threads": args.threads, "images_per_s": median, "best_images_per_s": best,
                              "images_per_cpu_s": per_cpu_second, "runs": runs}), flush=True)


if __name__ == "__main__":
    main()
