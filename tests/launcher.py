"""A pre-imported ``hpo`` for the tests: commands forked from a process that imported torch once.

Why: every ``hpo worker`` the tests start spends about 2.4 s of CPU importing torch,
``torch._dynamo`` (which ``torch.optim.Optimizer`` imports on first use) and the worker's
modules before it trains. The full tier starts about 130 workers on 2 cores, so that is about
300 CPU-seconds, a fifth of the tier's CPU (issue 29). Like multiprocessing's forkserver, one
launcher per pytest process imports them once and stays idle; each worker is a fork of it.

What the child gets is what ``python -m hpo worker ...`` gets: its own session (``setsid``, so
``os.killpg(proc.pid, ...)`` reaches it alone), stdout and stderr to its log, stdin from
/dev/null, the requested environment and working directory, fresh random seeds, default
signal handlers, then ``hpo.launch.run`` and the exit handlers. The launcher never runs a
torch operation, so no intra-op thread pool exists to be inherited; the worker sets its
threads itself, as it does after a real exec.

The handle (:class:`Forked`) answers what tests ask of a ``subprocess.Popen``: ``pid``,
``poll``, ``wait``, ``returncode``, ``send_signal``, ``terminate``, ``kill``. The child is the
launcher's, not the test's, so the launcher reaps it and sends its exit status back.

``run_hpo`` runs every command this way (a ``study`` command still imports Optuna and
SQLAlchemy, about 1.5 s of CPU), its output captured through two files. Tests that are about
the process itself (interrupts during imports, which modules a command imports, the Docker
image, what a user's shell starts) start real interpreters: ``start_hpo(..., fork=False)``,
``run_hpo(..., fork=False)``, or ``subprocess`` themselves.
``HPO_TEST_FORK=0`` turns the launcher off for a whole run.

Run as ``python -m tests.launcher FD``: the launcher's side, serving the socket ``FD``.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ENABLED = os.environ.get("HPO_TEST_FORK", "1") != "0"
MAIN = str(Path(__file__).resolve().parents[1] / "hpo" / "__main__.py")  # sys.argv[0] of `python -m hpo`


def _send(sock: socket.socket, message: dict[str, Any]) -> None:
    sock.sendall((json.dumps(message) + "\n").encode())


# --- the test's side ---------------------------------------------------------------------


class Forked:
    """A forked ``hpo`` command, as a test sees a ``subprocess.Popen``."""

    def __init__(self, launcher: Launcher, pid: int, args: list[str]) -> None:
        self._launcher, self.pid, self.args = launcher, pid, args
        self.returncode: int | None = None
        self.stdout = self.stderr = self.stdin = None

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = self._launcher.exit_code(self.pid, 0)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            self.returncode = self._launcher.exit_code(self.pid, timeout)
            if self.returncode is None:
                raise subprocess.TimeoutExpired(self.args, timeout or 0)
        return self.returncode

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:  # as Popen: never signal a pid that may be reused
            os.kill(self.pid, sig)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


class Launcher:
    """One launcher process per pytest process, started at its first use."""

    _instance: Launcher | None = None
    _made = threading.Lock()

    def __init__(self) -> None:
        ours, theirs = socket.socketpair()
        self._proc = subprocess.Popen([sys.executable, "-m", "tests.launcher", str(theirs.fileno())],
                                      pass_fds=[theirs.fileno()], cwd=Path(MAIN).parents[1],
                                      stdin=subprocess.DEVNULL, start_new_session=True)
        theirs.close()
        self._sock, self._buffer, self._lock = ours, b"", threading.Lock()
        self._exits: dict[int, int] = {}
        self._replies: list[dict[str, Any]] = []

    @classmethod
    def get(cls) -> Launcher:
        with cls._made:
            if cls._instance is None or cls._instance._proc.poll() is not None:
                cls._instance = cls()
            return cls._instance

    def start(self, args: list[str], env: dict[str, str], stdout: Path | None, stderr: Path | None = None) -> Forked:
        """``hpo ARGS``, its stdout to ``stdout`` and its stderr to ``stderr`` (or to ``stdout``)."""
        for path in (stdout, stderr):
            if path is not None:
                path.write_text("")  # as Popen's caller does: the file exists, empty, once this returns
        with self._lock:
            _send(self._sock, {"argv": [MAIN, *args], "env": env, "cwd": os.getcwd(),
                               "stdout": str(stdout) if stdout else None, "stderr": str(stderr) if stderr else None})
            while not self._replies:
                self._read(None)
            reply = self._replies.pop(0)
        if "error" in reply:
            raise RuntimeError(f"the test launcher could not start hpo {' '.join(args)}: {reply['error']}")
        return Forked(self, int(reply["pid"]), ["hpo", *args])

    def exit_code(self, pid: int, timeout: float | None) -> int | None:
        """``pid``'s exit code once the launcher has reaped it; None if ``timeout`` runs out first."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            # The lock is let go between short reads: a test may wait in one thread for a
            # worker that another thread has yet to start.
            with self._lock:
                if pid in self._exits:
                    return self._exits[pid]
                left = 0.1 if deadline is None else min(0.1, deadline - time.monotonic())
                self._read(max(left, 0))  # poll() too reads what has arrived, without waiting
                if pid in self._exits or left <= 0:
                    return self._exits.get(pid)

    def _read(self, timeout: float | None) -> None:
        """Whatever the launcher has sent, waiting up to ``timeout`` for something."""
        ready, _, _ = select.select([self._sock], [], [], timeout)
        if not ready:
            return
        data = self._sock.recv(65536)
        if not data:
            raise RuntimeError(f"the test launcher died (exit {self._proc.wait()})")
        self._buffer += data
        *lines, self._buffer = self._buffer.split(b"\n")
        for line in lines:
            message = json.loads(line)
            if "exit" in message:
                self._exits[int(message["exit"])] = int(message["code"])
            else:
                self._replies.append(message)


