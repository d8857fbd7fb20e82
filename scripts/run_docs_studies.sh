#!/usr/bin/env bash
# Regenerate docs/studies/: one study per reference report (000-004, the seeds this project grew
# out of) on real Fashion-MNIST, then `hpo report` for each, then the report pages and the index
# (python -m docs.studies.tooling.pages), which set each report's conclusions beside the verdicts
# of the reading rules (docs/studies/tooling/rules.py) on the rerun's numbers.
#
#   scripts/run_docs_studies.sh                       # every reference report
#   scripts/run_docs_studies.sh cnn regularization    # some of them (by folder name)
#   SCALE=2 scripts/run_docs_studies.sh               # twice the images and epochs (about 4x the time)
#   SCALE=0.05 DOCS_STUDIES_OUT=/tmp/d/studies DOCS_STUDIES_WORK=/tmp/d/work scripts/run_docs_studies.sh cnn
#                                                     # the pipeline end to end in about two minutes
#
# Each study is a grid of the designs a report's conclusions compare (docs/studies/spaces/), every
# design over SEEDS seeds (`hpo study create --seeds`: the k-th seed of every design trains with
# the same seed, so designs are compared paired), no pruning, under the one-cycle schedule of the
# `auto` space's warm start. At SCALE=1: 10,000 training and 2,000 validation images, 3 seeds,
# 10-15 epochs per study (below). With a visible GPU and no SCALE given, SCALE=4.
#
# Budget at SCALE=1, estimated from measured epoch times: CPU-seconds of one real training
# epoch (hpo.training.train, one thread, process time, so other jobs inflate it little), scaled
# to 10,000 images, per design:
#   cnn                   2 designs x 3 seeds x 15 epochs,  ~4 s/epoch      ~  360 core-s
#   activation_optimizer 14 designs x 3 seeds x 15 epochs, 0.6-1.2 s/epoch  ~  540 core-s
#   regularization        6 designs x 3 seeds x 12 epochs,  8-14 s/epoch    ~ 2580 core-s
#   resnet_optimizer      2 designs x 3 seeds x 10 epochs, 54-56 s/epoch    ~ 3360 core-s
#   architecture         10 designs x 3 seeds x 10 epochs, 0.5-13 s/epoch   ~ 1650 core-s
# ~8,500 core-s of training, +5 % validation (2,000 images), +5 s per trial (102 trials), over
# WORKERS=2: about 80 minutes, plus ~4 minutes of reports and the ONNX export: all five in about
# 85 minutes at nice 10 on this 2-core machine when it is otherwise idle (within 2 hours with
# room for some other load). Time grows about as SCALE squared (images x epochs).
# Each page states the budget it ran at (images, epochs, seeds, wall time).
#
# The studies live in their own storage, $DOCS_STUDIES_WORK (default .docs-studies/, not
# committed); every number in docs/studies/ comes from that storage through `hpo report` and the
# pages tooling. An interrupted run resumes (the studies are kept); after changing the code, a
# budget or SCALE, delete $DOCS_STUDIES_WORK first.
#
# Runs at nice 10 (the machine may be shared); override with NICE=0.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/hpo ] && export PATH="$PWD/.venv/bin:$PATH"
PYTHON=$(dirname "$(command -v hpo)")/python  # the interpreter hpo is installed in
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"  # docs.studies.tooling and the study spaces
NICE=${NICE:-10}
run() { nice -n "$NICE" "$@"; }

WORKERS=${WORKERS:-2}
WORK=${DOCS_STUDIES_WORK:-$PWD/.docs-studies}
OUT=${DOCS_STUDIES_OUT:-docs/studies}
SPACES=docs/studies/spaces
SEEDS=${SEEDS:-3}
if [ -z "${SCALE:-}" ]; then
  SCALE=$("$PYTHON" -c 'import torch; print(4 if torch.cuda.is_available() else 1)')
fi
# SCALE multiplies images and epochs: at least 3 epochs and 500 / 200 images, at most
# Fashion-MNIST's 54,000 / 6,000 (its 60,000 training images less the validation split).
scaled() { awk -v v="$1" -v s="$SCALE" -v lo="$2" -v hi="$3" \
  'BEGIN { x = int(v * s + 0.5); if (x < lo) x = lo; if (x > hi) x = hi; print x }'; }
