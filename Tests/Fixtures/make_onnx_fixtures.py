#!/usr/bin/env python3
"""ONNX models and ONNX Runtime's outputs for the ONNX importer's tests (Tests/ONNXTests).

Run with Debian's Python and PyTorch (torch 1.13's exporter; it needs no `onnx` package):

    /usr/bin/python3 Tests/Fixtures/make_onnx_fixtures.py          # the small committed fixtures
    /usr/bin/python3 Tests/Fixtures/make_onnx_fixtures.py --zoo    # also torchvision models (not committed)

The reference outputs come from ONNX Runtime (PyPI onnxruntime), which this script runs through
Tests/Fixtures/onnx_reference.py with `python3` from PATH (or $ORT_PYTHON).

Committed, in Tests/Fixtures/onnx/ (CI never runs this script and never installs torch):
    tiny_opset11.onnx, tiny_opset17.onnx   a small CNN that uses every operator the importer lowers
                                           (see Tiny below), seeded weights, dynamic batch
    tiny_input.npy                         float32 [3,3,32,32], seeded
    tiny_opset{11,17}_ort.npy              ONNX Runtime's output for tiny_input.npy
Not committed (--zoo), in Tests/Fixtures/generated/onnx-zoo/ (git-ignored):
    <model>.onnx, <model>_input.npy [2,3,224,224], <model>_ort.npy   for torchvision's resnet18, resnet50,
    mobilenet_v2, mobilenet_v3_small, efficientnet_b0, regnet_y_400mf, densenet121 with seeded weights (every
    parameter and batch-norm statistic drawn by `seeded`: torchvision's own initialisation leaves some of these
    models' logits near 1e-9, which would make the comparison meaningless)
    <model>_eval.npy [20,3,224,224]        the int8/bf16 agreement inputs: 16 seeded image-like inputs (smooth
                                           random fields, see `image_like`), then the 4 labelled photos that the
                                           EfficientNet-Lite0 test uses (EVAL_PHOTOS), ImageNet-normalised
    <model>_eval_ort.npy                   ONNX Runtime's fp32 logits for them
    <model>_calibration.npy [8,3,224,224]  int8 calibration inputs, disjoint from the above: 4 seeded image-like
                                           inputs (another seed) and 4 other photos (CALIBRATION_PHOTOS)
    efficientnet_lite0_eval_ort.npy, efficientnet_lite0_calibration.npy   the same for EfficientNet-Lite0's real
                                           weights, where make_efficientnet_lite0.py ran before (its model stays
                                           in generated/efficientnet-lite0/; its inputs are <model>_eval.npy)
"""
import os
import subprocess
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
SMALL = os.path.join(HERE, "onnx")
ZOO = os.path.join(HERE, "generated", "onnx-zoo")


class Tiny(nn.Module):
    """Conv (strided, depthwise, dilated, grouped, asymmetric Pad), BatchNormalization folded and standalone,
    Clip/ReLU6, HardSwish, HardSigmoid, Sigmoid, SiLU (Sigmoid+Mul), LeakyRelu, Relu, squeeze-and-excitation
    (GlobalAveragePool, Mul broadcast), residual Add, Sub/Div by constants, MaxPool, AveragePool, Concat,
    ReduceMean over H,W, Flatten, Reshape, Unsqueeze/Squeeze, Gemm, MatMul + Add, Dropout, Softmax."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU6())
        self.dw = nn.Sequential(nn.Conv2d(8, 8, 3, padding=1, groups=8, bias=False), nn.BatchNorm2d(8), nn.Hardswish())
        self.se_reduce = nn.Conv2d(8, 4, 1)
        self.se_expand = nn.Conv2d(4, 8, 1)
        self.dilated = nn.Sequential(nn.Conv2d(8, 8, 3, padding=2, dilation=2, groups=2), nn.BatchNorm2d(8), nn.SiLU())
        self.residual = nn.Conv2d(8, 8, 3, padding=1)
        self.branch_a = nn.Conv2d(8, 4, 1)
        self.branch_b = nn.Conv2d(8, 4, 3, padding=1)
        self.bn_after_concat = nn.BatchNorm2d(8)
        self.padded = nn.Conv2d(8, 12, 3)
        self.fc1 = nn.Linear(12, 16)
        self.drop = nn.Dropout(0.2)
        self.fc2_weight = nn.Parameter(torch.randn(16, 10) * 0.25)
        self.fc2_bias = nn.Parameter(torch.randn(10) * 0.1)

    def forward(self, x):
        x = self.stem(x)
        y = self.dw(x)
        s = F.adaptive_avg_pool2d(y, 1)
        s = F.hardsigmoid(self.se_expand(F.relu(self.se_reduce(s))))
        y = y * s
        x = x + self.dilated(y)
        x = x + self.residual(x)
        x = F.leaky_relu(x, 0.1)
        x = F.max_pool2d(x, 3, stride=2, padding=1)
        x = torch.cat([self.branch_a(x), self.branch_b(x)], dim=1)
        x = torch.sigmoid(self.bn_after_concat(x))
        x = (x - 0.25) / 0.5
        x = F.avg_pool2d(x, 2, stride=1)
        x = self.padded(F.pad(x, (1, 0, 1, 0)))
        x = x.mean((2, 3))
        x = x.unsqueeze(-1).squeeze(-1)
        x = self.drop(F.relu(self.fc1(x)))
        x = x.reshape(-1, 16)
        logits = torch.matmul(x, self.fc2_weight) + self.fc2_bias
        return torch.cat([logits, torch.softmax(logits, dim=1)], dim=1)


def seeded(model, seed):
    """Every parameter and batch-norm statistic from torch's generator, with non-trivial statistics."""
    torch.manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() > 1:
                p.copy_(torch.randn_like(p) * (2.0 / max(1, p[0].numel())) ** 0.5)
            else:
                p.copy_(torch.randn_like(p) * 0.1 + (1.0 if name.endswith("weight") else 0.0))
        for name, b in model.named_buffers():
            if name.endswith("running_mean"):
                b.copy_(torch.randn_like(b) * 0.1)
            elif name.endswith("running_var"):
                b.copy_(torch.rand_like(b) + 0.5)
    return model.eval()


