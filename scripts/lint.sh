#!/usr/bin/env bash
# ruff (the rules in pyproject.toml) and mypy (hpo/ and search_spaces/, config in pyproject.toml),
# both at zero errors. Needs the dev extra (bash scripts/setup.sh installs it).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
.venv/bin/python -m ruff check .
.venv/bin/python -m mypy hpo search_spaces
echo "lint.sh: ruff and mypy clean in $((SECONDS - start)) s"
