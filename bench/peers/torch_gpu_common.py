"""What the PyTorch GPU peers (torch_gpu_model.py, torch_gpu_pipeline.py) and bench/gpu/parity.py share.

  * ResNet-50 from torchvision, or an identical definition here when torchvision is absent or broken (the
    same module names, so the same state_dict keys and the same safetensors file for Sluice);
  * precisions: fp16/bf16 cast the model (weights and activations), tf32 and fp32 stay float32 with
    TF32 tensor cores allowed or forbidden (PyTorch allows TF32 in cuDNN convolutions by default, so fp32
    must forbid it explicitly);
  * safetensors writing/reading by hand when the `safetensors` package is absent (8-byte little-endian
    header length, JSON header padded with spaces to 8 bytes, then the raw little-endian tensors);
  * the one JSON line a peer prints last on stdout.

Runs with PyTorch >= 1.13 (Debian 12's, for the CPU smoke test) and 2.x on a GPU.
"""

import json
import os
import struct
import sys
from pathlib import Path

NOT_INSTALLED = 3
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)
HERE = Path(__file__).resolve().parent


def require_torch():
    try:
        import torch
    except ImportError as error:
        print(f"peer not installed: cannot import torch ({error})", file=sys.stderr)
        sys.exit(NOT_INSTALLED)
    return torch


def torch_version(torch):
    return f"torch {torch.__version__}"


def environment(torch, device):
    """Versions and the device, for the peers' JSON lines."""
    info = {"version": torch_version(torch), "device": str(device)}
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
        info["cuda"] = torch.version.cuda
        info["cudnn"] = torch.backends.cudnn.version()
    return info


def pick_device(torch, name):
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        print(f"no CUDA device visible to torch {torch.__version__} (asked for {name})", file=sys.stderr)
        sys.exit(2)
    return device


# ---- precision ---------------------------------------------------------------------------------------

PRECISIONS = ("fp16", "bf16", "tf32", "fp32")


def set_precision(torch, precision):
    """The dtype of the model and its input for `precision`; sets the TF32 switches either way."""
    tf32 = precision == "tf32"
    try:
        # PyTorch >= 2.9: the fp32_precision settings (the allow_tf32 flags are deprecated, and mixing the two
        # APIs is refused).
        torch.backends.cudnn.conv.fp32_precision = "tf32" if tf32 else "ieee"
        torch.backends.cuda.matmul.fp32_precision = "tf32" if tf32 else "ieee"
    except (AttributeError, RuntimeError, ValueError):
        torch.backends.cudnn.allow_tf32 = tf32
        torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.benchmark = True
    return {"fp16": torch.float16, "bf16": torch.bfloat16}.get(precision, torch.float32)


# ---- the model ---------------------------------------------------------------------------------------

RESNETS = ("resnet18", "resnet34", "resnet50", "resnet101", "resnet152")


def resnet(name="resnet50"):
    """torchvision.models.<name>(); ResNet-50 also without torchvision (defined here, identical state_dict keys)."""
    if name == "resnet50":
        return resnet50()
    try:
        sys.path.insert(0, str(HERE))
        import _common
        return getattr(_common.torchvision().models, name)(), "torchvision"
    except (Exception, SystemExit) as error:
        raise RuntimeError(f"{name} needs torchvision ({error}); only resnet50 is defined without it") from error


def resnet50(num_classes=1000):
    """torchvision.models.resnet50(), or the same network defined here (identical state_dict keys)."""
    try:
        sys.path.insert(0, str(HERE))
        import _common
        with open(os.devnull, "w") as quiet:     # _common prints its own hint when torchvision is missing
            saved, sys.stderr = sys.stderr, quiet
            try:
                models = _common.torchvision().models
            finally:
                sys.stderr = saved
        return models.resnet50(num_classes=num_classes), "torchvision"
    except (Exception, SystemExit):
        return _ResNet50(num_classes), "bench/peers/torch_gpu_common.py"


