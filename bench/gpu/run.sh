#!/usr/bin/env bash
# Issue 19's GPU check in one go, on a machine with an NVIDIA GPU, PyTorch (with CUDA) in `python3`, pip's
# nvidia-* wheels beside it, and no Swift: run from the repository root with the bundle from
# scripts/build-gpu-bundle at bench/gpu/bundle/sluice-gpu.tar.xz.
#
#   bench/gpu/run.sh                 # ~6-8 minutes; writes $OUT/gpubench.json, $OUT/run.log, $OUT/logs.tar.xz
#   DRY_RUN=1 bench/gpu/run.sh       # here, without a GPU: the same steps, tiny, on the CPU (see below)
#
# Steps, each under `timeout` (a failure is recorded and the next step runs), within BUDGET_S seconds overall:
#   env          nvidia-smi, driver, torch/CUDA/cuDNN versions, CPU, /dev/shm, pinned H2D GB/s
#   unpack       the bundle into $WORK/bundle; `sluice --help` with only its libraries
#   parity       bench/gpu/parity.py: seeded ResNet-50 weights (safetensors) and 512 seeded inputs; PyTorch fp32
#                (TF32 off) and fp16 against `sluice predict --device cuda --precision fp32|fp16`
#   gen          `sluice gen` of the seed's 16,232 images in Ray's layout (in the background, during parity)
#   model only   `sluice bench --device cuda` model-only rows (fp16, batch 256) next to
#                bench/peers/torch_gpu_model.py eager, CUDA graph and torch.compile (fp16, batch 256)
#   end to end   `sluice run --device cuda` twice on the 16,232 images, next to bench/peers/torch_gpu_pipeline.py
#                (DataLoader, 14 workers, torch.compile fp16, 2 epochs), both with parity's weights, then the
#                top-1 agreement of their outputs; nvidia-smi sampled during both
#   collect      bench/gpu/collect.py: every figure, ratio and bar into $OUT/gpubench.json
#
# DRY_RUN=1 (no GPU needed): unpacks the bundle (or falls back to .build/release/sluice when there is none),
# checks `sluice --help`, that `sluice run --device cuda` fails at once with exit status 2, compiles the Python
# files, runs parity on the CPU (3 inputs, fp32, oneDNN), the peers' CPU smoke tests, a 48-image `sluice gen`
# and a CPU `sluice run`, then collect. Variables: OUT, WORK, BUDGET_S, PYTHON, BUNDLE, IMAGES, WORKERS.
set -u -o pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
START=$(date +%s)
DRY_RUN=${DRY_RUN:-0}
WORK=${WORK:-/tmp/gpubench-work}
OUT=${OUT:-$WORK/out}
BUNDLE=${BUNDLE:-$ROOT/bench/gpu/bundle/sluice-gpu.tar.xz}
RESERVE_S=20                                   # kept for collect and packing the logs
STEP_SCALE=1                                   # step limits x this (the dry run's CPU steps are slow on 2 shared cores)
if [ "$DRY_RUN" = 1 ]; then
    BUDGET_S=${BUDGET_S:-1200}; STEP_SCALE=4
    PYTHON=${PYTHON:-/usr/bin/python3}
    IMAGES=${IMAGES:-48}; ROWS_PER_FILE=16; BATCH=2; WORKERS=${WORKERS:-2}
    PARITY=(--count 3 --device cpu --sluice-args "" --precisions fp32 --batch-size 4)
    DEVICE_ARGS=(); RUN_PRECISION=fp32
    MODEL_SMOKE=(--device cpu --batch 1 --seconds 0.1 --warmup 1 --precision fp32)
    PIPELINE=(--device cpu --workers "$WORKERS" --batch "$BATCH" --limit 4 --warmup 1 --precision fp32 --mode eager)
else
    BUDGET_S=${BUDGET_S:-480}
    PYTHON=${PYTHON:-python3}
    IMAGES=${IMAGES:-16232}; ROWS_PER_FILE=1000; BATCH=256; WORKERS=${WORKERS:-14}
    PARITY=(--count 512 --device cuda --sluice-args "--device cuda" --precisions fp32,fp16 --batch-size 64)
    DEVICE_ARGS=(--device cuda); RUN_PRECISION=fp16
    PIPELINE=(--device cuda --workers "$WORKERS" --batch "$BATCH" --precision fp16 --mode compile --repeat 2)
fi
export WORK PYTHONUNBUFFERED=1
SELF="$ROOT/bench/gpu/run.sh"

# ---- sub-commands that run as one step (run.sh calls itself under `timeout`) -------------------------------
if [ "${1:-}" = "--sluice-runs" ]; then
    # Two end-to-end runs; the output goes between them (committed parts would be skipped).
    shift
    for i in 1 2; do
        rm -rf "$WORK/out-sluice"
        "$SLUICE" run --input "$WORK/seed" --output "$WORK/out-sluice" "$@" \
            --stats-json "$WORK/results/sluice_run_$i.json" --no-progress || exit $?
    done
    exit 0
