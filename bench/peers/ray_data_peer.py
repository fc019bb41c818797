#!/usr/bin/env python3
"""Ray Data peer of `sluice bench`, as the public Ray/Spark/SageMaker comparison used Ray Data:

    ray.data.read_parquet(input)                                  # tensor column -> numpy batches
      .map_batches(preprocess, batch_size=B)                      # stateless tasks
      .map_batches(Classifier, batch_size=B,
                   compute=ActorPoolStrategy(size=ACTORS))        # actor pool, model loaded once
      .write_parquet(output)

on a local Ray instance limited to --threads CPUs (default: the cores). The benchmark gave each
model actor a GPU; here each actor asks Ray for 1 CPU (so preprocessing tasks can run beside it)
and runs torch with --threads-per-actor threads (default: cores // actors). With equal CPU requests
Ray fuses the preprocessing map into the actors (its default plan on a CPU-only machine);
--preprocess-cpus 0.5 keeps it in separate tasks. Ray's defaults are kept otherwise (object store
size, block sizes, backpressure). Ray's own ds.stats() goes to stderr. Output: Ray's file names;
columns id (the input file's stem: Ray does not carry row numbers), top_k, scores as in Sluice's
output. Prints one JSON line on stdout.

    python3 bench/peers/ray_data_peer.py --input DIR --output DIR [--batch-size 64] [--limit N]
        [--actors 1] [--threads-per-actor N] [--weights resnet50.safetensors]
"""

import os
import sys
import time

import _common as c


def preprocess(batch):
    """map_batches UDF: the eval transform on a numpy batch {"image": (N,H,W,C) uint8, "path"}."""
    x = c.preprocess(batch["image"]).numpy()
    return {"id": [os.path.splitext(os.path.basename(p))[0] for p in batch["path"]], "image": x}


class Classifier:
    """Actor-pool UDF: ResNet-50 built once per actor."""

    def __init__(self, weights, threads):
        import torch
        torch.set_num_threads(threads)
        self.torch = torch
        self.model = c.build_model(weights).to(memory_format=torch.channels_last)

    def __call__(self, batch):
        torch = self.torch
        x = torch.from_numpy(batch["image"]).to(memory_format=torch.channels_last)
        with torch.inference_mode():
            logits = self.model(x).numpy()
        classes, scores = c.top_k(logits)
        return c.predictions_table(list(batch["id"]), classes, scores)   # Sluice's output schema


def main():
    def extra(ap):
        ap.add_argument("--actors", type=int, default=1, help="model actors in the pool (default 1)")
        ap.add_argument("--threads-per-actor", type=int, default=None)
        ap.add_argument("--preprocess-cpus", type=float, default=1.0,
                        help="CPUs Ray reserves per preprocessing task (default 1, as for an actor, "
                             "so Ray fuses preprocessing into the actors; another value keeps "
                             "preprocessing in its own tasks, as with the benchmark's GPU actors)")
    args = c.parse_args(__doc__, extra)
    ray = c.require("ray")
    c.require("ray.data", "torch", "pyarrow", "psutil")
    c.torchvision()
    c.check_done(args, "ray_data", ray.__version__)
    threads_per_actor = args.threads_per_actor or max(1, args.threads // args.actors)
    stdout = c.claim_stdout()

    monitor = c.TreeMonitor().start()
    t0 = time.perf_counter()
    # workers import _common from this directory
    path = os.pathsep.join([str(c.HERE)] + [p for p in [os.environ.get("PYTHONPATH")] if p])
    ray.init(num_cpus=args.threads, include_dashboard=False, log_to_driver=True,
             runtime_env={"env_vars": {"PYTHONPATH": path}})
    startup = time.perf_counter() - t0

    ds = ray.data.read_parquet(args.input, include_paths=True).select_columns(["path", "image"])
    if args.limit is not None:
        ds = ds.limit(args.limit)
    ds = ds.map_batches(preprocess, batch_size=args.batch_size, num_cpus=args.preprocess_cpus)
    ds = ds.map_batches(Classifier, batch_size=args.batch_size, num_cpus=1,
                        compute=ray.data.ActorPoolStrategy(size=args.actors),
                        fn_constructor_kwargs={"weights": args.weights, "threads": threads_per_actor})
    ds.write_parquet(args.output, mode="overwrite")
    seconds = time.perf_counter() - t0
    measured = monitor.stop()
    print(ds.stats(), file=sys.stderr)
    images = c.count_rows(args.output)
    ray.shutdown()
    c.report(stdout, "ray_data", ray.__version__, images, seconds, measured,
             startup_seconds=round(startup, 2), batch_size=args.batch_size, actors=args.actors,
             threads_per_actor=threads_per_actor)
    return 0


if __name__ == "__main__":
    sys.exit(main())