# The photos come from ../shared/data/images (or $SLUICE_SHARED/data/images), preprocessed as in
# make_efficientnet_lite0.py.
EVAL_PHOTOS = ["jpeg-420-chelsea.jpg", "jpeg-444-chelsea.jpg", "jpeg-420-peacock.jpg", "jpeg-444-peacock.jpg"]
CALIBRATION_PHOTOS = ["jpeg-16bit-qtables-hopper.jpg", "jpeg-420-testorig.jpg", "jpeg-progressive-coffee.jpg",
                      "jpeg-444-restart-flower2.jpg"]


def image_like(seed, count):
    """Smooth random fields with fine noise, in the range of ImageNet-normalised photos (about ±2.5): they
    drive a CNN's activations much more like photos than white noise does."""
    rng = np.random.default_rng(seed)
    coarse = torch.from_numpy(rng.standard_normal((count, 3, 7, 7)).astype(np.float32))
    x = F.interpolate(coarse, size=(224, 224), mode="bicubic", align_corners=False).numpy()
    x += 0.25 * rng.standard_normal(x.shape).astype(np.float32)
    return np.clip(x, -2.5, 2.5).astype(np.float32)


def photos(names):
    from make_efficientnet_lite0 import SHARED, photo
    return np.stack([photo(os.path.join(SHARED, "data", "images", name)) for name in names]).astype(np.float32)


def export(model, path, example, opset):
    torch.onnx.export(model, example, path, opset_version=opset, input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}}, do_constant_folding=True)


def reference(jobs):
    python = os.environ.get("ORT_PYTHON", "python3")
    args = [a for job in jobs for a in job]
    subprocess.run([python, os.path.join(HERE, "onnx_reference.py")] + args, check=True)


def main():
    os.makedirs(SMALL, exist_ok=True)
    rng = np.random.default_rng(17)
    tiny_input = rng.standard_normal((3, 3, 32, 32)).astype(np.float32)
    np.save(os.path.join(SMALL, "tiny_input.npy"), tiny_input)
    tiny = seeded(Tiny(), 17)
    jobs = []
    for opset in (11, 17):
        path = os.path.join(SMALL, f"tiny_opset{opset}.onnx")
        export(tiny, path, torch.from_numpy(tiny_input), opset)
        jobs.append([path, os.path.join(SMALL, "tiny_input.npy"), os.path.join(SMALL, f"tiny_opset{opset}_ort.npy")])
    if "--zoo" in sys.argv:
        import torchvision.models as tvm
        os.makedirs(ZOO, exist_ok=True)
        evaluation = np.concatenate([image_like(2026, 16), photos(EVAL_PHOTOS)])
        calibration = np.concatenate([image_like(7, 4), photos(CALIBRATION_PHOTOS)])
        for seed, name in enumerate(["resnet18", "resnet50", "mobilenet_v2", "mobilenet_v3_small", "efficientnet_b0",
                                     "regnet_y_400mf", "densenet121"]):
            model = seeded(getattr(tvm, name)(), 1000 + seed)
            example = torch.from_numpy(np.random.default_rng(seed).standard_normal((2, 3, 224, 224)).astype(np.float32))
            np.save(os.path.join(ZOO, f"{name}_input.npy"), example.numpy())
            export(model, os.path.join(ZOO, f"{name}.onnx"), example, 17)
            jobs.append([os.path.join(ZOO, f"{name}.onnx"), os.path.join(ZOO, f"{name}_input.npy"),
                         os.path.join(ZOO, f"{name}_ort.npy")])
            np.save(os.path.join(ZOO, f"{name}_eval.npy"), evaluation)
            np.save(os.path.join(ZOO, f"{name}_calibration.npy"), calibration)
            jobs.append([os.path.join(ZOO, f"{name}.onnx"), os.path.join(ZOO, f"{name}_eval.npy"),
                         os.path.join(ZOO, f"{name}_eval_ort.npy")])
        # EfficientNet-Lite0's real weights (make_efficientnet_lite0.py, run first) on the same inputs.
        lite0 = os.path.join(HERE, "generated", "efficientnet-lite0", "efficientnet_lite0.onnx")
        if os.path.exists(lite0):
            np.save(os.path.join(ZOO, "efficientnet_lite0_calibration.npy"), calibration)
            jobs.append([lite0, os.path.join(ZOO, "resnet18_eval.npy"), os.path.join(ZOO, "efficientnet_lite0_eval_ort.npy")])
    reference(jobs)


if __name__ == "__main__":
    main()