def forkable(extra_env: Mapping[str, str]) -> bool:
    """Whether a command with ``extra_env`` over the test's environment may be forked: not where
    it changes what Python imports (PYTHONPATH and the like), which the launcher fixed at its start."""
    return ENABLED and not any(key.startswith("PYTHON") for key in extra_env)


def start(args: list[str], env: dict[str, str], log: Path | None) -> Forked:
    """``hpo ARGS`` in the background, its output to ``log``, as ``subprocess.Popen`` would."""
    return Launcher.get().start(args, env, log)


def run(args: list[str], env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    """``hpo ARGS`` to its end, its output captured, as ``subprocess.run(capture_output=True)`` would."""
    with tempfile.TemporaryDirectory(prefix="hpo-run-") as folder:
        out, err = Path(folder) / "stdout", Path(folder) / "stderr"
        proc = Launcher.get().start(args, env, out, err)
        try:
            code = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise subprocess.TimeoutExpired(proc.args, timeout, out.read_text(), err.read_text()) from None
        return subprocess.CompletedProcess(proc.args, code, out.read_text(), err.read_text())


# --- the launcher's side -----------------------------------------------------------------


def _returncode(status: int) -> int:
    return -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)


def _child(request: dict[str, Any], keep_out: list[int], started: int) -> None:
    """Become ``python -m hpo ...`` as the request says; never returns. Writes to ``started``
    once it leads its own session, as Popen(start_new_session=True) has returned by then."""
    code = 1
    try:
        os.setsid()
        os.write(started, b"1")
        os.close(started)
        signal.set_wakeup_fd(-1)
        for sig in (signal.SIGCHLD, signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_DFL)
        for fd in keep_out:
            os.close(fd)
        out = os.open(request["stdout"] or os.devnull, os.O_WRONLY | os.O_CREAT, 0o644)
        err = os.open(request["stderr"], os.O_WRONLY | os.O_CREAT, 0o644) if request["stderr"] else out
        os.dup2(out, 1)
        os.dup2(err, 2)
        for fd in {out, err}:
            os.close(fd)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        sys.argv = list(request["argv"])
        # click names the program from __main__'s package: "python -m hpo", as a real run says.
        sys.modules["__main__"].__package__ = "hpo"
        # The launcher's generators were seeded once: each worker must not draw the same numbers.
        import random

        import numpy as np
        import torch

        random.seed()
        np.random.seed()
        torch.seed()
        from hpo.launch import run

        try:
            run()
            code = 0
        except SystemExit as exiting:
            code = exiting.code if isinstance(exiting.code, int) else (0 if exiting.code is None else 1)
        # What the interpreter does at exit: join the threads that are not daemons, then the
        # exit handlers (the buffers are flushed below, and os._exit leaves the launcher's state alone).
        import atexit

        threading._shutdown()  # type: ignore[attr-defined]
        atexit._run_exitfuncs()
    except BaseException:  # noqa: BLE001 - the child must never return into the launcher's loop
        import traceback

        traceback.print_exc()
    finally:
        try:
            from hpo.launch import _leave

            _leave(code)  # flushes the output, then os._exit, as an interrupted real run ends
        finally:
            os._exit(code)


def serve(fd: int) -> None:
    # Everything a worker imports before it trains; nothing here may start a thread or run an op.
    import torch
    import torch._dynamo  # noqa: F401  - imported by torch.optim on first use

    import hpo.cli  # noqa: F401
    import hpo.cli.worker  # noqa: F401
    import hpo.training  # noqa: F401
    import hpo.worker.loop  # noqa: F401

    del torch
    sock = socket.socket(fileno=fd)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.signal(signal.SIGCHLD, lambda *_: None)  # wakes select through the wakeup fd
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C at pytest goes to its children, not here
    buffer = b""
    while True:
        try:
            ready, _, _ = select.select([sock, wake_r], [], [], 1.0)
        except InterruptedError:
            ready = []
        if wake_r in ready:
            os.read(wake_r, 4096)
        while True:  # reap every child that has ended
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            _send(sock, {"exit": pid, "code": _returncode(status)})
        if sock not in ready:
            continue
        data = sock.recv(65536)
        if not data:
            return  # the test process is gone
        buffer += data
        *lines, buffer = buffer.split(b"\n")
        for line in lines:
            request = json.loads(line)
            sys.stdout.flush()
            sys.stderr.flush()
            started_r, started_w = os.pipe()
            try:
                pid = os.fork()
            except OSError as exc:
                os.close(started_r)
                os.close(started_w)
                _send(sock, {"error": str(exc)})
                continue
            if pid == 0:
                _child(request, [sock.fileno(), wake_r, wake_w, started_r], started_w)
            os.close(started_w)
            # A test may os.killpg(pid, ...) as soon as it has the pid: answer once the group exists.
            os.read(started_r, 1)
            os.close(started_r)
            _send(sock, {"pid": pid})


if __name__ == "__main__":
    serve(int(sys.argv[1]))
