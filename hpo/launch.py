"""The ``hpo`` executable: a Ctrl-C at any moment ends with one line and exit code 130.

A command imports Optuna, and torch when it computes, before it runs; a Ctrl-C during those
seconds would otherwise print a long KeyboardInterrupt traceback, and two more things went
wrong, measured by sending SIGINT 0.4-1.2 s after ``hpo study create`` started:

- One landing while torch was being imported raised KeyboardInterrupt inside one of torch's
  C++ callbacks into Python: ``terminate called after throwing an instance of
  'pybind11::error_already_set'`` and exit -6 (SIGABRT). So while a module is being imported,
  the interrupt waits: it is raised as soon as no import is under way.
- After the command had printed ``error: interrupted`` and exited 130, the exit handlers of
  modules whose import had been cut short raised again and the process died by the signal
  (-2). So a run that was interrupted ends with ``os._exit``, after flushing its output.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from types import FrameType

# How soon an interrupt that arrived during an import is raised once it is over.
RECHECK_S = 0.05


def _importing() -> bool:
    """True while some module's code is still running its import (``__spec__._initializing``)."""
    return any(getattr(getattr(module, "__spec__", None), "_initializing", False)
               for module in list(sys.modules.values()))


class _Interrupts:
    """The process's SIGINT handler until a command installs its own: KeyboardInterrupt, once safe."""

    def __init__(self) -> None:
        self.received = False

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.received = True
        if _importing():
            # Not now: ask again shortly (interrupt_main calls this handler from the main thread).
            threading.Thread(target=self._again, daemon=True).start()
            return
        raise KeyboardInterrupt

    @staticmethod
    def _again() -> None:
        time.sleep(RECHECK_S)
        import _thread

        _thread.interrupt_main(signal.SIGINT)


def _leave(code: int) -> None:
    """Exit with ``code`` without running exit handlers (see the module's docstring)."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


def run() -> None:
    interrupts = _Interrupts()
    signal.signal(signal.SIGINT, interrupts)
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
        _leave(130)
    except SystemExit as exiting:
        # click ends every command with sys.exit; the CLI has already said what happened.
        if interrupts.received:
            _leave(exiting.code if isinstance(exiting.code, int) else 1)
        raise


if __name__ == "__main__":
    run()
