#!/usr/bin/env bash
# The GPU checks, in one command on a lent GPU machine (docs/benchmarks.md, "On a GPU").
#
#   bash scripts/device_check.sh prepare     # here: wheels + Fashion-MNIST into .device/ (git-ignored)
#   # then, through the device tool, once:
#   #   run(command="bash scripts/device_check.sh run", carry=[".device"], timeout_s=600)
#
# The GPU machine has python3 (3.12) with torch, torchvision, numpy, scipy, scikit-learn,
# PyYAML, click, matplotlib and pytest, and reaches no registry. So optuna and hpo's other
# needs travel as wheels for that Python, and Fashion-MNIST as Debian's .gz files.
#
# `run` does, writing everything to $OUT (the device tool's folder; .device/out elsewhere):
#   1. the GPU and torch's view of it;
#   2. the tests that need CUDA (the training loop in mixed precision and channels_last,
#      resume, weights that load on a CPU; a worker on the GPU; cuda:auto's round robin);
#   3. benchmark 6's GPU row: all four arms side by side on the one GPU, each with a quarter of
#      the cores, W = DEVICE_MINUTES (default 6: four arms at 10 minutes each, the issue's W,
#      do not fit the session's 15 device minutes, nor one 10-minute command).
# Environment: PYTHON (default python3), DEVICE_MINUTES, DEVICE_PYTHON (prepare: the GPU
# machine's Python version, default 3.12), DEVICE_SKIP_BENCHMARK=1 (steps 1-2 only).
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=.device
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

run() {
    local py=${PYTHON:-python3} out=${OUT:-$DIR/out}
    mkdir -p "$out"
    exec > >(tee -a "$out/device_check.log") 2>&1
    [[ -d $DIR/wheels ]] || { echo "device_check: no $DIR/wheels; run 'bash scripts/device_check.sh prepare' here and carry '$DIR'" >&2; exit 1; }
    "$py" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/hpo-site "$DIR"/wheels/*.whl
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
    "$py" -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), torch.cuda.device_count(), 'bf16', torch.cuda.is_available() and torch.cuda.is_bf16_supported())"

    echo "== 2. the tests that need CUDA"
    local rc=0
    "$py" -m pytest -q -p no:cacheprovider -o addopts="" --timeout 300 -rs \
        tests/training/test_cuda.py tests/worker/test_cuda_worker.py tests/deploy/test_gpu_choice.py || rc=$?

    if [[ ${DEVICE_SKIP_BENCHMARK:-0} != 1 ]]; then
        echo "== 3. benchmark 6, GPU row"
        # a, b and e side by side (the issue's GPU goal: a above b and e), each bound to a third of the cores.
        "$py" benchmarks/search_quality.py --minutes "${DEVICE_MINUTES:-6}" --interval 1 --device cuda \
            --arms a,b,e --parallel 3 --grace-minutes 1 \
            --out "$out/search_quality-gpu.json" || rc=$?
    fi
    echo "device_check: done, rc=$rc"
    return "$rc"
}

case "${1:-}" in
    prepare) prepare ;;
    run) run ;;
    *) echo "usage: bash scripts/device_check.sh prepare|run" >&2; exit 2 ;;
esac
