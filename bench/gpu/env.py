#!/usr/bin/env python3
"""The machine, for bench/gpu/run.sh's JSON: one JSON object on stdout.

    python3 bench/gpu/env.py                    # GPU, driver, CUDA/cuDNN/torch versions, CPU, memory, /dev/shm,
                                                # and pinned host-to-device copy speed of uint8 batches
    python3 bench/gpu/env.py --nvidia-lib-path  # only the `nvidia/*/lib` folders of this Python's pip wheels,
                                                # colon-separated (for SLUICE_CUDA_LIBRARY_PATH)
Works without torch or a GPU (the fields it cannot read are null or absent).
"""

import glob
import json
import os
import platform
import shutil
import subprocess
import sys
import time


def nvidia_lib_dirs():
    """pip's CUDA wheels (nvidia-cudnn-cu13, nvidia-cuda-nvrtc, nvidia-cublas, ...) live in site-packages/nvidia/*/lib."""
    roots = []
    try:
        import nvidia  # a namespace package: one entry per site-packages that has it
        roots += list(nvidia.__path__)
    except ImportError:
        pass
    import site
    for base in site.getsitepackages() + [site.getusersitepackages()]:
        roots.append(os.path.join(base, "nvidia"))
    folders = []
    for root in roots:
        for lib in sorted(glob.glob(os.path.join(root, "*", "lib"))):
            lib = os.path.realpath(lib)
            if lib not in folders:
                folders.append(lib)
    return folders


def command(args, timeout=20):
    try:
        result = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
        return result.stdout.strip() if result.returncode == 0 else None
    except (OSError, subprocess.TimeoutExpired):
        return None


def nvidia_smi():
    fields = "name,driver_version,memory.total,clocks.max.sm,clocks.max.mem,power.limit,pcie.link.gen.current,pcie.link.width.current"
    text = command(["nvidia-smi", f"--query-gpu={fields}", "--format=csv,noheader"])
    if text is None:
        return None
    return [dict(zip(fields.split(","), [v.strip() for v in line.split(",")])) for line in text.splitlines()]


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def memory_total_bytes():
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def torch_info():
    try:
        import torch
    except ImportError as error:
        return {"torch": None, "error": str(error)}
    info = {"torch": torch.__version__, "cuda": torch.version.cuda, "cuda_available": torch.cuda.is_available()}
    try:
        info["cudnn"] = torch.backends.cudnn.version()
    except Exception:  # noqa: BLE001 - a CPU build has no cuDNN
        info["cudnn"] = None
    try:
        import torchvision
        info["torchvision"] = torchvision.__version__
    except Exception as error:  # noqa: BLE001 - absent, or broken C++ ops
        info["torchvision"] = f"unavailable: {type(error).__name__}: {error}"[:200]
    for name in ("safetensors", "pyarrow", "numpy", "triton"):
        try:
            info[name] = __import__(name).__version__
        except Exception:  # noqa: BLE001
            info[name] = None
    if torch.cuda.is_available():
        p = torch.cuda.get_device_properties(0)
        info["gpu"] = {"name": p.name, "capability": f"{p.major}.{p.minor}", "memory_bytes": p.total_memory,
                       "multiprocessors": p.multi_processor_count, "count": torch.cuda.device_count()}
        info["h2d_pinned_uint8_gb_per_s"] = h2d_bandwidth(torch)
    return info


def h2d_bandwidth(torch, batch=256, seconds=1.0):
    """Pinned uint8 [batch,256,256,3] copies to the device, back to back: GB/s (10^9 bytes)."""
    host = torch.empty((batch, 256, 256, 3), dtype=torch.uint8).pin_memory()
    device = torch.empty_like(host, device="cuda")
    for _ in range(3):
        device.copy_(host, non_blocking=True)
    torch.cuda.synchronize()
    copies, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        for _ in range(10):
            device.copy_(host, non_blocking=True)
        torch.cuda.synchronize()
        copies += 10
    return round(copies * host.numel() / (time.perf_counter() - t0) / 1e9, 2)


def main():
    if "--nvidia-lib-path" in sys.argv:
        print(":".join(nvidia_lib_dirs()))
        return 0
    shm = shutil.disk_usage("/dev/shm") if os.path.isdir("/dev/shm") else None
    work = os.environ.get("WORK", "/tmp")
    disk = shutil.disk_usage(work) if os.path.isdir(work) else None
    libcuda = command(["sh", "-c", "ldconfig -p | grep -E 'libcuda\\.so\\.1|libnvidia-ml'"])
    info = {
        "python": sys.version.split()[0], "python_executable": sys.executable,
        "kernel": platform.release(), "cpu": cpu_model(), "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)), "memory_bytes": memory_total_bytes(),
        "dev_shm_bytes": shm.total if shm else None, "work_disk_free_bytes": disk.free if disk else None,
        "nvidia_smi": nvidia_smi(), "libcuda_in_ldconfig": libcuda.splitlines() if libcuda else None,
        "nvidia_lib_dirs": nvidia_lib_dirs(),
    }
    info.update(torch_info())
    print(json.dumps(info))
    return 0


if __name__ == "__main__":
    sys.exit(main())
