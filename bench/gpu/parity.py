#!/usr/bin/env python3
"""Sluice's logits against PyTorch's on the same machine, the same weights and the same inputs (issue 19, step 1).

    python3 bench/gpu/parity.py --sluice bundle/sluice --work DIR [--count 512] [--device cuda]
        [--sluice-args "--device cuda"] [--precisions fp32,fp16] [--batch-size 64] [--json OUT]

  * Weights: ResNet-50 (torchvision's, or the identical definition in bench/peers/torch_gpu_common.py) with
    the seeded weights of Tests/Fixtures/make_engine_fixtures.py (SplitMix64 uniforms; batch-norm statistics
    and scales that keep activations in range, paired-negated filters so that inputs get different classes),
    saved as safetensors (the package when present, else written by hand) for `sluice predict --weights`.
    By default fc's first --count rows are then replaced by the inputs' centred, normalised features (a
    nearest-prototype head, see prototype_head), so that every input has a clear top-1 as a trained model gives
    real photos; --head seeded keeps the seeded fc (near-ties: fp16's top-1 then flips even in PyTorch).
  * Inputs: --count seeded float32 [3,224,224] tensors (make_engine_fixtures.seeded_input(1..count): coarse
    blocks plus fine noise), already normalised, as one .npy [N,3,224,224] for `sluice predict`.
  * PyTorch: fp32 with TF32 forbidden (cuDNN and matmul), and fp16 (the model cast to half, channels_last).
  * Sluice: `sluice predict --model resnet50 --weights W --precision P --logits SLUICE_ARGS inputs.npy`, one
    JSON line per input.
Checks (issue 19): fp32 -- for every input, max_j |sluice_j - torch_j| <= 1e-3 x max_j |torch_j|;
fp16 -- sluice fp16's top-1 equals torch fp32's on >= 99% of the inputs. Also reported: each precision's
top-1 agreement with torch fp32 and fp16, torch fp16's own agreement with torch fp32 (how hard the inputs are
for fp16 at all), and Sluice's wall time per call. Writes one JSON object (--json, else stdout).
"""

import argparse
import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT / "bench" / "peers"))
sys.path.insert(0, str(ROOT / "Tests" / "Fixtures"))

import torch_gpu_common as g  # noqa: E402

FP32_TOLERANCE = 1e-3
FP16_AGREEMENT = 0.99


def parse():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sluice", required=True, help="the sluice executable (or a wrapper script)")
    ap.add_argument("--work", required=True, help="scratch directory (weights, inputs, Sluice's output)")
    ap.add_argument("--count", type=int, default=512)
    ap.add_argument("--device", default="cuda", help="PyTorch's device")
    ap.add_argument("--sluice-args", default="--device cuda", help="more `sluice predict` arguments")
    ap.add_argument("--precisions", default="fp32,fp16", help="Sluice precisions to compare")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--timeout", type=float, default=150, help="seconds per `sluice predict`")
    ap.add_argument("--head", default="prototypes", choices=("prototypes", "seeded"),
                    help="fc: the inputs' features as prototypes (clear top-1s), or the seeded weights alone")
    ap.add_argument("--json", default=None)
    return ap.parse_args()


def seeded_weights(torch, fixtures):
    """ResNet-50's state_dict with make_engine_fixtures' seeded values (what Sluice's own seeded weights are)."""
    model, source = g.resnet50()
    model = fixtures.seed_model(model, fixtures.WEIGHT_SEED, bottleneck=True)
    return model, model.state_dict(), source