fi
if [ "${1:-}" = "--no-gpu-check" ]; then
    # Without a GPU, `sluice run --device cuda` must fail at once with exit status 2 and read no data.
    t0=$(date +%s.%N)
    rm -rf "$WORK/out-nogpu"
    "$SLUICE" run --device cuda --input "$WORK/seed" --output "$WORK/out-nogpu" --no-progress 2> "$WORK/results/no_gpu.err"
    rc=$?
    seconds=$(awk "BEGIN {printf \"%.2f\", $(date +%s.%N) - $t0}")
    "$PYTHON" - "$rc" "$seconds" "$WORK/results/no_gpu.err" "$WORK/out-nogpu" <<'EOF'
import json, os, re, sys
rc, seconds, err, out = int(sys.argv[1]), float(sys.argv[2]), open(sys.argv[3]).read(), sys.argv[4]
wrote = os.path.isdir(out) and any(not n.startswith(".") for n in os.listdir(out))
# Exit status 2 is also ArgumentParser's for an unknown option: the message must be about the GPU.
about_gpu = bool(re.search(r"cuda|gpu|libcuda|driver", err, re.I)) and "Unknown option" not in err
print(json.dumps({"exit": rc, "seconds": seconds, "message": err.strip()[-1500:], "wrote_output": wrote,
                  "message_names_the_gpu": about_gpu, "ok": rc == 2 and not wrote and about_gpu}))
EOF
    exit 0
fi

mkdir -p "$OUT" "$WORK"
rm -rf "$WORK/steps" "$WORK/results" "$WORK/out-sluice" "$WORK/out-torch"
mkdir -p "$WORK/steps" "$WORK/results"
LOG="$OUT/run.log"
: > "$LOG"

log() { echo "[$(date -u +%H:%M:%S) +$(( $(date +%s) - START ))s] $*" | tee -a "$LOG" >&2; }

# step NAME LIMIT_S COMMAND...: stdout/stderr to $WORK/steps/NAME.{out,err}; killed (with its process group) after
# LIMIT_S or what is left of the budget, whichever is less; "exit seconds limit" in NAME.status.
step() {
    local name=$1 limit=$(( $2 * STEP_SCALE )); shift 2
    local left=$(( BUDGET_S - ($(date +%s) - START) - RESERVE_S ))
    if [ "$left" -lt 5 ]; then
        echo "skipped budget spent" > "$WORK/steps/$name.status"
        log "step $name: skipped (the ${BUDGET_S}s budget is spent)"
        return 99
    fi
    [ "$limit" -gt "$left" ] && limit=$left
    log "step $name (limit ${limit}s): $*"
    local t0 t1 rc
    t0=$(date +%s.%N)
    timeout -k 5 "$limit" "$@" > "$WORK/steps/$name.out" 2> "$WORK/steps/$name.err"
    rc=$?
    t1=$(date +%s.%N)
    echo "$rc $(awk "BEGIN {printf \"%.2f\", $t1 - $t0}") $limit" > "$WORK/steps/$name.status"
    log "step $name: exit $rc after $(awk "BEGIN {printf \"%.1f\", $t1 - $t0}")s"
    if [ "$rc" != 0 ]; then tail -n 25 "$WORK/steps/$name.err" | sed 's/^/    | /' >> "$LOG"; fi
    return $rc
}

# GPU samples while a step runs (nvidia-smi, every 200 ms), into $WORK/results/smi_NAME.csv.
SMI_PID=
smi_start() {
    command -v nvidia-smi >/dev/null || return 0
    nvidia-smi --query-gpu=timestamp,utilization.gpu,memory.used,clocks.sm,power.draw \
        --format=csv,noheader,nounits -lms 200 > "$WORK/results/smi_$1.csv" 2>/dev/null &
    SMI_PID=$!
}
smi_stop() { if [ -n "$SMI_PID" ]; then kill "$SMI_PID" 2>/dev/null; wait "$SMI_PID" 2>/dev/null; SMI_PID=; fi; }

# ---- the run ---------------------------------------------------------------------------------------------
log "bench/gpu/run.sh: DRY_RUN=$DRY_RUN WORK=$WORK OUT=$OUT budget ${BUDGET_S}s, $(git rev-parse --short HEAD 2>/dev/null || echo '?')"

step env 40 "$PYTHON" bench/gpu/env.py

# The bundle: unpacked once per run; the wrapper sets LD_LIBRARY_PATH for sluice alone (never for Python).
rm -rf "$WORK/bundle"
mkdir -p "$WORK/bundle"
if [ -f "$BUNDLE" ]; then
    step unpack 90 tar -xJf "$BUNDLE" -C "$WORK/bundle"
    SLUICE="$WORK/bundle/sluice-gpu/sluice"
    LD_LIBRARY_PATH="$WORK/bundle/sluice-gpu/lib" ldd "$WORK/bundle/sluice-gpu/bin/sluice" > "$WORK/results/ldd.txt" 2>&1
    if grep -q 'not found' "$WORK/results/ldd.txt"; then log "ldd: $(grep 'not found' "$WORK/results/ldd.txt" | tr '\n' ' ')"; fi
