#!/usr/bin/env python3
"""How often the peers' reduced precisions keep fp32's top-1 class: the same measurement `sluice eval
--reference` makes, on the same images, for ONNX Runtime int8 (quantize_static, QDQ, per-channel weights) and
OpenVINO bf16 and int8 (NNCF post-training quantisation, its default preset; non-quantised layers in the
plugin's default precision). Both quantise on the first --calibration images of the dataset, which are then
left out of the agreement, as `sluice eval --calibration auto:N` leaves them out.

    python3 bench/peers/agreement_peers.py --onnx MODEL.onnx --dataset DIR [--calibration 256] [--threads 2]

DIR holds Parquet files (sorted by name; rows in order) with an `id` column and an `image` column of JPEG/PNG
bytes, as scripts/make-eval-dataset writes. Preprocessing is torchvision's evaluation transform on Pillow
images (Resize(256) bilinear, CenterCrop(224), ToTensor, Normalize with ImageNet's mean and std). Prints one
JSON object per engine and precision: top-1 agreement with ONNX Runtime fp32 on the calibration-disjoint images.
Not installed by CI: `pip install onnxruntime openvino nncf pillow pyarrow` (bench/peers/requirements-peers.txt).
"""
import argparse
import io
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
from PIL import Image

MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32).reshape(3, 1, 1)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32).reshape(3, 1, 1)


def preprocess(data):
    image = Image.open(io.BytesIO(data)).convert("RGB")
    w, h = image.size
    size = (256, int(256 * h / w)) if w <= h else (int(256 * w / h), 256)
    image = image.resize(size, Image.BILINEAR)
    left, top = int(round((size[0] - 224) / 2.0)), int(round((size[1] - 224) / 2.0))
    image = image.crop((left, top, left + 224, top + 224))
    x = np.asarray(image, dtype=np.float32).transpose(2, 0, 1) / 255.0
    return (x - MEAN) / STD


def load(dataset):
    images = []
    for path in sorted(Path(dataset).glob("*.parquet")):
        for data in pq.read_table(path, columns=["image"]).column("image").to_pylist():
            images.append(preprocess(data))
    return np.stack(images).astype(np.float32)


def top1(logits):
    return np.argmax(logits, axis=1)


def run_ort(path, x, threads):
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return np.concatenate([session.run(None, {name: x[i:i + 16]})[0] for i in range(0, len(x), 16)])


def ort_int8(path, calibration, workdir):
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Reader(CalibrationDataReader):
        def __init__(self, name):
            self.items = iter([{name: calibration[i:i + 1]} for i in range(len(calibration))])

        def get_next(self):
            return next(self.items, None)

    import onnxruntime as ort
    name = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).get_inputs()[0].name
    prepared, quantised = Path(workdir) / "prepared.onnx", Path(workdir) / "int8.onnx"
    quant_pre_process(str(path), str(prepared), skip_symbolic_shape=True)
    quantize_static(str(prepared), str(quantised), Reader(name), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
    return quantised


def run_openvino(model, x, threads, precision=None):
    import openvino as ov
    core = ov.Core()
    config = {"INFERENCE_NUM_THREADS": str(threads)}
    if precision:
        config["INFERENCE_PRECISION_HINT"] = precision
    model.reshape([1, 3, 224, 224])
    compiled = core.compile_model(model, "CPU", config)
    return np.concatenate([compiled(x[i:i + 1])[0] for i in range(len(x))])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--onnx", required=True)
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--calibration", type=int, default=256)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    x = load(args.dataset)
    n = args.calibration
    if len(x) <= n:
        sys.exit(f"agreement_peers: the dataset has {len(x)} images, not more than the {n} calibration images")
    calibration, scored = x[:n], slice(n, None)
    reference = run_ort(args.onnx, x, args.threads)

    def report(engine, precision, logits, own_fp32=None):
        agree = float(np.mean(top1(logits[scored]) == top1(reference[scored])))
        row = {"model": Path(args.onnx).stem, "engine": engine, "precision": precision, "images": len(x) - n,
               "calibration_images": n, "top1_agreement_with_ort_fp32": round(agree, 4),
               "max_abs_delta_logit": float(np.max(np.abs(logits[scored] - reference[scored])))}
        if own_fp32 is not None:
            row["top1_agreement_with_own_fp32"] = round(float(np.mean(top1(logits[scored]) == top1(own_fp32[scored]))), 4)
        print(json.dumps(row), flush=True)

    with tempfile.TemporaryDirectory() as workdir:
        try:
            report("onnxruntime", "int8", run_ort(ort_int8(args.onnx, calibration, workdir), x, args.threads))
        except Exception as error:  # a peer that cannot quantise this model is a row, not a stop
            print(json.dumps({"engine": "onnxruntime", "precision": "int8", "unsupported": str(error)[:300]}), flush=True)
    try:
        import nncf
        import openvino as ov
        core = ov.Core()
        ov_fp32 = run_openvino(core.read_model(args.onnx), x, args.threads, "f32")
        report("openvino", "fp32", ov_fp32)
        report("openvino", "bf16", run_openvino(core.read_model(args.onnx), x, args.threads, "bf16"), ov_fp32)
        quantised = nncf.quantize(core.read_model(args.onnx), nncf.Dataset([calibration[i:i + 1] for i in range(n)]),
                                  subset_size=n)
        report("openvino", "int8", run_openvino(quantised, x, args.threads), ov_fp32)
    except ImportError as error:
        print(json.dumps({"engine": "openvino", "unsupported": f"not installed ({error})"}), flush=True)


if __name__ == "__main__":
    main()