def prototype_head(torch, model, state, inputs, device, batch):
    """Replaces fc's first N rows (N = the number of inputs) by the inputs' centred, normalised penultimate features
    (computed in fp32, TF32 off), and their biases so that the mean feature scores 0: a nearest-prototype head.
    Each input then has a clear top-1, its own class, as a trained classifier gives real photos. With the seeded
    fc alone, the top two of 1000 near-random logits are often within fp16's rounding of each other, so fp16's top-1
    agreement would measure the inputs, not the engine. The rest of the network keeps the seeded weights."""
    g.set_precision(torch, "fp32")
    fc = model.fc
    model.fc = torch.nn.Identity()
    model.to(device)
    features = []
    with torch.inference_mode():
        for start in range(0, len(inputs), batch):
            features.append(model(torch.from_numpy(inputs[start:start + batch]).to(device)).double().cpu())
    model.fc = fc
    model.to("cpu")
    f = torch.cat(features)
    rows = min(len(f), state["fc.weight"].shape[0])
    mean = f.mean(dim=0)
    centred = f[:rows] - mean
    weight = centred / centred.norm(dim=1, keepdim=True).clamp_min(1e-12)
    state["fc.weight"][:rows] = weight.float()
    state["fc.bias"][:rows] = (-(weight @ mean)).float()
    model.load_state_dict(state)
    return rows


def margins(logits):
    """(top-1 minus top-2) / max |logit|, per input: how far each input is from a tie."""
    import numpy as np
    top = np.sort(logits, axis=1)
    gap = (top[:, -1] - top[:, -2]) / np.maximum(np.abs(logits).max(axis=1), 1e-30)
    return {"min": float(gap.min()), "p01": float(np.quantile(gap, 0.01)), "median": float(np.median(gap))}


def torch_logits(torch, model, inputs, device, precision, batch):
    dtype = g.set_precision(torch, precision)
    model = model.to(device=device, memory_format=torch.channels_last).to(dtype=dtype)
    outputs = []
    with torch.inference_mode():
        for start in range(0, len(inputs), batch):
            x = torch.from_numpy(inputs[start:start + batch]).to(device=device, dtype=dtype)
            outputs.append(model(x.contiguous(memory_format=torch.channels_last)).float().cpu())
    return torch.cat(outputs).numpy()


def sluice_logits(args, weights, inputs_path, precision, count, work):
    """(logits [count, classes] or None, record): runs `sluice predict` once."""
    import numpy as np
    command = [args.sluice, "predict", "--model", "resnet50", "--weights", str(weights), "--precision", precision,
               "--batch-size", str(args.batch_size), "--logits", "--top-k", "1", "--verbose"]
    command += shlex.split(args.sluice_args) + [str(inputs_path)]
    out, err = work / f"sluice-{precision}.jsonl", work / f"sluice-{precision}.err"
    record = {"command": " ".join(shlex.quote(c) for c in command)}
    t0 = time.perf_counter()
    try:
        with open(out, "w") as stdout, open(err, "w") as stderr:
            status = subprocess.run(command, stdout=stdout, stderr=stderr, timeout=args.timeout).returncode
    except subprocess.TimeoutExpired:
        status = "timeout"
    record["seconds"] = round(time.perf_counter() - t0, 2)
    record["exit"] = status
    log = err.read_text(errors="replace").splitlines()
    record["stderr"] = log[:160] + (["..."] + log[-20:] if len(log) > 180 else log[160:])
    if status != 0:
        return None, record
    logits = [None] * count
    prefix = inputs_path.name
    for line in out.read_text().splitlines():
        if not line.startswith("{"):
            continue
        item = json.loads(line)
        name = item.get("name", "")
        if name.startswith(prefix + "[") and name.endswith("]"):
            index = int(name[len(prefix) + 1:-1])
            if 0 <= index < count:
                logits[index] = [float("nan") if v is None else v for v in item["logits"]]
    missing = sum(1 for row in logits if row is None)
    if missing:
        record["error"] = f"{missing} of {count} inputs missing from sluice predict's output"
        return None, record
    return np.asarray(logits, dtype=np.float32), record