else
    echo "skipped no bundle at $BUNDLE" > "$WORK/steps/unpack.status"
    log "no bundle at $BUNDLE (scripts/build-gpu-bundle makes it)"
    SLUICE="$ROOT/.build/release/sluice"
    [ "$DRY_RUN" = 1 ] || log "falling back to $SLUICE (only works where Swift's libraries are installed)"
fi
export SLUICE
step sluice_help 30 "$SLUICE" --help

# pip's CUDA libraries (cuDNN, cuBLASLt, NVRTC) beside PyTorch; the driver's libcuda.so.1 comes from the system.
SLUICE_CUDA_LIBRARY_PATH=$("$PYTHON" bench/gpu/env.py --nvidia-lib-path 2>/dev/null)
export SLUICE_CUDA_LIBRARY_PATH
echo "$SLUICE_CUDA_LIBRARY_PATH" > "$WORK/results/cuda_library_path.txt"
log "SLUICE_CUDA_LIBRARY_PATH=$SLUICE_CUDA_LIBRARY_PATH"

if [ "$DRY_RUN" = 1 ]; then
    step py_compile 60 "$PYTHON" -m py_compile bench/gpu/parity.py bench/gpu/env.py bench/gpu/collect.py \
        bench/peers/torch_gpu_common.py bench/peers/torch_gpu_model.py bench/peers/torch_gpu_pipeline.py
fi

# The seed's dataset, written in the background while parity runs (neither is timed); waited for before the
# measurements.
rm -rf "$WORK/seed"
step gen 200 "$SLUICE" gen --out "$WORK/seed" --images "$IMAGES" --rows-per-file "$ROWS_PER_FILE" &
GEN_PID=$!

step parity 240 "$PYTHON" bench/gpu/parity.py --sluice "$SLUICE" --work "$WORK/parity" \
    --json "$WORK/results/parity.json" "${PARITY[@]}"
WEIGHTS=()
[ -f "$WORK/parity/resnet50-seeded.safetensors" ] && WEIGHTS=(--weights "$WORK/parity/resnet50-seeded.safetensors")

wait "$GEN_PID"
if [ "$DRY_RUN" = 1 ]; then
    step no_gpu_check 60 "$SELF" --no-gpu-check
    cp "$WORK/steps/no_gpu_check.out" "$WORK/results/no_gpu_check.json" 2>/dev/null
fi

# (2) model only, batch 256, fp16. Sluice: one copy, then the run's two copies on their own streams.
step sluice_model_only 150 "$SLUICE" bench "${DEVICE_ARGS[@]}" --precision "$RUN_PRECISION" --batch-size "$BATCH" \
    --input "$WORK/seed" --strategies "" --no-peers --json --report-directory "$WORK/results"
if [ "$DRY_RUN" = 1 ]; then
    for mode in eager graph compile; do
        step "torch_model_$mode" 75 "$PYTHON" bench/peers/torch_gpu_model.py --mode "$mode" "${MODEL_SMOKE[@]}"
    done
else
    for mode in eager graph compile; do
        step "torch_model_$mode" "$([ $mode = compile ] && echo 200 || echo 90)" "$PYTHON" bench/peers/torch_gpu_model.py \
            --model resnet50 --batch "$BATCH" --precision fp16 --mode "$mode" --seconds 5
    done
fi

# (3) end to end on the seed's images, with parity's weights on both sides.
smi_start sluice_runs
step sluice_runs 180 "$SELF" --sluice-runs "${DEVICE_ARGS[@]}" --precision "$RUN_PRECISION" --batch-size "$BATCH" "${WEIGHTS[@]}"
smi_stop
smi_start torch_pipeline
step torch_pipeline 240 "$PYTHON" bench/peers/torch_gpu_pipeline.py --dataset "$WORK/seed" --output "$WORK/out-torch" \
    "${PIPELINE[@]}" "${WEIGHTS[@]}"
smi_stop

# (4) one JSON file
RESERVE_S=0
step collect 60 "$PYTHON" bench/gpu/collect.py --work "$WORK" --out "$OUT/gpubench.json" --started "$START" \
    --batch "$BATCH" --precision "$RUN_PRECISION" $([ "$DRY_RUN" = 1 ] && echo --dry-run)
cat "$WORK/steps/collect.out" >> "$LOG"
tar -C "$WORK" -cJf "$OUT/logs.tar.xz" steps results $(cd "$WORK" && ls parity/*.err 2>/dev/null) 2>/dev/null
log "done: $OUT/gpubench.json ($(( $(date +%s) - START ))s)"
cat "$WORK/steps/collect.out"
