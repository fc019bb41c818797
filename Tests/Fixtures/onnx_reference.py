#!/usr/bin/env python3
"""ONNX Runtime's fp32 output (CPU, default options) for each triple of arguments MODEL INPUT.npy OUTPUT.npy."""
import sys

import numpy as np
import onnxruntime as ort

args = sys.argv[1:]
if len(args) % 3 != 0:
    sys.exit("usage: onnx_reference.py (MODEL INPUT.npy OUTPUT.npy)...")
for i in range(0, len(args), 3):
    model, source, target = args[i:i + 3]
    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    feed = {session.get_inputs()[0].name: np.load(source)}
    output = session.run(None, feed)[0].astype(np.float32)
    np.save(target, output)
    print(f"{model}: {output.shape}, max |logit| {np.abs(output).max():.4f}")
