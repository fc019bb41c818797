"""Shared pieces of Sluice's Python peers (bench/peers/*_peer.py).

Every peer runs the same workload: Parquet files in Ray Data's layout (tensor column `image`,
uint8 HWC) -> torchvision's ImageNet eval transform -> ResNet-50 -> softmax top-5 -> Parquet.
This module holds what they share: arguments, the input reader, the transform, the model, the
prediction table, the process-tree sampler (peak RSS, CPU) and the one JSON line on stdout.

Contract with `sluice bench`:
  * stdout carries exactly one line, the JSON result (everything else goes to stderr, including
    what child processes such as Ray workers or Spark's JVM print: see claim_stdout);
  * exit status 3 with "peer not installed: ..." on stderr when a library is missing.
"""

import argparse
import importlib
import json
import os
import sys
import threading
import time
import warnings
from pathlib import Path

NOT_INSTALLED = 3
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)
DEFAULT_SHAPE = (256, 256, 3)
TOP_K = 5
HERE = Path(__file__).resolve().parent


def cores():
    """CPUs this process may run on (the machine's cores unless an affinity mask says fewer)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def require(*names):
    """Import each module by name, or exit NOT_INSTALLED with a message Sluice can show."""
    modules = []
    for name in names:
        try:
            modules.append(importlib.import_module(name))
        except ImportError as error:
            print(f"peer not installed: cannot import {name} ({error}); "
                  f"pip install -r {HERE / 'requirements-peers.txt'}", file=sys.stderr)
            sys.exit(NOT_INSTALLED)
    return modules[0] if len(modules) == 1 else modules


_torchvision_stub = None


def torchvision():
    """Import torchvision, also when its C++ ops cannot load.

    PyPI's Linux torchvision wheels are CUDA builds; next to a CPU-only torch wheel their `_C`
    extension fails to load and torchvision 0.2x then dies at import in `register_fake(
    "torchvision::nms")`. The peers use none of those ops (only models and transforms), so on that
    failure we declare the two op schemas it registers unconditionally and import again.
    """
    global _torchvision_stub
    try:
        return importlib.import_module("torchvision")
    except ImportError as error:
        print(f"peer not installed: cannot import torchvision ({error}); "
              f"pip install -r {HERE / 'requirements-peers.txt'}", file=sys.stderr)
        sys.exit(NOT_INSTALLED)
    except RuntimeError as error:
        if "torchvision::" not in str(error):
            raise
    import torch
    for name in [m for m in sys.modules if m == "torchvision" or m.startswith("torchvision.")]:
        del sys.modules[name]
    _torchvision_stub = torch.library.Library("torchvision", "DEF")   # kept alive: it owns the schemas
    for op in ("nms", "qnms"):
        _torchvision_stub.define(f"{op}(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    return importlib.import_module("torchvision")


def parse_args(description, add_arguments=None):
    ap = argparse.ArgumentParser(description=description,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--input", help="directory of Parquet files (or one file)")
    ap.add_argument("--output", help="directory for the prediction Parquet files")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--limit", type=int, default=None, help="classify at most N images")
    ap.add_argument("--weights", default=None,
                    help="safetensors file with a torchvision ResNet-50 state_dict "
                         "(default: random weights from torch.manual_seed(0))")
    ap.add_argument("--threads", type=int, default=cores(), help="CPU threads/slots (default: cores)")
    ap.add_argument("--check", action="store_true",
                    help="only check that the peer's libraries import: print one JSON line "
                         "{peer, version, installed: true} and exit 0 (3 when not installed)")
    if add_arguments:
        add_arguments(ap)
    args = ap.parse_args()
    if args.check:
        return args
    if not args.input or not args.output:
        ap.error("--input and --output are required")
    if args.batch_size < 1 or args.threads < 1 or (args.limit is not None and args.limit < 1):
        ap.error("--batch-size, --threads and --limit must be positive")
    if not input_files(args.input):
        ap.error(f"no .parquet files in {args.input}")
    if args.weights and not Path(args.weights).is_file():
        ap.error(f"--weights: no such file {args.weights}")
    return args


def check_done(args, peer, version):
    """With --check, everything imported: say so and exit."""
    if args.check:
        print(json.dumps({"peer": peer, "version": version, "installed": True}), flush=True)
        sys.exit(0)


def claim_stdout():
    """Send fd 1 to stderr for the rest of the run (children inherit that); return a file on the
    original stdout for the final JSON line."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    return os.fdopen(saved, "w")