TRAIN=$(scaled 10000 500 54000)
VAL=$(scaled 2000 200 6000)

mkdir -p "$WORK" "$OUT"
export HPO_STORAGE="sqlite:///$WORK/studies.db"
export HPO_ARTIFACTS="$WORK/artifacts"
export HPO_NUM_THREADS=${HPO_NUM_THREADS:-1}
export HPO_WORKERS_PER_HOST=$WORKERS

# Not `hpo datasets | grep -q`: grep -q exits at the first match, and with pipefail the
# SIGPIPE of the writer fails the check.
if ! grep -q "^fashion-mnist *available" <<<"$(hpo datasets)"; then
  echo "run_docs_studies: Fashion-MNIST is missing (apt-get install dataset-fashion-mnist)" >&2
  exit 1
fi

# folder -> the study's space (docs/studies/spaces/) and epochs at SCALE=1. The folder is the
# catalogue space's name; each docs space builds that space's own models.
study_space() {
  case $1 in
    cnn) echo "cnn_designs.py 15" ;;                         # report 004: Adam vs SGD (+ ONNX export)
    activation_optimizer) echo "activation_optimizer_designs.py 15" ;;  # report 000
    regularization) echo "regularization_steps.py 12" ;;     # report 003
    resnet_optimizer) echo "resnet_optimizer_cpu.py 10" ;;   # report 002
    architecture) echo "architecture_designs.py 10" ;;       # report 001
    *) return 1 ;;
  esac
}

reports=$("$PYTHON" -c 'from docs.studies.tooling.claims import BY_FOLDER; print(*BY_FOLDER)')
folders=${*:-$reports}
echo "run_docs_studies: SCALE=$SCALE: $TRAIN training / $VAL validation images, $SEEDS seeds, into $OUT"
started=$(date +%s)
for folder in $folders; do
  if ! spec=$(study_space "$folder"); then
    echo "run_docs_studies: no study for $folder; choose from: $reports" >&2
    exit 2
  fi
  read -r space epochs <<<"$spec"
  epochs=$(scaled "$epochs" 3 1000)  # at least 3: a combination of 3 optimizers needs an epoch each
  study="docs-$folder"
  t0=$(date +%s)
  run hpo study create "$study" --space "$SPACES/$space" --dataset fashion-mnist --sampler grid --seeds "$SEEDS" \
    --epochs "$epochs" --train-subset "$TRAIN" --val-subset "$VAL" --pruner none --seed 0 --if-exists skip
  pids=()
  for _ in $(seq "$WORKERS"); do run hpo worker "$study" & pids+=($!); done
  wait "${pids[@]}"
  run hpo report "$study" --out "$OUT/$folder" --title "$folder"
  echo "run_docs_studies: $folder took $(( $(date +%s) - t0 )) s"
done
# Report 004 also compared PyTorch with ONNX Runtime (accuracy and latency): export the cnn
# study's best trial, checked on the test split once, as `hpo export --onnx` does for any user.
if grep -qw cnn <<<"$folders"; then
  run hpo export docs-cnn --out "$WORK/cnn-best.pt" --onnx "$WORK/cnn-best.onnx" | sed "s|$WORK|.docs-studies|g" \
    | tee "$OUT/cnn/onnx_export.txt"
fi
# Activation plots, the learned ones from the stored models of the activation study, beside the
# studies' folder (docs/activations*.png). Without that study the plots are left as they are.
if grep -qw docs-activation_optimizer <<<"$(hpo study list)"; then
  run "$PYTHON" -m hpo.report.activations "$(dirname "$OUT")" --study docs-activation_optimizer
else
  echo "run_docs_studies: no docs-activation_optimizer study in $WORK; activation plots left as they are"
fi
# The report pages (verdicts from report.json and the trials' recorded gradient norms and loss
# curves in the storage) and the index.
run "$PYTHON" -m docs.studies.tooling.pages "$OUT" --storage "$HPO_STORAGE"
echo "run_docs_studies: all done in $(( $(date +%s) - started )) s"
