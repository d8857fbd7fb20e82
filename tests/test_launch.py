"""hpo.launch's SIGINT handler: an interrupt that lands during an import waits for its end.

Raised inside torch's import, a KeyboardInterrupt crossed a C++ callback and aborted the
process (-6); the end-to-end moments are in tests/cli/test_interrupts.py.
"""

from __future__ import annotations

import signal
import sys
import time
import types
from collections.abc import Iterator
from importlib.machinery import ModuleSpec

import pytest

from hpo import launch


@pytest.fixture
def half_imported() -> Iterator[types.ModuleType]:
    """A module whose import is under way, as torch's is while its __init__ runs."""
    module = types.ModuleType("hpo_test_half_imported")
    module.__spec__ = ModuleSpec(module.__name__, None)
    module.__spec__._initializing = True  # type: ignore[attr-defined]
    sys.modules[module.__name__] = module
    yield module
    sys.modules.pop(module.__name__, None)


def test_an_interrupt_outside_any_import_is_raised_at_once() -> None:
    handler = launch._Interrupts()
    assert not launch._importing()
    with pytest.raises(KeyboardInterrupt):
        handler(signal.SIGINT, None)
    assert handler.received


def test_an_interrupt_during_an_import_is_raised_once_the_import_is_over(half_imported: types.ModuleType) -> None:
    handler = launch._Interrupts()
    previous = signal.signal(signal.SIGINT, handler)
    try:
        assert launch._importing()
        handler(signal.SIGINT, None)  # lands mid-import: noted, not raised
        assert handler.received
        time.sleep(launch.RECHECK_S * 4)  # still importing: asked again, still held back
        with pytest.raises(KeyboardInterrupt):
            sys.modules.pop(half_imported.__name__)  # the import is over
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                time.sleep(0.01)
    finally:
        signal.signal(signal.SIGINT, previous)