# ---- input -------------------------------------------------------------------------------------

def input_files(path):
    p = Path(path)
    if p.is_file():
        return [p]
    return sorted(f for f in p.glob("*.parquet") if not f.name.startswith((".", "_")))


def tensor_shape(field):
    """(H, W, C) of a Ray/Arrow tensor field: from the extension type, or from the field's
    ARROW:extension:metadata (what pyarrow shows when Ray's extension types are not registered)."""
    shape = getattr(field.type, "shape", None)
    if shape:
        return tuple(int(d) for d in shape)
    raw = (field.metadata or {}).get(b"ARROW:extension:metadata")
    if raw:
        meta = json.loads(raw)
        meta = meta.get("shape", meta) if isinstance(meta, dict) else meta
        if isinstance(meta, list) and len(meta) == 3:
            return tuple(int(d) for d in meta)
    return DEFAULT_SHAPE


def image_shape(path, column="image"):
    import pyarrow.parquet as pq
    return tensor_shape(pq.read_schema(str(path)).field(column))


def read_images(path, column="image", limit=None):
    """uint8 array (N, H, W, C) of one Parquet file's tensor column."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq
    table = pq.read_table(str(path), columns=[column])
    if limit is not None:
        table = table.slice(0, limit)
    col = table.column(column)
    chunks = [c.storage if isinstance(c, pa.ExtensionArray) else c for c in col.chunks]
    values = pc.list_flatten(pa.chunked_array(chunks, type=chunks[0].type) if chunks else col)
    pixels = values.to_numpy(zero_copy_only=False)
    return pixels.reshape((table.num_rows,) + tensor_shape(table.schema.field(column)))


# ---- transform, model, output ------------------------------------------------------------------

def preprocess(images):
    """torchvision's ImageNet eval transform on a batch of raw uint8 HWC images (numpy (N,H,W,C)):
    to float /255, Resize(256) bilinear antialiased, CenterCrop(224), Normalize. Returns a float32
    torch tensor (N, 3, 224, 224)."""
    import torch
    torchvision()
    from torchvision.transforms import functional as F
    with warnings.catch_warnings():       # pyarrow's buffers are read-only; nothing writes them
        warnings.simplefilter("ignore", UserWarning)
        x = torch.from_numpy(images).permute(0, 3, 1, 2)
    x = F.convert_image_dtype(x, torch.float32)
    x = F.resize(x, [256], interpolation=F.InterpolationMode.BILINEAR, antialias=True)
    x = F.center_crop(x, [224, 224])
    return F.normalize(x, MEAN, STD).contiguous()


def build_model(weights=None):
    """torchvision resnet50() in eval mode: random weights from torch.manual_seed(0), or the
    state_dict in a safetensors file."""
    import torch
    torchvision()
    from torchvision import models
    torch.manual_seed(0)
    model = models.resnet50()
    if weights:
        from safetensors.torch import load_file
        model.load_state_dict(load_file(weights))
    return model.eval()


def top_k(logits, k=TOP_K):
    """Softmax, then the k best classes: (int32 (N,k), float32 (N,k)) numpy arrays."""
    import numpy as np
    logits = np.asarray(logits, dtype=np.float32)
    z = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs = z / z.sum(axis=1, keepdims=True)
    idx = np.argsort(-probs, axis=1, kind="stable")[:, :k]
    return idx.astype(np.int32), np.take_along_axis(probs, idx, axis=1)


def predictions_table(ids, classes, scores):
    """Sluice's output schema: id string, top_k list<int32>, scores list<float>."""
    import pyarrow as pa
    n, k = classes.shape
    offsets = pa.array([i * k for i in range(n + 1)], type=pa.int32())
    return pa.table({
        "id": pa.array(ids, type=pa.string()),
        "top_k": pa.ListArray.from_arrays(offsets, pa.array(classes.reshape(-1), type=pa.int32())),
        "scores": pa.ListArray.from_arrays(offsets, pa.array(scores.reshape(-1), type=pa.float32())),
    })


