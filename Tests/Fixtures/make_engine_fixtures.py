#!/usr/bin/env python3
"""Expected values for the Inference module's tests, computed by PyTorch/torchvision.

Run with Debian's Python and PyTorch (the PyPI torch wheel drags in gigabytes of CUDA libraries):

    apt-get install python3-torchvision          # torch 1.13, torchvision 0.14, numpy, PIL
    /usr/bin/python3 Tests/Fixtures/make_engine_fixtures.py    # photos from ../shared/data/images ($SLUICE_SHARED)

It writes Tests/Fixtures/engine/ (committed; CI never runs this script and never installs torch):

    photos_u8.npy            uint8 [P,224,224,3]: photos resized to 256 (bilinear, antialiased) and
                             centre-cropped to 224, as torchvision's standard ImageNet transform does
    <model>_logits.npy       float32 [N,1000]: torchvision's logits for the inputs below (eval mode, fp32)
    <model>_keys.json        torchvision's state_dict keys with their shapes, in order
    inputs.json              what the N inputs are: the photos, then seeded random tensors
    tiny.safetensors         a small hand-written safetensors file (F32, F16, BF16, metadata)
    tiny_expected.json       its tensors' values, as float32
    ops_expected.json        a small graph of the other operations (grouped dilated convolution, ReLU6, average
                             and max pooling in ceil mode, add, batch-norm, ReLU, global pooling, linear,
                             softmax), its seeded parameters and input, and PyTorch's output
    resnet{34,101,152}_keys.json   the other variants' keys, for the builder's key lists

The weights are not committed: both sides make them from a seed with the generator below, which the
Swift side (Sources/Inference/Models/SeededWeights.swift) implements identically, bit for bit.

Seeded generator (SplitMix64, exact integer arithmetic only):
    mix64(z)   = z ^= z >> 30; z *= 0xBF58476D1CE4E5B9; z ^= z >> 27; z *= 0x94D049BB133111EB; z ^ (z >> 31)
    fnv1a64(s) = FNV-1a 64 over the UTF-8 bytes of s
    base       = mix64(seed ^ fnv1a64(name))          (name: the state_dict key, e.g. "layer1.0.conv1.weight")
    x_i        = mix64(base + (i + 1) * 0x9E3779B97F4A7C15)   (mod 2^64), i = 0, 1, ... in row-major order
    u_i        = float32(int(x_i >> 40) - 2^23) * 2^-23       (exact: a 24-bit integer times a power of 2)
Parameters (all float32 operations, each rounded once):
    conv weight [O,I,kh,kw]  u * sqrt(float32(6 / (I*kh*kw)))        (He uniform)
    fc.weight [O,I]          u * sqrt(float32(1 / I))
    fc.bias [O]              u * sqrt(float32(1 / I))
    bn weight                1 + 0.25 * u; the last BN of a residual branch (bn2 of a BasicBlock, bn3 of a
                             Bottleneck): 0.25 * (1 + 0.25 * u), which keeps the residual stream's growth small
    bn bias                  0.1 * u
    bn running_mean          0.1 * u
    bn running_var           1 + 0.5 * u
    then, for conv and fc weights with an even number I of input channels, each odd input channel is the
    negation of the even one before it (w[:, 2j+1] = -w[:, 2j]): every filter answers differences between
    channels, so the common (input-independent) part of the features cancels instead of growing with depth
    and the classes still depend on the input. With plain He weights every input gets the same top-1.
Seeded inputs [3,224,224]: coarse blocks plus fine noise, 2 * b + 0.5 * p where
    b = uniforms(seed, "input.blocks", 3*7*7) as [3,7,7], each value covering a 32x32 patch, and
    p = uniforms(seed, "input", 3*224*224) as [3,224,224].
"""
import json
import os
import struct
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "engine")
SHARED = os.environ.get("SLUICE_SHARED", os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared")))
IMAGES = os.path.join(SHARED, "data", "images")

WEIGHT_SEED = 20240601
PHOTOS = ["jpeg-444-chelsea.jpg", "jpeg-444-peacock.jpg"]
RANDOM_INPUT_SEEDS = {"resnet18": list(range(1, 31)), "resnet50": list(range(1, 15))}

M64 = (1 << 64) - 1
GAMMA = np.uint64(0x9E3779B97F4A7C15)


def fnv1a64(text):
    h = 0xCBF29CE484222325
    for b in text.encode("utf-8"):
        h = ((h ^ b) * 0x100000001B3) & M64
    return h


def mix64_int(z):
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def mix64(z):
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def uniforms(seed, name, count):
    """float32 values in [-1, 1): u_i of the docstring."""
    base = np.uint64(mix64_int((seed ^ fnv1a64(name)) & M64))
    with np.errstate(over="ignore"):
        i = np.arange(1, count + 1, dtype=np.uint64)
        x = mix64(base + i * GAMMA)
    ints = (x >> np.uint64(40)).astype(np.int64) - (1 << 23)
    return ints.astype(np.float32) * np.float32(2.0 ** -23)


def seeded_parameter(seed, name, shape, module):
    import torch
    count = int(np.prod(shape))
    u = uniforms(seed, name, count)
    f32 = np.float32
    if name.endswith("running_mean"):
        v = f32(0.1) * u
    elif name.endswith("running_var"):
        v = f32(1) + f32(0.5) * u
    elif isinstance(module, torch.nn.Conv2d):
        fan_in = shape[1] * shape[2] * shape[3]
        v = u * np.sqrt(f32(6.0 / fan_in))
    elif isinstance(module, torch.nn.Linear):
        fan_in = module.in_features
        v = u * np.sqrt(f32(1.0 / fan_in))
    elif isinstance(module, torch.nn.BatchNorm2d):
        v = f32(1) + f32(0.25) * u if name.endswith("weight") else f32(0.1) * u
        if name.endswith("weight") and ends_residual_branch(name):
            v = f32(0.25) * v
    else:
        raise ValueError(f"no seeded rule for {name}")
    assert v.dtype == np.float32
    v = v.reshape(shape)
    if len(shape) >= 2 and name.endswith("weight") and shape[1] % 2 == 0 and not isinstance(module, torch.nn.BatchNorm2d):
        v = v.copy()
        v[:, 1::2] = -v[:, 0::2]
    return v


BOTTLENECK = False


def ends_residual_branch(name):
    if not name.startswith("layer"):
        return False
    return name.endswith("bn3.weight") if BOTTLENECK else name.endswith("bn2.weight")


def seeded_model(arch, seed):
    import torchvision
    return seed_model(getattr(torchvision.models, arch)(), seed, bottleneck=arch in ("resnet50", "resnet101", "resnet152"))


def seed_model(model, seed, bottleneck):
    """Gives a torchvision ResNet (or a module with its parameter names) the seeded parameters."""
    import torch
    global BOTTLENECK
    BOTTLENECK = bottleneck
    modules = dict(model.named_modules())
    state = model.state_dict()
    for name, tensor in state.items():
        if name.endswith("num_batches_tracked"):
            continue
        owner = modules[name.rsplit(".", 1)[0]]
        value = seeded_parameter(seed, name, tuple(tensor.shape), owner)
        state[name] = torch.from_numpy(value.copy())
    model.load_state_dict(state)
    return model.eval()


def seeded_input(seed):
    blocks = uniforms(seed, "input.blocks", 3 * 7 * 7).reshape(3, 7, 1, 7, 1)
    blocks = np.broadcast_to(blocks, (3, 7, 32, 7, 32)).reshape(3, 224, 224)
    pixels = uniforms(seed, "input", 3 * 224 * 224).reshape(3, 224, 224)
    return np.float32(2) * blocks + np.float32(0.5) * pixels


MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


def photo_crop(path):
    """uint8 HWC 224x224: Resize(256) + CenterCrop(224) on a PIL image, as torchvision's ImageNet preset."""
    from PIL import Image
    import torchvision.transforms as T
    image = Image.open(path).convert("RGB")
    image = T.CenterCrop(224)(T.Resize(256)(image))
    return np.asarray(image, dtype=np.uint8)


def normalise(crop):
    """ToTensor + Normalize in float32, the same operations the Swift test performs."""
    x = crop.astype(np.float32).transpose(2, 0, 1) / np.float32(255)
    return ((x - MEAN[:, None, None]) / STD[:, None, None]).astype(np.float32)


def write_tiny_safetensors(path):
    """A small safetensors file written by hand from the format's definition, plus its expected values."""
    tensors = {
        "conv.weight": ("F32", [2, 1, 2, 2], np.arange(8, dtype=np.float32) * np.float32(0.5) - np.float32(1)),
        "half.values": ("F16", [3], np.array([1.5, -2.25, 65504.0], dtype=np.float16)),
        "brain.values": ("BF16", [2, 2], np.array([1.0, -0.5, 3.140625, 256.0], dtype=np.float32)),
        "counter": ("I64", [1], np.array([7], dtype=np.int64)),
    }
    header, blobs, offset = {"__metadata__": {"format": "pt", "written_by": "make_engine_fixtures.py"}}, [], 0
    expected = {}
    for name, (dtype, shape, values) in tensors.items():
        if dtype == "BF16":
            raw = (values.astype(np.float32).view(np.uint32) >> 16).astype("<u2").tobytes()
        else:
            raw = values.astype(values.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
        if dtype != "I64":
            expected[name] = {"shape": shape, "values": [float(v) for v in values.astype(np.float32).ravel()]}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((-len(text)) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))
    with open(os.path.join(OUT, "tiny_expected.json"), "w") as f:
        json.dump(expected, f, indent=1)


def ops_graph_expectation():
    """The graph of InferenceTests/OperationsTests.swift, in PyTorch: every parameter is uniforms(7, name)
    times the scale named here, the input uniforms(7, "ops.input") * 2."""
    import torch
    import torch.nn.functional as F
    f32 = np.float32

    def p(name, shape, scale):
        return torch.from_numpy((uniforms(7, name, int(np.prod(shape))) * f32(scale)).reshape(shape))

    x = torch.from_numpy((uniforms(7, "ops.input", 2 * 4 * 11 * 11) * f32(2)).reshape(2, 4, 11, 11))
    a = F.conv2d(x, p("ops.conv1.weight", (6, 2, 3, 3), 0.5), p("ops.conv1.bias", (6,), 0.5),
                 stride=2, padding=2, dilation=2, groups=2)
    a = F.relu6(a * 4)  # the scale is part of conv1's weights below: conv(x, 4w, 4b) = 4·conv(x, w, b)
    p1 = F.avg_pool2d(a, 3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)
    p2 = F.max_pool2d(a, 3, stride=2, padding=1, ceil_mode=True)
    s = p1 + p2
    b = F.batch_norm(s, p("ops.bn.running_mean", (6,), 0.5), p("ops.bn.running_var", (6,), 0.25) + 1,
                     p("ops.bn.weight", (6,), 0.5) + 1, p("ops.bn.bias", (6,), 0.5), training=False, eps=1e-5)
    r = F.relu(b)
    c = F.conv2d(r, p("ops.conv2.weight", (8, 6, 1, 1), 0.5))
    g = F.adaptive_avg_pool2d(c, 1).flatten(1)
    logits = F.linear(g, p("ops.fc.weight", (5, 8), 0.5), p("ops.fc.bias", (5,), 0.5))
    out = F.softmax(logits, dim=1)
    # relu(conv(x) + x) with x = relu(conv0(input)): a convolution whose residual is its own input.
    rx = torch.from_numpy((uniforms(7, "res.input", 2 * 4 * 6 * 6) * f32(2)).reshape(2, 4, 6, 6))
    rx = F.relu(F.conv2d(rx, p("res.conv0.weight", (4, 4, 3, 3), 0.5), padding=1))
    res = F.relu(F.conv2d(rx, p("res.conv.weight", (4, 4, 3, 3), 0.5), p("res.conv.bias", (4,), 0.5), padding=1) + rx)
    return {"output_shape": list(out.shape), "output": [float(v) for v in out.numpy().ravel()],
            "logits": [float(v) for v in logits.numpy().ravel()],
            "residual_output": [float(v) for v in res.numpy().ravel()]}


def main():
    import torch
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    os.makedirs(OUT, exist_ok=True)

    crops = np.stack([photo_crop(os.path.join(IMAGES, p)) for p in PHOTOS])
    np.save(os.path.join(OUT, "photos_u8.npy"), crops)

    inputs = {"weight_seed": WEIGHT_SEED, "photos": PHOTOS, "mean": MEAN.tolist(), "std": STD.tolist(),
              "random_input_seeds": RANDOM_INPUT_SEEDS, "torch": torch.__version__}
    for arch, seeds in RANDOM_INPUT_SEEDS.items():
        model = seeded_model(arch, WEIGHT_SEED)
        batch = np.stack([normalise(c) for c in crops] + [seeded_input(s) for s in seeds])
        with torch.no_grad():
            logits = model(torch.from_numpy(batch)).numpy().astype(np.float32)
        np.save(os.path.join(OUT, f"{arch}_logits.npy"), logits)
        keys = [[k, list(v.shape)] for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")]
        with open(os.path.join(OUT, f"{arch}_keys.json"), "w") as f:
            json.dump(keys, f, separators=(",", ":"))
        top = np.argsort(-logits, axis=1)[:, :5]
        gaps = np.sort(logits, axis=1)[:, -1] - np.sort(logits, axis=1)[:, -2]
        print(f"{arch}: logits max |x| {np.abs(logits).max():.3f}, std {logits.std():.3f}, "
              f"distinct top-1 {len(set(top[:, 0]))}/{len(top)}, min top1-top2 gap {gaps.min():.4f}", file=sys.stderr)
        print(f"{arch}: top-5 of the photos {top[:2].tolist()}", file=sys.stderr)
    with open(os.path.join(OUT, "inputs.json"), "w") as f:
        json.dump(inputs, f, indent=1)
    import torchvision
    for arch in ("resnet34", "resnet101", "resnet152"):
        model = getattr(torchvision.models, arch)()
        keys = [[k, list(v.shape)] for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")]
        with open(os.path.join(OUT, f"{arch}_keys.json"), "w") as f:
            json.dump(keys, f, separators=(",", ":"))
    with torch.no_grad():
        with open(os.path.join(OUT, "ops_expected.json"), "w") as f:
            json.dump(ops_graph_expectation(), f, indent=1)
    write_tiny_safetensors(os.path.join(OUT, "tiny.safetensors"))


if __name__ == "__main__":
    main()
