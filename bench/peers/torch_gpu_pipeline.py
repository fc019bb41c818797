#!/usr/bin/env python3
"""End-to-end PyTorch peer on a GPU: the best pipeline a PyTorch user builds for Sluice's workload.

    python3 bench/peers/torch_gpu_pipeline.py --dataset DIR [--batch 256] [--workers 14] [--precision fp16]
        [--mode compile|eager] [--repeat 1] [--output DIR] [--limit N] [--device cuda]

Input: Parquet files in Ray Data's layout (tensor column `image`, uint8 HWC, e.g. `sluice gen`'s 256x256x3).
  * A torch DataLoader with --workers processes reads it: the row groups of all files, in file order, are
    dealt round-robin to the workers; each worker decodes its row groups' tensor column with pyarrow
    (iter_batches, so a batch is ready before its whole row group is) and packs whole uint8 NHWC batches of
    --batch images into shared-memory tensors (only the last batch of a worker is short).
  * The DataLoader pins each batch (pin_memory=True) and, where this torch has it, hands batches over as they
    are ready rather than in worker order (in_order=False); --prefetch batches per worker.
  * The main process copies each pinned batch to the GPU without blocking (into one preallocated device
    buffer, so a short batch is padded and the compiled graph never sees a new shape), then one function does
    the centre crop (torchvision's eval transform on images whose shorter side is already 256: Resize(256) is
    the identity, CenterCrop(224)), /255 and the ImageNet normalisation, the cast to fp16, ResNet-50 in
    channels_last, softmax and top-5 -- under torch.compile with --mode compile (inductor fuses the
    preprocessing into one kernel; freezing folds batch-norm), eagerly with --mode eager.
  * The top-5 of every image are gathered on the GPU, brought back once, and written with --output as one
    Parquet file in Sluice's output schema (id "file:row", top_k list<int32>, scores list<float>).

Timing: the model is compiled and warmed up on a dummy batch first (reported as warmup_seconds, not timed),
as a long-running inference service would be. Each timed epoch runs from creating the DataLoader (its worker
processes start inside the timed part) to the last prediction on the host (and written, with --output).
--repeat N runs N epochs; the JSON line has each epoch and the best.

Prints one JSON line on stdout: {"images_per_s", "images", "seconds", "version": "torch X", "epochs": [...],
"warmup_seconds", "workers", "batch", "row_groups", ...}. --device cpu --workers 2 --batch 8 --limit 32
--precision fp32 --mode eager is the smoke test that runs without a GPU.
"""

import argparse
import inspect
import sys
import time
import warnings

import torch_gpu_common as g

CROP = 224
RESIZE = 256


def parse():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", required=True, help="directory of Parquet files (or one file)")
    ap.add_argument("--column", default="image")
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--workers", type=int, default=14)
    ap.add_argument("--prefetch", type=int, default=4, help="batches in flight per worker")
    ap.add_argument("--precision", default="fp16", choices=g.PRECISIONS)
    ap.add_argument("--mode", default="compile", choices=("compile", "eager"))
    ap.add_argument("--freezing", action=argparse.BooleanOptionalAction, default=True,
                    help="inductor freezing with --mode compile (batch-norm folded into the convolutions)")
    ap.add_argument("--repeat", type=int, default=1, help="timed epochs over the dataset")
    ap.add_argument("--warmup", type=int, default=2, help="untimed passes on a dummy batch first (compilation)")
    ap.add_argument("--limit", type=int, default=None, help="at most N images per epoch")
    ap.add_argument("--output", default=None, help="directory for the predictions (one Parquet file)")
    ap.add_argument("--model", default="resnet50", choices=g.RESNETS, help="torchvision's (resnet50 also without it)")
    ap.add_argument("--weights", default=None, help="safetensors file with a torchvision ResNet state_dict")
    ap.add_argument("--device", default="cuda")
    args = ap.parse_args()
    if min(args.batch, args.workers, args.prefetch, args.repeat, args.warmup) < 1 or (args.limit is not None and args.limit < 1):
        ap.error("--batch, --workers, --prefetch, --repeat and --limit must be positive")
    return args


# ---- reading (in the DataLoader's worker processes) ----------------------------------------------------

def row_group_units(files, limit):
    """(file index, row group, first row of the group in its file, rows) of every row group in file order, cut
    at `limit` images."""
    import pyarrow.parquet as pq
    units, total = [], 0
    for index, path in enumerate(files):
        meta = pq.read_metadata(str(path))
        first = 0
        for rg in range(meta.num_row_groups):
            rows = meta.row_group(rg).num_rows
            if limit is not None:
                rows = min(rows, limit - total)
            if rows > 0:
                units.append((index, rg, first, rows))
                total += rows
            first += meta.row_group(rg).num_rows
    return units


