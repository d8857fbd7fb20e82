"""hpo.trials._dashboard_note: optuna-dashboard's note module, loaded on its own, writes what
the package's public ``save_note`` writes, and the package's ``get_note`` reads it back."""

from __future__ import annotations

import subprocess
import sys

import optuna
import optuna_dashboard

from hpo.trials import _dashboard_note


def stored_note_attrs(study: optuna.Study) -> dict[str, object]:
    attrs = study._storage.get_study_system_attrs(study._study_id)
    return {k: v for k, v in attrs.items() if k.startswith("dashboard:")}


def write_twice(save: object) -> tuple[optuna.Study, optuna.Trial]:
    study = optuna.create_study()
    trial = study.ask()
    long_body = "## Trial 0\n\n" + "| metric | value |\n" * 400  # several 2045-character chunks
    save(trial, long_body)  # type: ignore[operator]
    save(trial, "## Trial 0\n\nshorter now\n")  # version 2; the extra chunks are cleared
    return study, trial


def test_the_standalone_module_writes_what_the_package_writes() -> None:
    module = _dashboard_note.load_standalone()
    assert module is not None, "optuna_dashboard/_note.py could not be loaded on its own: the fallback is in use"
    ours, trial = write_twice(module.save_note)
    theirs, _ = write_twice(optuna_dashboard.save_note)
    assert stored_note_attrs(ours) == stored_note_attrs(theirs)
    assert optuna_dashboard.get_note(trial) == "## Trial 0\n\nshorter now\n"


def test_a_worker_process_writes_notes_without_importing_the_package() -> None:
    code = ("import sys, optuna\n"
            "from hpo.trials.notes import save_trial_note\n"
            "study = optuna.create_study(); trial = study.ask()\n"
            "save_trial_note(trial, 'a note')\n"
            "print('optuna_dashboard' in sys.modules, 'sklearn' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "False"]
