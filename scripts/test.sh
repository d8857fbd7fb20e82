#!/usr/bin/env bash
# Set up, then run the whole test suite against real SQLite and PostgreSQL.
# PostgreSQL: HPO_TEST_PG_URL, else 127.0.0.1:5432 (user postgres). Without a server the
# PostgreSQL tests skip locally and fail under CI=true.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m pytest "$@"
