#!/usr/bin/env bash
# Set up everything hpo needs on a fresh Debian-like machine with Python 3.11. Idempotent.
#   - Debian packages: Fashion-MNIST, Chromium (dashboard tests), docker-compose (compose checks)
#   - a virtualenv in .venv with torch, torchvision and hpo[dev]
# Set HPO_SKIP_APT=1 to skip the Debian packages (the demo then falls back to `digits`).
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
EXTRAS=${HPO_EXTRAS:-dev}

if [ "${HPO_SKIP_APT:-0}" != 1 ] && command -v apt-get >/dev/null; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo -n"
  pkgs="dataset-fashion-mnist"
  [ "$EXTRAS" = dev ] && pkgs="$pkgs chromium chromium-driver docker-compose"
  missing=$(for p in $pkgs; do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done)
  if [ -n "$missing" ]; then
    echo "setup: installing Debian packages: $missing"
    if ! { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null; }; then
      echo "setup: could not install $missing (no root or no network); continuing without them"
    fi
  fi
fi

if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
# torch 2.14.1 / torchvision 0.29.1 install from the local wheel cache here; other versions
# would download several GB. On other machines pip fetches them from PyPI.
if ! .venv/bin/python -c "import torch, torchvision" 2>/dev/null; then
  .venv/bin/pip install -q "torch==2.14.1" "torchvision==0.29.1" 2>&1 | grep -v "^WARNING: Location" || true
fi
.venv/bin/pip install -q -e ".[$EXTRAS]" 2>&1 | grep -v "^WARNING: Location" || true
.venv/bin/python -c "import hpo, torch, optuna; print(f'setup: hpo {hpo.__version__}, torch {torch.__version__}, optuna {optuna.__version__}')"