def images_of(record_batch, shape):
    """uint8 numpy (N, H, W, C) of a record batch's tensor column (its storage: list<uint8> or large_list)."""
    import pyarrow as pa
    column = record_batch.column(0)
    if isinstance(column, pa.ExtensionArray):
        column = column.storage
    values = column.flatten().to_numpy(zero_copy_only=False)
    return values.reshape((len(record_batch),) + shape)


def make_dataset(torch, files, units, column, shape, batch):
    class RowGroups(torch.utils.data.IterableDataset):
        """Worker w of W reads units w, w+W, ...; yields (uint8 (n,H,W,C), int64 (n,2) [file, row]) batches."""

        def __iter__(self):
            import numpy as np
            import pyarrow.parquet as pq
            info = torch.utils.data.get_worker_info()
            worker, workers = (info.id, info.num_workers) if info else (0, 1)
            pixels = keys = None
            filled = 0
            for file_index, rg, first_row, rows in units[worker::workers]:
                reader = pq.ParquetFile(str(files[file_index]))
                done = 0
                for record_batch in reader.iter_batches(batch_size=batch, row_groups=[rg], columns=[column],
                                                        use_threads=False):
                    images = images_of(record_batch, shape)[:rows - done]
                    offset = 0
                    while offset < len(images):
                        if pixels is None:
                            # In shared memory from the start: handing it to the main process copies nothing.
                            pixels = torch.empty((batch,) + shape, dtype=torch.uint8).share_memory_()
                            keys = torch.empty((batch, 2), dtype=torch.int64)
                            filled = 0
                        n = min(batch - filled, len(images) - offset)
                        pixels.numpy()[filled:filled + n] = images[offset:offset + n]
                        keys[filled:filled + n, 0] = file_index
                        keys[filled:filled + n, 1] = torch.arange(first_row + done + offset,
                                                                  first_row + done + offset + n)
                        filled += n
                        offset += n
                        if filled == batch:
                            yield pixels, keys
                            pixels = None
                    done += len(images)
                    if done >= rows:
                        break
            if pixels is not None and filled:
                yield pixels[:filled], keys[:filled]

    return RowGroups()


