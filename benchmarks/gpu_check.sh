#!/usr/bin/env bash
# The GPU check: everything a lent GPU machine should prove, in <= 8 minutes, into one Markdown report.
#
#   bash benchmarks/gpu_check.sh [--out REPORT.md] [--data DIR]     # on the GPU machine (default report:
#                                                                   #   docs/results/gpu_check.md)
#   bash benchmarks/gpu_check.sh --dry-run [--data DIR] [--out F]   # the same steps on CPU, tiny, < 1 minute
#
# Before: here, `bash ../shared/gpu/make-wheels.sh pytest pluggy iniconfig pygments packaging` (.whl/: Ray, Optuna and pytest
# for Python 3.12) and `.venv/bin/python benchmarks/gpu_pack.py` (.gpu_data/: mnist_spoken and its judges);
# the device run carries [".whl", ".gpu_data"] (gpu_pack.py checks that all of it stays within 64 MiB).
# There: no network, no Ray/Optuna/librosa/soundfile. The wheels are installed under /tmp; the corpus is
# only read, never featurized.
#
# Steps (each with its own time limit; a step that fails or times out is reported, the rest still run):
#   1. speed: steps/s, GFLOP/step and achieved TFLOP/s of SyncGAN (syncgan_semi's trial as the `gpu` preset
#      runs it, and batch 128 bf16), the slides' VAE and VAE-GAN (bf16) against the card's bf16 matmul and
#      datasheet peak, and one syncgan_semi trial's seconds (the per-card figure of docs/clusters.md);
#   2. the tests marked gpu (AMP fp16/bf16 vs fp32 over 50 steps, GPU checkpoint resumed on CPU, a Ray Train
#      GPU worker, a Tune + Optuna study of two trials at 0.5 GPU each);
#   3. time_to_quality.py at the GPU budget: the default recipe at batch 128 (its widths: the step is
#      launch-bound on a GPU), semi-supervised rate 1.0, seeds 0 and 1 at once on the card, 80 s each;
#   4. the slides' VAE and VAE-GAN (100 epochs, batch 128) at once, each stopped at 80 s: epochs done.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD

DRY=0; DATA=.gpu_data; OUT=""
while (($#)); do
    case "$1" in
        --dry-run) DRY=1 ;;
        --data) DATA=$2; shift ;;
        --out) OUT=$2; shift ;;
        *) echo "usage: $0 [--dry-run] [--data DIR] [--out REPORT.md]" >&2; exit 2 ;;
    esac
    shift
done
RES=$(mktemp -d /tmp/gpu-check.XXXXXX)
[[ -n "$OUT" ]] || { ((DRY)) && OUT=$RES/report.md || OUT=docs/results/gpu_check.md; }

if [[ -n "${PYTHON:-}" ]]; then PY=$PYTHON; elif [[ -x .venv/bin/python ]]; then PY=$ROOT/.venv/bin/python; else PY=python3; fi
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
if ! "$PY" -c "import ray, optuna, pytest" 2>/dev/null; then
    [[ -d .whl ]] || { echo "gpu_check: no ray/optuna/pytest and no .whl/ (bash ../shared/gpu/make-wheels.sh pytest pluggy iniconfig pygments packaging)" >&2; exit 2; }
    echo "installing .whl/ into /tmp/xmodal-site"
    "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/xmodal-site .whl/*.whl || exit 2
    export PYTHONPATH="/tmp/xmodal-site:$PYTHONPATH"
fi
[[ -f "$DATA/gpu_data.json" ]] || { echo "gpu_check: no $DATA/gpu_data.json (benchmarks/gpu_pack.py)" >&2; exit 2; }
read -r CORPUS_NAME JUDGE_EPOCHS < <("$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); print(d['corpus_dir'], *d['judge_epochs'])" "$DATA/gpu_data.json")
CORPUS=$(cd "$DATA/$CORPUS_NAME" && pwd)
if ((DRY)); then DEVICE=cpu; else DEVICE=cuda; fi
if ((DRY)); then export OMP_NUM_THREADS=1; else export OMP_NUM_THREADS=${OMP_NUM_THREADS:-4}; fi

