#!/usr/bin/env python3
"""Plain PyTorch peer of `sluice bench`: one process, one loop, no framework.

For each input file: pyarrow reads the tensor column, then per batch: torchvision's eval transform,
ResNet-50 under torch.inference_mode in channels_last (with --precision bf16 inside
torch.autocast("cpu", dtype=torch.bfloat16)), softmax top-5; one output part per input file.
torch uses --threads intra-op threads (default: the cores). Prints one JSON line on stdout.

    python3 bench/peers/torch_loop_peer.py --input DIR --output DIR [--batch-size 64] [--limit N]
        [--precision fp32|bf16] [--weights resnet50.safetensors]
"""

import sys
import time

import _common as c


def main():
    args = c.parse_args(__doc__, lambda ap: ap.add_argument(
        "--precision", choices=("fp32", "bf16"), default="fp32"))
    torch = c.require("torch")
    c.require("numpy", "pyarrow", "psutil")
    c.torchvision()
    c.check_done(args, "torch_loop", torch.__version__)
    stdout = c.claim_stdout()

    monitor = c.TreeMonitor().start()
    t0 = time.perf_counter()
    torch.set_num_threads(args.threads)
    model = c.build_model(args.weights).to(memory_format=torch.channels_last)
    bf16 = args.precision == "bf16"

    def logits_of(x):
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            return model(x.to(memory_format=torch.channels_last)).float().numpy()

    done = c.classify_files(args, logits_of)
    seconds = time.perf_counter() - t0
    c.report(stdout, "torch_loop", torch.__version__, done, seconds, monitor.stop(),
             precision=args.precision, batch_size=args.batch_size, threads=args.threads)
    return 0


if __name__ == "__main__":
    sys.exit(main())
