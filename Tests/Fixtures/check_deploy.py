#!/usr/bin/env python3
"""Checks the launchers in deploy/: the fields each engine needs are there and agree with each other.
Prints one line per problem and exits 1 if there is any (no cluster runs here; this is their structure)."""

import json
import py_compile
import re
import subprocess
import sys
from pathlib import Path

import yaml

deploy = Path(sys.argv[1])
problems = []


def check(condition, message):
    if not condition:
        problems.append(message)


def option(args, name):
    """The value of --name=value or --name value in an argument list."""
    for i, arg in enumerate(args):
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
        if arg == name and i + 1 < len(args):
            return args[i + 1]
    return None


for manifest in sorted((deploy / "kubernetes").glob("*.yaml")):
    job = yaml.safe_load(manifest.read_text())
    name = manifest.name
    check(job.get("apiVersion") == "batch/v1" and job.get("kind") == "Job", f"{name}: not a batch/v1 Job")
    spec = job["spec"]
    check(spec.get("completionMode") == "Indexed", f"{name}: completionMode must be Indexed (JOB_COMPLETION_INDEX)")
    check(isinstance(spec.get("backoffLimitPerIndex"), int), f"{name}: backoffLimitPerIndex retries one shard")
    pod = spec["template"]["spec"]
    check(pod.get("restartPolicy") == "Never", f"{name}: restartPolicy Never (the Job retries the index)")
    container = pod["containers"][0]
    args = container["args"]
    check(args[0] == "run", f"{name}: the container runs `sluice run`")
    check(option(args, "--shard") == "auto", f"{name}: --shard auto")
    check(option(args, "--shards") == str(spec.get("completions")), f"{name}: --shards must equal completions")
    check(spec.get("parallelism", 0) <= spec.get("completions", 0), f"{name}: parallelism above completions")
    env = {item["name"]: item for item in container.get("env", [])}
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        check("secretKeyRef" in env.get(key, {}).get("valueFrom", {}), f"{name}: {key} from a Secret")
    limits = container["resources"]["limits"]
    check("cpu" in limits and "memory" in limits, f"{name}: cpu and memory limits")
    mounts = {mount["name"] for mount in container.get("volumeMounts", [])}
    check(mounts <= {volume["name"] for volume in pod.get("volumes", [])}, f"{name}: a mount without its volume")

sbatch = deploy / "slurm" / "sluice-array.sbatch"
text = sbatch.read_text()
check(subprocess.run(["bash", "-n", str(sbatch)]).returncode == 0, "sbatch: bash syntax")
check(re.search(r"^#SBATCH --array=0-\d+", text, re.M) is not None, "sbatch: --array=0-N")
check("--shard auto" in text, "sbatch: --shard auto")

definition = json.loads((deploy / "aws-batch" / "job-definition.json").read_text())
submit = json.loads((deploy / "aws-batch" / "submit-job.json").read_text())
command = definition["containerProperties"]["command"]
check(command[0] == "run" and option(command, "--shard") == "auto", "aws-batch: run --shard auto")
check(option(command, "--shards") == "Ref::shards", "aws-batch: --shards from the shards parameter")
check(submit["arrayProperties"]["size"] == int(submit["parameters"]["shards"]), "aws-batch: array size must equal shards")
check(submit["jobDefinition"] == definition["jobDefinitionName"], "aws-batch: submit-job names the definition")
check(any(rule.get("onExitCode") == "2" and rule["action"] == "EXIT" for rule in definition["retryStrategy"]["evaluateOnExit"]),
      "aws-batch: usage errors (exit 2) are not retried")

transform = json.loads((deploy / "sagemaker" / "create-transform-job.json").read_text())
check(transform["BatchStrategy"] in ("MultiRecord", "SingleRecord"), "sagemaker: BatchStrategy")
check(transform["TransformInput"]["ContentType"] in ("application/jsonlines", "application/x-parquet", "image/jpeg", "application/x-npy"),
      "sagemaker: a content type sluice serve takes")
check(transform["TransformOutput"]["Accept"] in ("application/json", "application/jsonlines"), "sagemaker: an Accept sluice serve answers")
check(int(transform["Environment"]["SAGEMAKER_MAX_PAYLOAD_IN_MB"]) == transform["MaxPayloadInMB"], "sagemaker: payload limits agree")

py_compile.compile(str(deploy / "ray" / "sluice_ray.py"), doraise=True)
check('ENTRYPOINT ["sluice"]' in (deploy / "docker" / "Dockerfile").read_text(), "Dockerfile: ENTRYPOINT [\"sluice\"]")

for problem in problems:
    print(problem)
sys.exit(1 if problems else 0)