def _bottleneck_class():
    import torch.nn as nn

    class Bottleneck(nn.Module):
        expansion = 4

        def __init__(self, inplanes, planes, stride=1, downsample=None):
            super().__init__()
            self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(planes)
            self.conv2 = nn.Conv2d(planes, planes, 3, stride=stride, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(planes)
            self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
            self.bn3 = nn.BatchNorm2d(planes * 4)
            self.relu = nn.ReLU(inplace=True)
            self.downsample = downsample

        def forward(self, x):
            identity = x if self.downsample is None else self.downsample(x)
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.relu(self.bn2(self.conv2(out)))
            out = self.bn3(self.conv3(out))
            return self.relu(out + identity)

    return Bottleneck


def _ResNet50(num_classes):
    """torchvision's ResNet-50 (v1.5: the stride on the 3x3 convolution), with its initialisation."""
    import torch
    import torch.nn as nn
    Bottleneck = _bottleneck_class()

    class ResNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.inplanes = 64
            self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
            self.bn1 = nn.BatchNorm2d(64)
            self.relu = nn.ReLU(inplace=True)
            self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
            self.layer1 = self._layer(64, 3)
            self.layer2 = self._layer(128, 4, stride=2)
            self.layer3 = self._layer(256, 6, stride=2)
            self.layer4 = self._layer(512, 3, stride=2)
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.fc = nn.Linear(2048, num_classes)
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                elif isinstance(m, nn.BatchNorm2d):
                    nn.init.constant_(m.weight, 1)
                    nn.init.constant_(m.bias, 0)

        def _layer(self, planes, blocks, stride=1):
            downsample = None
            if stride != 1 or self.inplanes != planes * 4:
                downsample = nn.Sequential(nn.Conv2d(self.inplanes, planes * 4, 1, stride=stride, bias=False),
                                           nn.BatchNorm2d(planes * 4))
            layers = [Bottleneck(self.inplanes, planes, stride, downsample)]
            self.inplanes = planes * 4
            layers += [Bottleneck(self.inplanes, planes) for _ in range(1, blocks)]
            return nn.Sequential(*layers)

        def forward(self, x):
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return self.fc(torch.flatten(self.avgpool(x), 1))

    return ResNet()


def build_model(torch, device, dtype, weights=None, seed=0, name="resnet50"):
    """The ResNet in eval mode on `device`, channels_last, cast to `dtype`: the state_dict in a safetensors
    file, or random weights from torch.manual_seed(seed)."""
    torch.manual_seed(seed)
    model, source = resnet(name)
    if weights:
        model.load_state_dict(load_safetensors(torch, weights))
    model = model.eval().to(device=device, memory_format=torch.channels_last)
    return model.to(dtype=dtype), source


# ---- torch.compile ---------------------------------------------------------------------------------------

def compile_and_warm_up(torch, fn, warm_up, freezing=True, mode=None, allow_eager=False, label="peer"):
    """torch.compile(fn) (inductor; with freezing first when asked: batch-norm folded into the convolutions, weights
    constant-folded), then `warm_up(compiled)` runs the untimed first passes, where compilation happens. A failure
    is retried without freezing, then (allow_eager) with `fn` itself. Returns (callable, freezing used, notes)."""
    import torch._inductor.config as inductor
    notes = []
    for freeze in ([True] if freezing else []) + [False]:
        inductor.freezing = freeze
        torch._dynamo.reset()
        candidate = torch.compile(fn, mode=mode)
        try:
            warm_up(candidate)
            return candidate, freeze, notes
        except Exception as error:  # noqa: BLE001 - recorded, then the next way is tried
            notes.append(f"torch.compile{' with freezing' if freeze else ''} failed: {type(error).__name__}: {error}"[:400])
            print(f"{label}: {notes[-1]}", file=sys.stderr)
    if not allow_eager:
        raise RuntimeError("; ".join(notes))
    warm_up(fn)
    return fn, False, notes + ["ran eagerly instead"]


# ---- safetensors ---------------------------------------------------------------------------------------

_DTYPE_NAMES = {"float32": "F32", "float16": "F16", "bfloat16": "BF16", "int64": "I64", "int32": "I32",
                "uint8": "U8", "float64": "F64"}


def save_safetensors(torch, state, path):
    """Write a state_dict as safetensors: with the `safetensors` package when present, else by hand."""
    state = {name: tensor.detach().to("cpu").contiguous() for name, tensor in state.items()}
    try:
        from safetensors.torch import save_file
        save_file(state, str(path))
        return "safetensors package"
    except ImportError:
        pass
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name in sorted(state):
        tensor = state[name]
        dtype = str(tensor.dtype).replace("torch.", "")
        if dtype not in _DTYPE_NAMES:
            raise ValueError(f"{name}: no safetensors dtype for {tensor.dtype}")
        if dtype == "bfloat16":
            raw = tensor.view(torch.int16).numpy().astype("<i2").tobytes()
        else:
            array = tensor.numpy()
            raw = array.astype(array.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": _DTYPE_NAMES[dtype], "shape": list(tensor.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((-len(text)) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)
    return "written by hand"


def load_safetensors(torch, path):
    """A safetensors file as a dict of CPU tensors: with the package when present, else by hand."""
    try:
        from safetensors.torch import load_file
        return load_file(str(path))
    except ImportError:
        pass
    import numpy as np
    numpy_types = {"F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4", "U8": "u1", "F64": "<f8", "BF16": "<i2"}
    with open(path, "rb") as f:
        data = f.read()
    (length,) = struct.unpack_from("<Q", data, 0)
    header = json.loads(data[8:8 + length])
    base = 8 + length
    state = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        array = np.frombuffer(data, dtype=numpy_types[info["dtype"]], count=(end - begin) // np.dtype(
            numpy_types[info["dtype"]]).itemsize, offset=base + begin).reshape(info["shape"]).copy()
        tensor = torch.from_numpy(array)
        state[name] = tensor.view(torch.bfloat16) if info["dtype"] == "BF16" else tensor
    return state


# ---- output ------------------------------------------------------------------------------------------

def claim_stdout():
    """fd 1 goes to stderr for the rest of the run (DataLoader workers, compilers' chatter); returns a file on
    the original stdout for the final JSON line."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    return os.fdopen(saved, "w")


def report(stream, line):
    print(json.dumps(line), file=stream, flush=True)
