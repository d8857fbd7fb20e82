#!/usr/bin/env bash
# Regenerate docs/studies/: one real, small study per search space on real Fashion-MNIST,
# then `hpo report` for each, then the index docs/studies/README.md.
#
#   scripts/run_docs_studies.sh                 # every catalogue space that exists
#   scripts/run_docs_studies.sh cnn regularization
#
# Budgets are small on purpose (CPU only, 2 shared cores): TRIALS trials x EPOCHS epochs on
# TRAIN_SUBSET training and VAL_SUBSET validation images. The studies live in their own storage,
# .docs-studies/ (not committed); every number in docs/studies/ comes from `hpo report`.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/hpo ] && export PATH="$PWD/.venv/bin:$PATH"
PYTHON=$(dirname "$(command -v hpo)")/python  # the interpreter hpo is installed in

TRIALS=${TRIALS:-10}
EPOCHS=${EPOCHS:-3}
TRAIN_SUBSET=${TRAIN_SUBSET:-10000}
VAL_SUBSET=${VAL_SUBSET:-2000}
WORKERS=${WORKERS:-2}
WORK=${DOCS_STUDIES_WORK:-$PWD/.docs-studies}
OUT=docs/studies

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

# Deep ResNets cost about ten times a small CNN per epoch on this CPU: fewer trials on fewer
# images keep the whole script under an hour. The reading on each page states the set-up used.
budget_options() {
  case $1 in
    resnet_optimizer) echo "--trials ${HEAVY_TRIALS:-6} --train-subset ${HEAVY_TRAIN_SUBSET:-3000}" ;;
    *) echo "--trials $TRIALS --train-subset $TRAIN_SUBSET" ;;
  esac
}

available=$(hpo spaces --json | "$PYTHON" -c 'import json, sys; print(" ".join(json.load(sys.stdin)))')
catalogue=$("$PYTHON" -c 'from hpo.report.index import CATALOGUE; print(*CATALOGUE)')
spaces=${*:-$catalogue}
started=$(date +%s)
for space in $spaces; do
  if ! grep -qw -- "$space" <<<"$available"; then
    echo "run_docs_studies: space $space does not exist yet; skipped (have: $available)"
    continue
  fi
  study="docs-$space"
  t0=$(date +%s)
  # An interrupted run resumes: the study is kept and its workers finish the budget.
  # For fresh studies (after changing the code or a budget), delete $WORK first.
  # shellcheck disable=SC2046  # word splitting of budget_options is wanted
  hpo study create "$study" --space "$space" --dataset fashion-mnist $(budget_options "$space") \
    --epochs "$EPOCHS" --val-subset "$VAL_SUBSET" --seed 0 --if-exists skip
  pids=()
  for _ in $(seq "$WORKERS"); do hpo worker "$study" & pids+=($!); done
  wait "${pids[@]}"
  hpo report "$study" --out "$OUT/$space" --title "$space"
  echo "run_docs_studies: $space took $(( $(date +%s) - t0 )) s"
done
# Activation plots, the learned ones from the stored models of the activation study. A run of
# other spaces on a fresh $WORK has no such study: the committed plots are then left as they are.
if grep -qw docs-activation_optimizer <<<"$(hpo study list)"; then
  "$PYTHON" -m hpo.report.activations docs --study docs-activation_optimizer
else
  echo "run_docs_studies: no docs-activation_optimizer study in $WORK; activation plots left as they are"
fi
"$PYTHON" -m hpo.report.index "$OUT"
echo "run_docs_studies: all done in $(( $(date +%s) - started )) s"
