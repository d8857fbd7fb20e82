"""optuna-dashboard's note writer, loaded without the optuna_dashboard package.

``optuna_dashboard.save_note`` is its public API for a trial's note, but importing the package
imports its web app, which imports ``optuna.importance``, which imports scikit-learn and SciPy:
about 1.1 s of CPU in every worker, for a function of a few lines over study system attrs. Its
module ``optuna_dashboard/_note.py`` needs only Optuna, so it is loaded from its file on its
own, under a private name. Should a later optuna-dashboard move or change that file, the
package's public ``save_note`` is used instead (slower, and the same notes).
tests/trials/test_dashboard_note_contract.py holds the two to the same stored attrs.

The only module that reaches into optuna-dashboard's private code.
"""

from __future__ import annotations

import functools
import importlib.util
import sys
from types import ModuleType

import optuna

_PRIVATE_NAME = "hpo_optuna_dashboard_note"


@functools.cache
def _standalone_note_module() -> ModuleType | None:
    """The standalone module, once per process; None where the package is already imported."""
    if "optuna_dashboard" in sys.modules:  # already paid for: use the real one
        return None
    return load_standalone()


def load_standalone() -> ModuleType | None:
    """``optuna_dashboard/_note.py`` executed on its own; None if it cannot be."""
    spec = importlib.util.find_spec("optuna_dashboard")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        note = importlib.util.spec_from_file_location(_PRIVATE_NAME, f"{folder}/_note.py")
        if note is None or note.loader is None:
            continue
        module = importlib.util.module_from_spec(note)
        try:
            note.loader.exec_module(module)
        except Exception:  # noqa: BLE001 - a later layout: fall back to the package
            return None
        if callable(getattr(module, "save_note", None)):
            return module
    return None


def save_note(trial: optuna.Trial, body: str) -> None:
    """Write ``body`` as the trial's note, as ``optuna_dashboard.save_note`` does."""
    module = _standalone_note_module()
    if module is None:
        from optuna_dashboard import save_note as package_save_note

        package_save_note(trial, body)
    else:
        module.save_note(trial, body)