# step NAME LIMIT_SECONDS COMMAND...: run it under `timeout`, log it, record rc and seconds in steps.json
STEPS=()
step() {
    local name=$1 limit=$2; shift 2
    local t0=$SECONDS rc
    echo "== $name (limit ${limit}s)"
    timeout --kill-after=10 "$limit" "$@" >"$RES/$name.log" 2>&1; rc=$?
    tail -n 3 "$RES/$name.log"
    STEPS+=("\"$name\": {\"rc\": $rc, \"seconds\": $((SECONDS - t0))}")
}
if ((DRY)); then
    L_SPEED=60; L_TESTS=120; L_TTQ=60; L_SLIDES=60; BUDGET=3; EVAL_EVERY=2; EVAL_SAMPLES=20; SEEDS=(0); GPU_FLAG=(--dry-run)
    TTQ_SET=(--config-set batch_size=16 --config-set sync_warmup_steps=0)
else
    L_SPEED=60; L_TESTS=150; L_TTQ=120; L_SLIDES=100; BUDGET=80; EVAL_EVERY=100; EVAL_SAMPLES=500; SEEDS=(0 1); GPU_FLAG=()
    TTQ_SET=(--config-set batch_size=128)
fi
TTQ_SETTINGS="Default recipe (SyncGANConfig's defaults) at batch 128 (the paper's; widths unchanged: the step is \
launch-bound on a GPU), semi-supervised rate 1.0, amp auto (fp16 on CUDA), seeds ${SEEDS[*]} at once on the one \
device, ${BUDGET} s a run, an evaluation of ${EVAL_SAMPLES} codes every ${EVAL_EVERY} steps (its time counts)."

step speed "$L_SPEED" "$PY" benchmarks/gpu_check.py speed --corpus-dir "$CORPUS" --device "$DEVICE" --out "$RES/speed.json" "${GPU_FLAG[@]}"
step gpu_tests "$L_TESTS" "$PY" -m pytest -q -p no:cacheprovider -m gpu tests/*/test_*gpu*.py -rA
grep -E "^(PASSED|FAILED|SKIPPED|ERROR)|passed|failed|skipped|error" "$RES/gpu_tests.log" | sed 's/^/    /' >"$RES/gpu_tests.txt"
step time_to_quality "$L_TTQ" "$PY" benchmarks/time_to_quality.py --corpus-dir "$CORPUS" --device "$DEVICE" --configs new \
    --rates 1.0 --judge-epochs $JUDGE_EPOCHS "${TTQ_SET[@]}" --stop-at 0.95 --budget "$BUDGET" --eval-every "$EVAL_EVERY" \
    --eval-samples "$EVAL_SAMPLES" --seeds "${SEEDS[@]}" --parallel "${#SEEDS[@]}" --out "$RES/time_to_quality.md"
t0=$SECONDS
for model in vae vaegan; do
    timeout --kill-after=10 "$L_SLIDES" "$PY" benchmarks/gpu_check.py slides --corpus-dir "$CORPUS" --device "$DEVICE" \
        --model $model --budget "$BUDGET" --out "$RES/slides_$model.json" "${GPU_FLAG[@]}" >"$RES/slides_$model.log" 2>&1 &
    eval "PID_$model=$!"
done
wait "$PID_vae"; rc_vae=$?; wait "$PID_vaegan"; rc_vaegan=$?
STEPS+=("\"slides_vae\": {\"rc\": $rc_vae, \"seconds\": $((SECONDS - t0))}" "\"slides_vaegan\": {\"rc\": $rc_vaegan, \"seconds\": $((SECONDS - t0))}")

(IFS=,; echo "{${STEPS[*]}}") >"$RES/steps.json"
"$PY" - "$RES/meta.json" "$DRY" "$CORPUS_NAME" "$TTQ_SETTINGS" <<'EOF'
import json, subprocess, sys, datetime
git = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip() or "unknown"
json.dump({"dry_run": sys.argv[2] == "1", "corpus": sys.argv[3], "ttq_settings": sys.argv[4], "git": git,
           "python": sys.version.split()[0], "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")},
          open(sys.argv[1], "w"))
EOF
mkdir -p "$(dirname "$OUT")"
"$PY" benchmarks/gpu_check.py report --results "$RES" --out "$OUT"
echo "logs: $RES"
grep -q '"rc": [1-9]' "$RES/steps.json" && { echo "gpu_check: a step failed (see the report)"; exit 1; }
exit 0
