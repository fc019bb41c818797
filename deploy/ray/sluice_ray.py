#!/usr/bin/env python3
"""Run one Sluice job on a Ray cluster: Ray schedules, Sluice guarantees exactly-once output.

The driver asks `sluice plan` for a balanced split of the input into --tasks groups (by bytes), submits one
Ray task per group, each running the `sluice` binary on its group with `--files-from`, with the CPUs/GPUs
it asks for and retries (`max_retries`, also on a failed exit). Ray gives dynamic load balancing (more
groups than workers: a free worker takes the next group) and retries after node failures; a retried task
skips the parts already committed, and the parts are committed atomically, so every prediction is written
exactly once. The worker that completes the last part writes _SUCCESS; the driver then runs
`sluice status` and exits with its status.

    python3 deploy/ray/sluice_ray.py --input s3://bucket/images/ --output s3://bucket/predictions/ \\
        [--tasks 64] [--num-cpus 4] [--num-gpus 0] [--max-retries 3] [--address auto] [--sluice /path/to/sluice] \\
        -- [more `sluice run` options, e.g. --model resnet50 --weights /models/resnet50.safetensors]

Every node needs the `sluice` binary at the same path (--sluice, default: `sluice` on PATH) and access to
the input and output (S3 credentials in the environment, or a shared file system).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time


def parse_arguments(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--input", action="append", required=True, help="as `sluice run --input` (repeatable)")
    parser.add_argument("--output", required=True)
    parser.add_argument("--tasks", type=int, default=0, help="groups of input files (default: 4 per CPU of the cluster)")
    parser.add_argument("--num-cpus", type=float, default=1.0, help="CPUs per task (Sluice uses them all)")
    parser.add_argument("--num-gpus", type=float, default=0.0)
    parser.add_argument("--max-retries", type=int, default=3)
    parser.add_argument("--address", default=None, help="Ray cluster address (default: ray.init()'s: RAY_ADDRESS or a local cluster)")
    parser.add_argument("--sluice", default="sluice", help="the sluice binary on every node")
    parser.add_argument("run_options", nargs=argparse.REMAINDER, help="after --: more `sluice run` options")
    arguments = parser.parse_args(argv)
    arguments.run_options = [option for option in arguments.run_options if option != "--"]
    return arguments


def inputs_arguments(inputs):
    return [part for path in inputs for part in ("--input", path)]


def plan(sluice, inputs, tasks):
    """The groups of input files, balanced by bytes (`sluice plan --json`)."""
    answer = subprocess.run([sluice, "plan", "--shards", str(tasks), "--json", *inputs_arguments(inputs)],
                            check=True, capture_output=True, text=True)
    return [group["inputs"] for group in json.loads(answer.stdout) if group["inputs"]]


def run_group(sluice, inputs, output, files, run_options, threads):
    """One task: `sluice run` on the listed files. Raises on failure, so that Ray retries it."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as listing:
        listing.write("\n".join(files) + "\n")
    stats = listing.name + ".stats.json"
    command = [sluice, "run", *inputs_arguments(inputs), "--output", output, "--files-from", listing.name,
               "--stats-json", stats, "--no-progress", *run_options]
    if threads and "--model-threads" not in run_options:
        command += ["--model-threads", str(threads)]
    started = time.time()
    try:
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"sluice run exited {result.returncode} on {len(files)} files: {result.stderr[-2000:]}")
        with open(stats) as file:
            report = json.load(file)
        return {"files": len(files), "seconds": time.time() - started, "images": report.get("images"),
                "images_failed": report.get("imagesFailed"), "node": os.uname().nodename}
    finally:
        for path in (listing.name, stats):
            if os.path.exists(path):
                os.unlink(path)


def main(argv):
    arguments = parse_arguments(argv)
    import ray

    ray.init(address=arguments.address)
    tasks = arguments.tasks or max(1, int(ray.cluster_resources().get("CPU", 1) / arguments.num_cpus) * 4)
    groups = plan(arguments.sluice, arguments.input, tasks)
    threads = max(1, int(arguments.num_cpus))
    remote = ray.remote(num_cpus=arguments.num_cpus, num_gpus=arguments.num_gpus,
                        max_retries=arguments.max_retries, retry_exceptions=True)(run_group)
    futures = [remote.remote(arguments.sluice, arguments.input, arguments.output, files, arguments.run_options, threads)
               for files in groups]
    failures = 0
    for future in futures:
        try:
            print(json.dumps(ray.get(future)), flush=True)
        except Exception as error:  # a group that failed past its retries: reported, the others go on
            failures += 1
            print(json.dumps({"error": str(error)[:2000]}), flush=True)
    status = subprocess.run([arguments.sluice, "status", "--output", arguments.output, *inputs_arguments(arguments.input)])
    print(json.dumps({"groups": len(groups), "groups_failed": failures, "complete": status.returncode == 0}), flush=True)
    return 0 if failures == 0 and status.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