def compare(candidate, reference):
    import numpy as np
    delta = np.abs(candidate - reference).max(axis=1)
    scale = np.abs(reference).max(axis=1)
    ratio = delta / np.maximum(scale, 1e-30)
    return {"max_abs_diff": float(delta.max()), "largest_logit": float(scale.max()),
            "worst_ratio_to_largest_logit": float(ratio.max()), "median_ratio": float(np.median(ratio)),
            "inputs_over_1e-3": int((ratio > FP32_TOLERANCE).sum()),
            "nan_or_inf": int((~np.isfinite(candidate)).sum())}


def agreement(a, b):
    import numpy as np
    return float((a.argmax(axis=1) == b.argmax(axis=1)).mean())


def main():
    args = parse()
    torch = g.require_torch()
    import numpy as np
    import make_engine_fixtures as fixtures
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    device = g.pick_device(torch, args.device)
    result = {"count": args.count, "device": str(device), "torch": g.torch_version(torch),
              "weights": "make_engine_fixtures seeded (seed %d)" % fixtures.WEIGHT_SEED,
              "inputs": "make_engine_fixtures.seeded_input(1..%d)" % args.count, "batch_size": args.batch_size}
    t0 = time.perf_counter()
    model, state, source = seeded_weights(torch, fixtures)
    weights = work / "resnet50-seeded.safetensors"
    result["model_source"] = source
    inputs = np.stack([fixtures.seeded_input(seed) for seed in range(1, args.count + 1)]).astype(np.float32)
    inputs_path = work / "inputs.npy"
    np.save(inputs_path, inputs)
    if args.head == "prototypes":
        rows = prototype_head(torch, model, state, inputs, device, args.batch_size)
        result["weights"] += f"; fc rows 0..{rows - 1}: the inputs' centred, normalised features (prototype head)"
    result["safetensors_writer"] = g.save_safetensors(torch, state, weights)
    result["prepare_seconds"] = round(time.perf_counter() - t0, 2)

    t0 = time.perf_counter()
    reference = {"fp32": torch_logits(torch, model, inputs, device, "fp32", args.batch_size)}
    if device.type == "cuda":
        reference["fp16"] = torch_logits(torch, model, inputs, device, "fp16", args.batch_size)
        result["torch_fp16_vs_torch_fp32"] = dict(compare(reference["fp16"], reference["fp32"]),
                                                  top1_agreement=agreement(reference["fp16"], reference["fp32"]))
    result["torch_seconds"] = round(time.perf_counter() - t0, 2)
    result["distinct_top1_torch_fp32"] = int(len(set(reference["fp32"].argmax(axis=1).tolist())))
    result["top1_margin_torch_fp32"] = margins(reference["fp32"])

    checks = {}
    for precision in [p for p in args.precisions.split(",") if p]:
        logits, record = sluice_logits(args, weights, inputs_path, precision, args.count, work)
        if logits is not None:
            record["vs_torch_fp32"] = dict(compare(logits, reference["fp32"]),
                                           top1_agreement=agreement(logits, reference["fp32"]))
            if "fp16" in reference:
                record["vs_torch_fp16"] = dict(compare(logits, reference["fp16"]),
                                               top1_agreement=agreement(logits, reference["fp16"]))
            if precision == "fp32":
                ok = record["vs_torch_fp32"]["inputs_over_1e-3"] == 0 and record["vs_torch_fp32"]["nan_or_inf"] == 0
                checks["fp32_logits_within_1e-3_of_largest"] = ok
            elif precision == "fp16":
                checks["fp16_top1_agreement_ge_99pct"] = record["vs_torch_fp32"]["top1_agreement"] >= FP16_AGREEMENT
        elif precision == "fp32":
            checks["fp32_logits_within_1e-3_of_largest"] = False
        elif precision == "fp16":
            checks["fp16_top1_agreement_ge_99pct"] = False
        result[f"sluice_{precision}"] = record
    result["checks"] = checks
    result["passed"] = bool(checks) and all(checks.values())

    text = json.dumps(result, indent=1)
    if args.json:
        Path(args.json).write_text(text + "\n")
    else:
        print(text)
    for name in ("inputs.npy",):
        try:
            os.remove(work / name)
        except OSError:
            pass
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
