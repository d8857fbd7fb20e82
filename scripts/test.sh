#!/usr/bin/env bash
# Set up, then run the tests against real SQLite and PostgreSQL.
#   bash scripts/test.sh          the full tier: everything, two pytest processes (pytest-xdist)
#   bash scripts/test.sh --fast   the fast tier: unit, contract and CLI tests plus one worker
#                                 end-to-end test; no `slow`, `docker` or `browser` tests
# Any further arguments pass through to pytest (`-n 0` runs the full tier in one process). It prints the tier it ran and the time it took,
# also on failure, and exits with pytest's status (5, no test ran, is a failure too).
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

if [ "$tier" = fast ]; then
  # One process: the fast tier is mostly short tests, where a second process costs more to
  # start (imports, session fixtures) than it saves.
  args=(-m "not slow and not docker and not browser")
else
  # Two processes: most long tests wait on worker subprocesses or a database rather than
  # compute. loadgroup keeps tests that share an expensive session fixture (xdist_group) on
  # one process, so it is built once.
  args=(-n 2 --dist loadgroup)
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
