#!/usr/bin/env python3
"""Model-only PyTorch peer on a GPU: ResNet images/s at a fixed batch, the input already on the device.

    python3 bench/peers/torch_gpu_model.py [--model resnet50] [--batch 256] [--precision fp16|bf16|tf32|fp32]
        [--mode eager|graph|compile] [--seconds 5] [--device cuda] [--weights FILE.safetensors]

The model is torchvision's resnet50() or --model (random weights from torch.manual_seed(0), or --weights), in eval mode
under torch.inference_mode, channels_last, cast to fp16/bf16 (fp32 and tf32 stay float32, with TF32 tensor
cores forbidden or allowed). --mode eager runs the module; graph captures one forward pass as a CUDA graph and
replays it; compile runs torch.compile(model) (inductor, default mode; --freezing folds batch-norm into the
convolutions and constant-folds the weights, as inference deployments do). One seeded input batch, fixed.

Timing: a warm-up (compilation, cuDNN autotuning, capture) of --warmup passes, untimed; then a few passes to
estimate the time of one; then as many passes back to back as fill --seconds, timed from the first launch to
the end of the last one (one synchronisation at each end). images/s = passes x batch / that time.

Prints one JSON line on stdout: {"images_per_s", "images", "seconds", "version": "torch X", "precision",
"mode", "batch", "warmup_seconds", "device", "gpu", "cudnn", ...}. --device cpu (with tiny --batch and
--seconds) is the smoke test that runs without a GPU.
"""

import argparse
import sys
import time

import torch_gpu_common as g


def parse():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="resnet50", choices=g.RESNETS, help="torchvision's (resnet50 also without it)")
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--precision", default="fp16", choices=g.PRECISIONS)
    ap.add_argument("--mode", default="eager", choices=("eager", "graph", "compile"))
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--warmup", type=int, default=3, help="untimed passes first (compilation happens in the first)")
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--weights", default=None, help="safetensors file with a torchvision ResNet-50 state_dict")
    ap.add_argument("--compile-mode", default="default",
                    help="torch.compile's mode (default, reduce-overhead, max-autotune, ...)")
    ap.add_argument("--freezing", action=argparse.BooleanOptionalAction, default=True,
                    help="inductor freezing (batch-norm folded into the convolutions) with --mode compile")
    args = ap.parse_args()
    if args.batch < 1 or args.seconds <= 0 or args.warmup < 1:
        ap.error("--batch, --seconds and --warmup must be positive")
    return args


def main():
    args = parse()
    torch = g.require_torch()
    device = g.pick_device(torch, args.device)
    if args.mode == "graph" and device.type != "cuda":
        print("--mode graph needs a CUDA device", file=sys.stderr)
        return 2
    if args.mode == "compile" and not hasattr(torch, "compile"):
        print(f"--mode compile needs torch >= 2.0 (this is {torch.__version__})", file=sys.stderr)
        return g.NOT_INSTALLED
    stdout = g.claim_stdout()

    dtype = g.set_precision(torch, args.precision)
    model, source = g.build_model(torch, device, dtype, args.weights, name=args.model)
    generator = torch.Generator().manual_seed(1)
    x = torch.randn(args.batch, 3, 224, 224, generator=generator).to(device=device, dtype=dtype)
    x = x.contiguous(memory_format=torch.channels_last)

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    t0 = time.perf_counter()
    notes, freezing = [], False
    with torch.inference_mode():
        def warm_up(fn):
            for _ in range(args.warmup):
                fn(x)
        if args.mode == "compile":
            forward, freezing, notes = g.compile_and_warm_up(
                torch, model, warm_up, freezing=args.freezing,
                mode=None if args.compile_mode == "default" else args.compile_mode, label="torch_gpu_model")
        elif args.mode == "graph":
            forward = cuda_graph(torch, model, x, args.warmup)
            warm_up(forward)
        else:
            forward = model
            warm_up(forward)
        sync()
        warmup = time.perf_counter() - t0

        probe = 3
        t = time.perf_counter()
        for _ in range(probe):
            forward(x)
        sync()
        per_pass = (time.perf_counter() - t) / probe
        passes = max(probe, int(args.seconds / max(per_pass, 1e-6)))

        t = time.perf_counter()
        for _ in range(passes):
            forward(x)
        sync()
        seconds = time.perf_counter() - t

    images = passes * args.batch
    line = {"peer": f"torch_gpu_model {args.mode}", "model": args.model,
            "images_per_s": round(images / seconds, 1), "images": images,
            "seconds": round(seconds, 3), "batch": args.batch, "precision": args.precision, "mode": args.mode,
            "passes": passes, "warmup_seconds": round(warmup, 2), "model_source": source,
            "channels_last": True}
    if args.mode == "compile":
        line.update(compile_mode=args.compile_mode, freezing=freezing)
        if notes:
            line["compile_notes"] = notes
    line.update(g.environment(torch, device))
    g.report(stdout, line)
    return 0


def cuda_graph(torch, model, x, warmup):
    """One forward pass captured as a CUDA graph (after warm-up on a side stream, as PyTorch requires); the
    returned function replays it on the same static input and output."""
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream):
        for _ in range(warmup):
            model(x)
    torch.cuda.current_stream().wait_stream(stream)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        output = model(x)

    def replay(_):
        graph.replay()
        return output
    return replay


if __name__ == "__main__":
    sys.exit(main())