def fit_prefetch(args, shape):
    """Batches in flight live in /dev/shm (workers x (prefetch + 1) of them): a small /dev/shm (a container's
    default is 64 MiB) gets fewer per worker rather than a bus error. Returns (prefetch, free bytes or None)."""
    import shutil
    try:
        free = shutil.disk_usage("/dev/shm").free
    except OSError:
        return args.prefetch, None
    batch_bytes = args.batch * shape[0] * shape[1] * shape[2]
    fits = int(0.8 * free // max(1, batch_bytes * args.workers)) - 1
    prefetch = max(1, min(args.prefetch, fits))
    if prefetch < args.prefetch:
        print(f"torch_gpu_pipeline: /dev/shm has {free / 2**30:.1f} GiB free: prefetch {prefetch} instead of "
              f"{args.prefetch} batches per worker", file=sys.stderr)
    return prefetch, free


def make_loader(torch, dataset, args, device):
    options = dict(batch_size=None, num_workers=args.workers, pin_memory=device.type == "cuda",
                   prefetch_factor=args.prefetch, persistent_workers=False)
    if "in_order" in inspect.signature(torch.utils.data.DataLoader.__init__).parameters:
        options["in_order"] = False
    return torch.utils.data.DataLoader(dataset, **options), options.get("in_order", True)


# ---- the GPU side ----------------------------------------------------------------------------------------

def make_step(torch, model, dtype, shape, device):
    """uint8 (B, H, W, C) on the device -> (top-5 probabilities, top-5 classes)."""
    import torch.nn.functional as F
    height, width = shape[0], shape[1]
    needs_resize = min(height, width) != RESIZE
    if needs_resize:
        scale = RESIZE / min(height, width)
        height, width = round(height * scale), round(width * scale)
    top, left = int(round((height - CROP) / 2.0)), int(round((width - CROP) / 2.0))
    std = torch.tensor(g.STD, device=device).view(1, 3, 1, 1)
    mean = torch.tensor(g.MEAN, device=device).view(1, 3, 1, 1)
    scale_, bias = 1.0 / (255.0 * std), -mean / std

    def step(pixels):
        x = pixels.permute(0, 3, 1, 2).float()       # NCHW view of NHWC memory: channels_last strides
        if needs_resize:
            x = F.interpolate(x, size=(height, width), mode="bilinear", align_corners=False, antialias=True)
        x = x[:, :, top:top + CROP, left:left + CROP] * scale_ + bias
        x = x.to(dtype).contiguous(memory_format=torch.channels_last)
        probabilities = model(x).float().softmax(dim=1)
        return probabilities.topk(5, dim=1)

    return step


def main():
    args = parse()
    torch = g.require_torch()
    try:
        import numpy as np  # noqa: F401
        import pyarrow  # noqa: F401
    except ImportError as error:
        print(f"peer not installed: {error}", file=sys.stderr)
        return g.NOT_INSTALLED
    import _common
    device = g.pick_device(torch, args.device)
    if args.mode == "compile" and not hasattr(torch, "compile"):
        print(f"--mode compile needs torch >= 2.0 (this is {torch.__version__})", file=sys.stderr)
        return g.NOT_INSTALLED
    files = _common.input_files(args.dataset)
    if not files:
        print(f"no .parquet files in {args.dataset}", file=sys.stderr)
        return 2
    shape = _common.image_shape(files[0], args.column)
    units = row_group_units(files, args.limit)
    prefetch_asked = args.prefetch
    args.prefetch, shm_free = fit_prefetch(args, shape)
    stdout = g.claim_stdout()

    dtype = g.set_precision(torch, args.precision)
    t0 = time.perf_counter()
    model, source = g.build_model(torch, device, dtype, args.weights, name=args.model)
    step = make_step(torch, model, dtype, shape, device)
    staging = torch.zeros((args.batch,) + shape, dtype=torch.uint8, device=device)
    notes, freezing = [], False
    with torch.inference_mode():
        def warm_up(fn):
            for _ in range(args.warmup):
                fn(staging)
        if args.mode == "compile":
            # Falls back to eager rather than report nothing; the JSON line then says so (compile_notes, mode).
            step, freezing, notes = g.compile_and_warm_up(torch, step, warm_up, freezing=args.freezing,
                                                          allow_eager=True, label="torch_gpu_pipeline")
        else:
            warm_up(step)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
    warmup = time.perf_counter() - t0

    epochs = []
    for _ in range(args.repeat):
        epochs.append(run_epoch(torch, args, files, units, shape, device, step, staging))
    best = max(epochs, key=lambda e: e["images_per_s"])
    mode = "eager (torch.compile failed)" if notes and notes[-1] == "ran eagerly instead" else args.mode
    line = {"peer": f"torch_gpu_pipeline {mode}", "model": args.model, "images_per_s": best["images_per_s"],
            "images": best["images"], "seconds": best["seconds"], "epochs": epochs,
            "warmup_seconds": round(warmup, 2), "batch": args.batch, "workers": args.workers,
            "prefetch": args.prefetch, "prefetch_asked": prefetch_asked, "dev_shm_free_bytes": shm_free,
            "precision": args.precision, "mode": mode,
            "files": len(files), "row_groups": len(units), "image_shape": list(shape), "model_source": source,
            "cores": _common.cores()}
    if args.mode == "compile":
        line["freezing"] = freezing
        if notes:
            line["compile_notes"] = notes
    line.update(g.environment(torch, device))
    g.report(stdout, line)
    return 0


def run_epoch(torch, args, files, units, shape, device, step, staging):
    import numpy as np
    t0 = time.perf_counter()
    loader, in_order = make_loader(torch, make_dataset(torch, files, units, args.column, shape, args.batch),
                                   args, device)
    probabilities, classes, keys = [], [], []
    images = 0
    first_batch = None
    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        for pixels, batch_keys in loader:
            if first_batch is None:
                first_batch = time.perf_counter() - t0
            n = pixels.shape[0]
            staging[:n].copy_(pixels, non_blocking=True)
            p, k = step(staging)
            # The short batch's padding rows hold whatever the previous batch left: their results are dropped.
            probabilities.append(p[:n].clone())
            classes.append(k[:n].clone())
            keys.append(batch_keys)
            images += n
        top_p = torch.cat(probabilities).cpu().numpy() if probabilities else np.zeros((0, 5), np.float32)
        top_k = torch.cat(classes).cpu().numpy().astype(np.int32) if classes else np.zeros((0, 5), np.int32)
    key_array = torch.cat(keys).numpy() if keys else np.zeros((0, 2), np.int64)
    if args.output:
        write_predictions(args.output, files, key_array, top_k, top_p)
    seconds = time.perf_counter() - t0
    return {"images": images, "seconds": round(seconds, 3), "images_per_s": round(images / seconds, 1),
            "first_batch_seconds": round(first_batch or 0.0, 3), "in_order": in_order}


def write_predictions(output, files, keys, classes, scores):
    import _common
    ids = [f"{files[f].name}:{row}" for f, row in keys.tolist()]
    _common.write_part(output, "predictions.parquet", _common.predictions_table(ids, classes, scores))


if __name__ == "__main__":
    sys.exit(main())
