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

# pytest-xdist processes; loadfile keeps each file on one process, so a module fixture is built
# once. (Not loadgroup: xdist 3.8 cannot group on pytest 9.2, whose nodes ignore the `_nodeid` it
# rewrites.) The fast tier runs 2, one per core here: it computes in-process (one torch thread
# per test) and a third process gained nothing (3m8s against 3m16s). The full tier runs 3: its
# end-to-end files mostly wait (on deadlines, heartbeats, a stopped database, the `hpo` processes
# they drive), and with 2 processes both cores sat idle for about 2.6 of its 12.7 minutes while
# two such files ran side by side at its end. A third process computes in those waits
# (docs/benchmarks.md, "The test suite's time").
# A test that takes its xdist process down (a segfault, an abort in native code) ends the run at
# once, failing, and names the test (--max-worker-restart 0). With xdist's restarts, loadfile
# re-queued the dead process's files and could wait forever at the end of the run with every
# process idle (pytest-xdist 3.8 issue #1378; it happened here on a Zen 3 CPU). A hang inside a
# test is pyproject.toml's pytest-timeout.
args=(--dist loadfile --max-worker-restart 0)
if [ "$tier" = fast ]; then
  args+=(-n 2 -m "not slow and not docker and not browser")
else
  # Files in the order tests/conftest.py gives them, the longest first, not the most tests first.
  args+=(-n 3 --no-loadscope-reorder)
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
