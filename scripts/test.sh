#!/usr/bin/env bash
# Set up, then run the tests against real SQLite and PostgreSQL.
#   bash scripts/test.sh          the full tier: everything
#   bash scripts/test.sh --fast   the fast tier: unit, contract and CLI tests plus one worker
#                                 end-to-end test; no `slow`, `docker` or `browser` tests
# Any further arguments pass through to pytest (`-n 0`: one process, no xdist). It prints the
# tier it ran and the time it took, also on failure, and exits with pytest's status (5, no test
# ran, is a failure too).
# PostgreSQL: HPO_TEST_PG_URL, else 127.0.0.1:5432 (user postgres). Without a server the
# PostgreSQL tests skip locally and fail under CI=true.
set -euo pipefail
cd "$(dirname "$0")/.."

tier=full
if [ "${1:-}" = --fast ]; then
  tier=fast
  shift
fi

bash scripts/setup.sh

# Two pytest processes (pytest-xdist), one per core here: a test process mostly waits on the
# `hpo` processes and the database it drives, and in-process tests use one torch thread, so one
# process leaves a core idle. loadfile keeps each file on one process, so a module fixture is
# built once. (Not loadgroup: xdist 3.8 cannot group on pytest 9.2, whose nodes ignore the
# `_nodeid` it rewrites.)
args=(-n 2 --dist loadfile)
if [ "$tier" = fast ]; then
  args+=(-m "not slow and not docker and not browser")
else
  # Files in the order tests/conftest.py gives them, the longest first, not the most tests first.
  args+=(--no-loadscope-reorder)
fi

start=$SECONDS
set +e
.venv/bin/python -m pytest "${args[@]}" "$@"
rc=$?
set -e
took=$((SECONDS - start))
[ "$rc" = 5 ] && echo "test.sh: no test ran (pytest exit 5): that is a failure"
echo "test.sh: $tier tier, pytest took $((took / 60))m$((took % 60))s, exit $rc"
exit "$rc"
