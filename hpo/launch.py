"""The ``hpo`` executable: a Ctrl-C at any moment ends with one line and exit code 130.

The command line imports torch and Optuna before any command runs; a Ctrl-C during those
seconds would otherwise print a long KeyboardInterrupt traceback.
"""

from __future__ import annotations

import sys


def run() -> None:
    try:
        from hpo.cli import main

        main()
    except KeyboardInterrupt:
        sys.stderr.write("\nerror: interrupted\n")
        sys.exit(130)


if __name__ == "__main__":
    run()
