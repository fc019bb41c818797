#!/usr/bin/env python3
"""ONNX Runtime peer of scripts/bench-onnx: model-only images/s of an ONNX file on ONNX Runtime's CPU execution
provider (all graph optimisations, 1 inter-op thread).

  fp32  the file as it is
  bf16  unsupported: the CPU execution provider has no bf16 kernels on x86 (its only bf16 option,
        mlas.enable_gemm_fastmath_arm64_bfloat16, is for Arm64); the row says so
  int8  onnxruntime.quantization: quant_pre_process, then quantize_static (QDQ, per-channel s8 weights, u8
        activations: the U8S8 form ORT recommends on x86, MinMax calibration on --calibration-samples seeded
        samples), kept in --cache-dir

Streams as in sluice-infer-bench: for each --streams S, S sessions of threads/S intra-op threads, each driven by
its own thread. Prints one JSON object per line.

    python3 bench/peers/onnxruntime_onnx_peer.py --onnx model.onnx [--precisions fp32,bf16,int8] [--batch 16]
        [--threads 2] [--streams 1,2] [--seconds 3] [--calibration-samples 32] [--cache-dir DIR]

Not installed by CI: `pip install onnxruntime onnx numpy`.
"""
import sys
import tempfile
from pathlib import Path

import _model_only as m

PEER = "onnxruntime"
NO_BF16 = "ONNX Runtime's CPU execution provider has no bf16 path on x86"


def quantised(args, name, shape, cache):
    """The QDQ int8 model of args.onnx, from the cache or quantised now (not timed)."""
    from onnxruntime.quantization import (CalibrationDataReader, QuantFormat, QuantType, quantize_static)
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.samples = iter(m.calibration_samples(shape, args.calibration_samples))

        def get_next(self):
            sample = next(self.samples, None)
            return None if sample is None else {name: sample}

    path = cache / f"{Path(args.onnx).stem}-{m.file_tag(args.onnx)}-ort-qdq-n{args.calibration_samples}.onnx"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        prepared = path.with_suffix(".prepared.onnx")
        quant_pre_process(args.onnx, str(prepared), skip_symbolic_shape=True)
        quantize_static(str(prepared), str(path), Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
        prepared.unlink()
    return str(path)


def session(ort, path, threads):
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def main():
    args = m.parse_args(__doc__)
    try:
        import onnxruntime as ort
    except ImportError as error:
        print(f"peer not installed: cannot import onnxruntime ({error}); pip install onnxruntime onnx", file=sys.stderr)
        return 3
    cache = Path(args.cache_dir) if args.cache_dir else Path(tempfile.mkdtemp(prefix="sluice-ort-"))
    probe = session(ort, args.onnx, 1).get_inputs()[0]
    name, shape = probe.name, [int(d) for d in probe.shape[1:]]
    for precision in args.precisions:
        try:
            if precision == "fp32":
                path = args.onnx
            elif precision == "int8":
                path = quantised(args, name, shape, cache)
            elif precision == "bf16":
                m.unsupported(PEER, ort.__version__, precision, args.batch, NO_BF16)
                continue
            else:
                m.unsupported(PEER, ort.__version__, precision, args.batch, "unknown precision")
                continue
            x = m.input_batch(shape, args.batch)
            for streams in args.streams:
                sessions = [session(ort, path, max(1, args.threads // streams)) for _ in range(streams)]
                runners = [(lambda s=s: s.run(None, {name: x})) for s in sessions]
                result = m.measure(runners, args.batch, args.seconds, args.min_runs)
                m.emit(peer=PEER, version=ort.__version__, config=precision, batch=args.batch, streams=streams,
                       threads=args.threads, **result)
        except Exception as error:  # one precision failing must not hide the others
            m.unsupported(PEER, ort.__version__, precision, args.batch, f"{type(error).__name__}: {error}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
