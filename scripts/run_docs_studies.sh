#!/usr/bin/env bash
# Regenerate docs/studies/: one real, small study per reference report (000-004, the seeds this
# project grew out of) on real Fashion-MNIST, then `hpo report` for each, then the report pages
# and the index (python -m hpo.report.index), which set each report's own conclusion beside
# what the rerun's numbers support.
#
#   scripts/run_docs_studies.sh                       # every reference report
#   scripts/run_docs_studies.sh cnn regularization    # some of them (by folder name)
#
# Budgets are small on purpose (CPU only, 2 shared cores, about half an hour in all): each
# study's trials, epochs and training / validation images are set below, and each page states
# them. Grids where a report compared named choices (000's 54 pairs; 001's and
# 003's designs and 002's optimizers, as spaces in docs/studies/spaces/), TPE where the report
# itself ran Optuna (004). SCALE=3 triples TPE's trial budget.
# No pruning: every trial trains its full epochs, so choices are compared at equal training.
# The studies live in their own storage, .docs-studies/ (not committed); every number in
# docs/studies/ comes from that storage through `hpo report` and hpo.report.index.
#
# Runs at nice 10 (the machine may be shared); override with NICE=0.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/hpo ] && export PATH="$PWD/.venv/bin:$PATH"
PYTHON=$(dirname "$(command -v hpo)")/python  # the interpreter hpo is installed in
NICE=${NICE:-10}
run() { nice -n "$NICE" "$@"; }

WORKERS=${WORKERS:-2}
WORK=${DOCS_STUDIES_WORK:-$PWD/.docs-studies}
OUT=docs/studies
# SCALE multiplies the TPE study's trial budget; grids are run whole whatever it is.
SCALE=${SCALE:-1}

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

# folder -> the study's space and budget. Where a report compared a handful of named set-ups
# (001, 003), the study is a grid over those designs, built from the catalogue space's own
# model (docs/studies/spaces/); report 002's grid narrows resnet_optimizer to its Adam-vs-AdaMax
# comparison on the ResNet-50 layout (torchvision's full-width resnet50 takes ~23 s a step on
# this CPU). The folder is the catalogue space's name.
study_options() {
  case $1 in
    cnn)  # report 004: Optuna (TPE) over n_layers 1-5, kernel 3..7, Adam/RMSprop/SGD, lr 1e-5..1e-1
      echo "--space cnn --sampler tpe --trials $((12 * SCALE)) --epochs 2 --train-subset 2000 --val-subset 500" ;;
    regularization)  # report 003: SimpleCNN -> 3 layers + BN -> pooling, SGD, dropout, augmentation
      echo "--space $OUT/spaces/regularization_steps.py --sampler grid --epochs 3 --train-subset 2000 --val-subset 500" ;;
    activation_optimizer)  # report 000: every activation x optimizer pair (54 cells)
      echo "--space activation_optimizer --sampler grid --trials 54 --epochs 3 --train-subset 2000 --val-subset 500" ;;
    architecture)  # report 001: MLP / plain CNN 2-8 blocks / ResNet blocks / kernels / layer types
      echo "--space $OUT/spaces/architecture_designs.py --sampler grid --epochs 2 --train-subset 2000 --val-subset 500" ;;
    resnet_optimizer)  # report 002: Adam vs AdaMax on ResNet-50's layout, two learning rates each
      echo "--space $OUT/spaces/resnet_optimizer_cpu.py --sampler grid --epochs 2 --train-subset 1000 --val-subset 500" ;;
    *) return 1 ;;
  esac
}

reports=$("$PYTHON" -c 'from hpo.report.index import REPORTS; print(*REPORTS)')
folders=${*:-$reports}
started=$(date +%s)
for folder in $folders; do
  if ! options=$(study_options "$folder"); then
    echo "run_docs_studies: no study for $folder; choose from: $reports" >&2
    exit 2
  fi
  study="docs-$folder"
  t0=$(date +%s)
  # An interrupted run resumes: the study is kept and its workers finish the budget.
  # For fresh studies (after changing the code or a budget), delete $WORK first.
  # shellcheck disable=SC2086  # word splitting of the options is wanted
  run hpo study create "$study" --dataset fashion-mnist $options --pruner none --seed 0 --if-exists skip
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
# Activation plots, the learned ones from the stored models of the activation study. A run of
# other spaces on a fresh $WORK has no such study: the committed plots are then left as they are.
if grep -qw docs-activation_optimizer <<<"$(hpo study list)"; then
  run "$PYTHON" -m hpo.report.activations docs --study docs-activation_optimizer
else
  echo "run_docs_studies: no docs-activation_optimizer study in $WORK; activation plots left as they are"
fi
# The report pages (findings from report.json and the trials' recorded gradient norms and loss
# curves in the storage) and the index.
run "$PYTHON" -m hpo.report.index "$OUT" --storage "$HPO_STORAGE"
echo "run_docs_studies: all done in $(( $(date +%s) - started )) s"