def write_part(output_dir, name, table):
    """Write one part atomically: a temporary name, then rename."""
    import pyarrow.parquet as pq
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / f".tmp-{os.getpid()}-{name}"
    pq.write_table(table, str(tmp))
    os.replace(tmp, out / name)


def classify_files(args, logits_of):
    """The plain loop (what the PyTorch and ONNX Runtime peers run): each input file in order, read,
    preprocessed in batches of args.batch_size, `logits_of(batch)` (a float32 torch tensor
    (N, 3, 224, 224) in, (N, classes) logits out), top-k written as one part per file. Stops after
    args.limit images. Returns the number of images classified."""
    import numpy as np
    done = 0
    for path in input_files(args.input):
        if args.limit is not None and done >= args.limit:
            break
        images = read_images(path, limit=None if args.limit is None else args.limit - done)
        classes, scores = [], []
        for start in range(0, len(images), args.batch_size):
            k, s = top_k(logits_of(preprocess(images[start:start + args.batch_size])))
            classes.append(k)
            scores.append(s)
        ids = [f"{path.stem}:{row}" for row in range(len(images))]
        write_part(args.output, path.name, predictions_table(ids, np.concatenate(classes), np.concatenate(scores)))
        done += len(images)
    return done


def count_rows(output_dir):
    """Rows in the Parquet files of a directory (what a framework wrote)."""
    import pyarrow.parquet as pq
    return sum(pq.read_metadata(str(f)).num_rows for f in input_files(output_dir))


# ---- measurement -------------------------------------------------------------------------------

class TreeMonitor:
    """Samples this process and all its descendants (Ray's raylet and workers, Spark's JVM and its
    Python workers) every `interval` seconds: the peak of the summed RSS, and CPU seconds used
    since start(). RSS of shared pages (Ray's object store in /dev/shm, shared libraries) counts
    once per process mapping it, as `ps` shows; CPU of a process that starts and ends between two
    samples is missed."""

    def __init__(self, interval=0.2):
        import psutil
        self._psutil = psutil
        self.interval = interval
        self.root = psutil.Process()
        self.peak_rss = 0
        self._first = {}
        self._last = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def start(self):
        self._sample(initial=True)
        self.started = time.perf_counter()
        self._thread.start()
        return self

    def _sample(self, initial=False):
        psutil = self._psutil
        try:
            procs = [self.root] + self.root.children(recursive=True)
        except psutil.Error:
            procs = [self.root]
        rss = 0
        for p in procs:
            try:
                with p.oneshot():
                    rss += p.memory_info().rss
                    t = p.cpu_times()
                    key = (p.pid, p.create_time())
            except psutil.Error:
                continue
            self._last[key] = t.user + t.system
            if initial:
                self._first[key] = t.user + t.system
        self.peak_rss = max(self.peak_rss, rss)

    def _run(self):
        while not self._stop.wait(self.interval):
            self._sample()

    def stop(self):
        self._sample()
        self._stop.set()
        self._thread.join()
        seconds = time.perf_counter() - self.started
        cpu = sum(v - self._first.get(k, 0.0) for k, v in self._last.items())
        return {"peak_rss_bytes": int(self.peak_rss), "cpu_seconds": round(cpu, 2),
                "cpu_utilisation": round(cpu / (seconds * cores()), 3) if seconds > 0 else 0.0}


def report(stream, peer, version, images, seconds, measured, **extra):
    """Print the peer's one JSON result line."""
    line = {"peer": peer, "version": version, "images": int(images), "seconds": round(seconds, 3),
            "images_per_s": round(images / seconds, 3) if seconds > 0 else 0.0,
            "peak_rss_bytes": measured["peak_rss_bytes"],
            "cpu_utilisation": measured["cpu_utilisation"], "cpu_seconds": measured["cpu_seconds"],
            "cores": cores()}
    line.update(extra)
    print(json.dumps(line), file=stream, flush=True)
