#!/usr/bin/env bash
# The GPU checks, in one command on a lent GPU machine (docs/benchmarks.md, "On a GPU").
#
#   bash scripts/device_check.sh prepare     # here: wheels + Fashion-MNIST into .device/ (git-ignored)
#   # then, through the device tool, once:
#   #   run(command="bash scripts/device_check.sh run", carry=[".device"], timeout_s=600)
#   # or, for benchmark 6 at the issue's W = 10 min, two calls back to back:
#   #   run(command="bash scripts/device_check.sh start", carry=[".device"], timeout_s=300)
#   #   run(command="bash scripts/device_check.sh finish", timeout_s=600)
#
# The GPU machine has python3 (3.12) with torch, torchvision, numpy, scipy, scikit-learn,
# PyYAML, click, matplotlib and pytest, and reaches no registry. So optuna and hpo's other
# needs travel as wheels for that Python, and Fashion-MNIST as Debian's .gz files.
#
# `run` does, writing everything to $OUT (the device tool's folder; .device/out elsewhere):
#   1. the GPU and torch's view of it;
#   2. the tests that need CUDA (the training loop in mixed precision and channels_last,
#      resume, weights that load on a CPU; a worker on the GPU; cuda:auto's round robin);
#   3. benchmark 6's GPU row: arms a, b and e side by side on the one GPU, each with a third of
#      the cores, W = DEVICE_MINUTES (default 6 for `run`, whose tests and benchmark must fit one
#      10-minute command; 10, the issue's W, for `start` + `finish`, which fit the session's
#      15 device minutes only side by side).
# Environment: PYTHON (default python3), DEVICE_MINUTES, DEVICE_PYTHON (prepare: the GPU
# machine's Python version, default 3.12), DEVICE_SKIP_BENCHMARK=1 (steps 1-2 only), DEVICE_WAIT
# (finish: seconds to wait for the benchmark, default 540), DEVICE_INSTALL=0
# and DEVICE_BENCHMARK_ARGS (a smoke run here, on the CPU).
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=.device
WORK=/tmp/hpo-bench-work  # the benchmark's studies and workers' logs, kept for worker_logs
PY=${PYTHON:-python3}
# What the GPU machine lacks of hpo's needs for a worker and the benchmark on SQLite.
PACKAGES=(optuna sqlalchemy alembic mako colorlog greenlet cmaes pytorch-optimizer torchinfo)

prepare() {
    local py=.venv/bin/python
    [[ -x $py ]] || { echo "device_check: no .venv here; run 'bash scripts/setup.sh' first" >&2; exit 1; }
    rm -rf "$DIR/wheels" "$DIR/fashion-mnist"
    mkdir -p "$DIR/wheels" "$DIR/fashion-mnist"
    local name version
    for name in "${PACKAGES[@]}"; do
        # The version installed here: the one this checkout's tests pass with. A package that
        # is not installed here (greenlet is optional for sqlalchemy on some platforms) is
        # fetched at its newest version for the GPU machine's Python instead of stopping.
        local spec=$name
        if version=$("$py" -c "import importlib.metadata as m, sys; print(m.version(sys.argv[1]))" "$name" 2>/dev/null); then
            spec="$name==$version"
        else
            echo "device_check: $name is not installed here; fetching its newest wheel"
        fi
        "$py" -m pip download -q --no-deps --only-binary=:all: --python-version "${DEVICE_PYTHON:-3.12}" \
            --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
            --platform manylinux2014_x86_64 -d "$DIR/wheels" "$spec"
    done
    cp /usr/share/datasets/fashion-mnist/*-ubyte.gz "$DIR/fashion-mnist/"
    du -sh "$DIR"
    echo "device_check: ready; carry '$DIR' (git-ignored) and run 'bash scripts/device_check.sh run'"
}

# What `run` and `start` share: hpo's needs installed, Fashion-MNIST unpacked, the GPU described.
setup_machine() {
    [[ -d $DIR/wheels ]] || { echo "device_check: no $DIR/wheels; run 'bash scripts/device_check.sh prepare' here and carry '$DIR'" >&2; exit 1; }
    # DEVICE_INSTALL=0: hpo's needs are installed already (a smoke run here, PYTHON=.venv/bin/python).
    if [[ ${DEVICE_INSTALL:-1} != 0 ]]; then
        "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/hpo-site "$DIR"/wheels/*.whl
    fi
    export PYTHONPATH="/tmp/hpo-site:$PWD" PYTHONUNBUFFERED=1
    # Unpacked where torchvision looks, in hpo's data folder (HPO_DATA_DIR).
    export HPO_DATA_DIR=/tmp/hpo-data
    mkdir -p "$HPO_DATA_DIR/FashionMNIST/raw"
    local gz
    for gz in "$DIR"/fashion-mnist/*.gz; do
        gunzip -c "$gz" > "$HPO_DATA_DIR/FashionMNIST/raw/$(basename "${gz%.gz}")"
    done
    echo "== 1. the GPU"
    nvidia-smi -L || true
    "$PY" -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), torch.cuda.device_count(), 'bf16', torch.cuda.is_available() and torch.cuda.is_bf16_supported())"
}

cuda_tests() {
    echo "== 2. the tests that need CUDA"
    "$PY" -m pytest -q -p no:cacheprovider -o addopts="" --timeout 300 -rs \
        tests/training/test_cuda.py tests/worker/test_cuda_worker.py tests/deploy/test_gpu_choice.py
}

# Benchmark 6's GPU row: a, b and e side by side (the issue's GPU goal: a above b and e), each
# bound to a third of the cores. DEVICE_BENCHMARK_ARGS replaces the arms and device (a CPU smoke run).
benchmark() {
    local out=$1 minutes=$2
    echo "== 3. benchmark 6, GPU row, W = $minutes min"
    rm -rf "$WORK"  # a fresh folder: the studies of an earlier run here would clash with this one's
    # shellcheck disable=SC2086
    "$PY" benchmarks/search_quality.py --minutes "$minutes" --interval 1 --grace-minutes 1 \
        ${DEVICE_BENCHMARK_ARGS:---device cuda --arms a,b,e --parallel 3} \
        --workdir "$WORK" --out "$out/search_quality-gpu-${minutes}min.json"
}

# The last lines of every worker's log (the studies stay in $WORK): where a late or failed arm was.
worker_logs() {
    local log
    for log in "$WORK"/*/worker*.log; do
        [[ -f $log ]] && { echo "== $log"; tail -n 40 "$log"; }
    done > "$1/worker-logs.txt" 2>&1
}

