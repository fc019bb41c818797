#!/usr/bin/env python3
"""OpenVINO peer of scripts/bench-onnx: model-only images/s of an ONNX file on OpenVINO's CPU plugin.

  fp32  INFERENCE_PRECISION_HINT f32
  bf16  INFERENCE_PRECISION_HINT bf16 (AVX512-BF16 or AMX; the plugin falls back to f32 without them, and the
        row then says which precision the compiled model reports)
  int8  NNCF post-training quantisation (nncf.quantize, default preset, on --calibration-samples seeded
        samples) of the OpenVINO model, saved once as IR in --cache-dir; non-quantised layers run in the
        plugin's default precision

Streams as in sluice-infer-bench: for each --streams S, one compiled model with NUM_STREAMS S and
INFERENCE_NUM_THREADS --threads, S infer requests each driven by its own thread; the batch axis is reshaped to
--batch (static shapes, as Sluice compiles for one batch size). Prints one JSON object per line.

    python3 bench/peers/openvino_peer.py --onnx model.onnx [--precisions fp32,bf16,int8] [--batch 16]
        [--threads 2] [--streams 1,2] [--seconds 3] [--calibration-samples 32] [--cache-dir DIR]

Not installed by CI: `pip install openvino nncf` (bench/peers/requirements-peers.txt).
"""
import sys
import tempfile
from pathlib import Path

import _model_only as m

PEER = "openvino"
OV_PRECISION = {"fp32": "f32", "bf16": "bf16"}


def quantised(core, args, shape, cache):
    """The NNCF int8 model of args.onnx, from the cache or quantised now (not timed)."""
    import nncf
    import openvino as ov
    path = cache / f"{Path(args.onnx).stem}-{m.file_tag(args.onnx)}-nncf-int8-n{args.calibration_samples}.xml"
    if not path.is_file():
        model = core.read_model(args.onnx)
        samples = m.calibration_samples(shape, args.calibration_samples)
        q = nncf.quantize(model, nncf.Dataset(samples), subset_size=len(samples))
        path.parent.mkdir(parents=True, exist_ok=True)
        ov.save_model(q, str(path))
    return core.read_model(str(path))


def int8_share(compiled):
    """'quantised/all' convolutions and matmuls of the executed graph (runtime precision u8/i8)."""
    total = low = 0
    for op in compiled.get_runtime_model().get_ops():
        info = op.get_rt_info()
        if info["layerType"].astype(str) not in ("Convolution", "FullyConnected", "MatMul"):
            continue
        total += 1
        if info["runtimePrecision"].astype(str) in ("u8", "i8"):
            low += 1
    return f"{low}/{total}"


def main():
    args = m.parse_args(__doc__)
    try:
        import openvino as ov
    except ImportError as error:
        print(f"peer not installed: cannot import openvino ({error}); pip install openvino nncf", file=sys.stderr)
        return 3
    core = ov.Core()
    version = ov.__version__.split("-")[0]
    cache = Path(args.cache_dir) if args.cache_dir else Path(tempfile.mkdtemp(prefix="sluice-ov-"))
    probe = core.read_model(args.onnx)
    shape = [d.get_length() for d in list(probe.inputs[0].get_partial_shape())[1:]]
    capabilities = core.get_property("CPU", "OPTIMIZATION_CAPABILITIES")
    for precision in args.precisions:
        try:
            if precision == "int8":
                try:
                    model = quantised(core, args, shape, cache)
                except ImportError as error:
                    m.unsupported(PEER, version, precision, args.batch, f"nncf not installed ({error})")
                    continue
                config = {}
            elif precision in OV_PRECISION:
                if precision == "bf16" and "BF16" not in capabilities:
                    m.unsupported(PEER, version, precision, args.batch, "the CPU plugin reports no BF16 capability")
                    continue
                model = core.read_model(args.onnx)
                config = {"INFERENCE_PRECISION_HINT": OV_PRECISION[precision]}
            else:
                m.unsupported(PEER, version, precision, args.batch, "unknown precision")
                continue
            model.reshape({model.inputs[0].get_any_name(): [args.batch, *shape]})
            x = m.input_batch(shape, args.batch)
            for streams in args.streams:
                compiled = core.compile_model(model, "CPU", {**config, "INFERENCE_NUM_THREADS": str(args.threads),
                                                             "NUM_STREAMS": str(streams)})
                requests = [compiled.create_infer_request() for _ in range(streams)]
                runners = [(lambda r=r: r.infer({0: x})) for r in requests]
                result = m.measure(runners, args.batch, args.seconds, args.min_runs)
                m.emit(peer=PEER, version=version, config=precision, batch=args.batch, streams=streams,
                       threads=args.threads, inference_precision=compiled.get_property("INFERENCE_PRECISION_HINT").get_type_name(),
                       int8_layers=int8_share(compiled) if precision == "int8" else None, **result)
        except Exception as error:  # one precision failing must not hide the others
            m.unsupported(PEER, version, precision, args.batch, f"{type(error).__name__}: {error}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
