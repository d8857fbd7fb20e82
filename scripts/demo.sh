#!/usr/bin/env bash
# Set up, then run a demo study end to end on the embedded SQLite default:
# create -> 2 workers -> show -> export -> evaluate on the test split.
set -euo pipefail
cd "$(dirname "$0")/.."
# onnx: export --onnx; report: hpo report, evaluate --plot, Optuna's trials_dataframe (pandas).
HPO_EXTRAS=${HPO_EXTRAS:-onnx,report} bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
mkdir -p demo && cd demo

DATASET=fashion-mnist
# Read the whole listing first: with pipefail, `grep -q` closing the pipe early fails it.
datasets=$(hpo datasets)
if ! grep -q "^fashion-mnist *available" <<<"$datasets"; then
  echo "demo: Fashion-MNIST is not on this machine (apt-get install dataset-fashion-mnist); using scikit-learn's digits instead"
  DATASET=digits
fi
STUDY=${HPO_DEMO_STUDY:-demo-$DATASET}
# A wall-clock budget shared by both workers. With it the default scheduler is the promotion
# scheduler (it pauses each trial at epochs 1 and 3 and trains the best third on, up to 9
# epochs), and the second half of the time goes to the final run: the best configuration,
# trained on every core until just before the deadline.
hpo study create "$STUDY" --space cnn --dataset "$DATASET" --time-budget "${HPO_DEMO_BUDGET:-4m}" --epochs 9 \
  --train-subset 12000 --val-subset 3000 --if-exists skip
# The two workers find each other on this host and share its cores (hpo.core_share).
hpo worker "$STUDY" & w1=$!
hpo worker "$STUDY" & w2=$!
wait $w1 $w2
hpo study show "$STUDY"
hpo export "$STUDY" --out best.pt
hpo evaluate best.pt --split test
echo "demo: best model written to $PWD/best.pt"
