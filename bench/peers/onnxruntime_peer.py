#!/usr/bin/env python3
"""ONNX Runtime peer of `sluice bench`: the plain loop of torch_loop_peer.py with the model run by
ONNX Runtime's CPU execution provider (graph optimisations on, --threads intra-op threads, default
the cores, 1 inter-op thread).

The model is exported once with torch.onnx.export (dynamic batch axis) to a cache file,
--onnx-cache (default ~/.cache/sluice/peers/resnet50-<weights>.onnx); the export is not timed and
its time is reported as export_seconds when it happens. Prints one JSON line on stdout.

    python3 bench/peers/onnxruntime_peer.py --input DIR --output DIR [--batch-size 64] [--limit N]
        [--weights resnet50.safetensors] [--onnx-cache FILE]
"""

import hashlib
import os
import sys
import time
import warnings
from pathlib import Path

import _common as c

OPSET = 17


def default_cache(weights):
    if weights:
        digest = hashlib.sha256(Path(weights).read_bytes()).hexdigest()[:16]
        tag = f"weights-{digest}"
    else:
        tag = "seed0"
    return Path.home() / ".cache" / "sluice" / "peers" / f"resnet50-{tag}-opset{OPSET}.onnx"


def export(weights, path):
    """torch.onnx.export of the peers' ResNet-50 with a dynamic batch axis, written atomically."""
    import torch
    model = c.build_model(weights)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}")
    example = torch.zeros(2, 3, 224, 224)
    # The TorchScript exporter (no onnxscript needed): torch 2.x must be told with dynamo=False, torch 1.x
    # (Debian's 1.13) has only that one and no such keyword.
    import inspect
    legacy = {"dynamo": False} if "dynamo" in inspect.signature(torch.onnx.export).parameters else {}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(model, (example,), str(tmp), input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
                          opset_version=OPSET, **legacy)
    os.replace(tmp, path)


def main():
    args = c.parse_args(__doc__, lambda ap: ap.add_argument("--onnx-cache", type=Path, default=None))
    ort = c.require("onnxruntime")
    c.require("numpy", "torch", "onnx", "pyarrow", "psutil")
    c.torchvision()
    c.check_done(args, "onnxruntime", ort.__version__)

    cache = args.onnx_cache or default_cache(args.weights)
    export_seconds = None
    if not cache.is_file():
        t = time.perf_counter()
        export(args.weights, cache)
        export_seconds = round(time.perf_counter() - t, 2)
        print(f"exported ResNet-50 to {cache} in {export_seconds} s", file=sys.stderr)
    stdout = c.claim_stdout()

    monitor = c.TreeMonitor().start()
    t0 = time.perf_counter()
    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(str(cache), options, providers=["CPUExecutionProvider"])
    done = c.classify_files(args, lambda x: session.run(["logits"], {"input": x.numpy()})[0])
    seconds = time.perf_counter() - t0
    c.report(stdout, "onnxruntime", ort.__version__, done, seconds, monitor.stop(),
             batch_size=args.batch_size, threads=args.threads, export_seconds=export_seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