run() {
    local out=${OUT:-$DIR/out} rc=0
    mkdir -p "$out"
    exec > >(tee -a "$out/device_check.log") 2>&1
    setup_machine
    cuda_tests || rc=$?
    if [[ ${DEVICE_SKIP_BENCHMARK:-0} != 1 ]]; then
        benchmark "$out" "${DEVICE_MINUTES:-6}" || rc=$?
        worker_logs "$out"
    fi
    echo "device_check: done, rc=$rc"
    return "$rc"
}

# W = 10 min (the issue's GPU goal) does not fit one 10-minute command, so it takes two calls:
# `start` sets up, leaves the benchmark running in a session of its own (setsid: the device tool
# ends a command's other processes when it returns) and runs the CUDA tests beside it; `finish`,
# the next call (within the machine's 30 s warm period), waits for the benchmark and brings its
# files back.
BENCH=/tmp/hpo-bench
start() {
    local out=${OUT:-$DIR/out} rc=0
    mkdir -p "$out" "$BENCH"
    exec > >(tee -a "$out/device_check.log") 2>&1
    setup_machine
    local minutes=${DEVICE_MINUTES:-10}
    setsid bash -c "$(declare -f benchmark); PY='$PY' WORK='$WORK' DEVICE_BENCHMARK_ARGS='${DEVICE_BENCHMARK_ARGS:-}' \
        benchmark '$BENCH' '$minutes'; echo \$? > '$BENCH/rc'" > "$BENCH/benchmark.log" 2>&1 < /dev/null &
    disown
    echo "device_check: benchmark 6 started in the background (W = $minutes min, log $BENCH/benchmark.log)"
    cuda_tests || rc=$?
    echo "device_check: tests done, rc=$rc; the benchmark runs on: call 'bash scripts/device_check.sh finish' next"
    tail -5 "$BENCH/benchmark.log" || true
    return "$rc"
}

finish() {
    local out=${OUT:-$DIR/out} waited=0 limit=${DEVICE_WAIT:-540}
    mkdir -p "$out"
    [[ -d $BENCH ]] || { echo "device_check: no benchmark was started on this machine ($BENCH is missing)" >&2; exit 1; }
    # At most DEVICE_WAIT seconds (inside the command's 10 minutes), then whatever there is comes
    # back: the JSON holds every arm done so far, and the workers' logs say where a late arm is.
    while [[ ! -f $BENCH/rc ]] && ((waited < limit)); do sleep 5; waited=$((waited + 5)); done
    cp "$BENCH"/*.json "$BENCH"/*.png "$BENCH/benchmark.log" "$out/" 2>/dev/null || true
    worker_logs "$out"
    cat "$BENCH/benchmark.log"
    if [[ ! -f $BENCH/rc ]]; then
        echo "device_check: the benchmark is still running after ${limit}s; its partial JSON and the workers' logs are in \$OUT" >&2
        return 1
    fi
    echo "device_check: benchmark done, rc=$(cat "$BENCH/rc")"
    return "$(cat "$BENCH/rc")"
}

case "${1:-}" in
    prepare) prepare ;;
    run) run ;;
    start) start ;;
    finish) finish ;;
    *) echo "usage: bash scripts/device_check.sh prepare|run|start|finish" >&2; exit 2 ;;
esac
