"""The ``hpo`` executable: a Ctrl-C at any moment ends with one line and exit code 130.

A command imports Optuna, and torch when it computes, before it runs; a Ctrl-C during those
seconds would otherwise print a long KeyboardInterrupt traceback.
"""

from __future__ import annotations

import os
import signal
import sys


def run() -> None:
    try:
        try:
            from hpo.cli import main

            main()
        finally:
            # The command is over (its result printed and committed). Interpreter shutdown
            # takes seconds with torch and a large study loaded, and Python restores SIGINT's
            # default action for it, so a Ctrl-C then killed the process by the signal, with
            # no message and no exit code. Ignored handlers survive shutdown.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
    except KeyboardInterrupt:
        sys.stderr.write("\nerror: interrupted\n")
        sys.stderr.flush()
        # Straight out: an import cut short can leave half-initialised modules whose exit
        # handlers would raise again (and the process would then die by the signal, not 130).
        os._exit(130)


if __name__ == "__main__":
    run()
