"""Ensemble selection: would averaging a study's stored models beat its best one?

Every completed trial stores its model, so a search ends with a library of trained networks
that not searching does not have. This measures whether that library is worth exporting as
an ensemble. Greedy ensemble selection with replacement (Caruana et al., ICML 2004): start
from the model with the best validation accuracy, add whichever stored model (again, if it
is already in) raises the validation accuracy of the averaged class probabilities the most,
and stop when none raises it. Each model runs as its checkpoint says (its test-time view
included). The choice sees only the validation split the search used; the best single model
and the chosen set are then tested once each, a paired difference on the same test images.

    python benchmarks/search_quality.py --minutes 60 --arms a --workdir DIR ...   # keeps DIR
    python benchmarks/ensemble_gain.py --storage sqlite:///DIR/default.db --study sq-default [--json PATH]
    python benchmarks/ensemble_gain.py --quick    # a small study of its own (benchmarks/spaces/fixed_cnn.py)

Prints RATIO lines for ensemble/best on validation and on test (no goal: a measurement).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import environment, parser, report  # noqa: E402

SPACE = str(Path(__file__).resolve().parent / "spaces" / "fixed_cnn.py")


@dataclass
class Member:
    """One stored model's class probabilities on the validation and test splits."""

    trial: int
    val_probs: Any  # torch.Tensor (N, classes); torch is imported where it computes
    test_probs: Any
    val_accuracy: float


def accuracy(probs: Any, labels: Any) -> float:
    return float((probs.argmax(1) == labels).float().mean())


def load_members(storage: str, study_name: str) -> tuple[list[Member], Any, Any]:
    """Every completed trial's stored model, run on both splits; and the two splits' labels."""
    import optuna
    import torch
    from optuna.trial import TrialState

    from hpo import artifacts
    from hpo.checkpoint import load_checkpoint
    from hpo.export.classifier import TorchClassifier
    from hpo.export.evaluate import split_for
    from hpo.export.model_io import model_from_checkpoint
    from hpo.trials.records import TrialKeys

    try:
        study = optuna.load_study(study_name=study_name, storage=storage)
    except KeyError:  # Optuna's "Record does not exist." names neither
        raise SystemExit(f"no study {study_name!r} in {storage}; check --storage and --study") from None
    store = artifacts.open_store(artifacts.study_location(study.user_attrs), create=False)
    members, splits = [], None
    for trial in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        artifact_id = trial.user_attrs.get(TrialKeys.MODEL)
        if not artifact_id:
            continue
        path = artifacts.download_to_temp(store, artifact_id)
        try:
            checkpoint = load_checkpoint(path)
        finally:
            path.unlink(missing_ok=True)
        model = TorchClassifier(model_from_checkpoint(checkpoint), checkpoint["meta"])
        if splits is None:  # one study: every model was searched on the same split of one data set
            splits = split_for(model.meta, None, "val")[1], split_for(model.meta, None, "test")[1]
        val, test = splits
        with torch.no_grad():
            val_probs = model.logits(val.x).float().softmax(1)
            test_probs = model.logits(test.x).float().softmax(1)
        members.append(Member(trial.number, val_probs, test_probs, accuracy(val_probs, val.y)))
        print(f"trial {trial.number}: validation accuracy {members[-1].val_accuracy:.4f}", flush=True)
    if splits is None:
        raise SystemExit(f"study {study_name!r} has no completed trial with a stored model")
    return members, splits[0].y, splits[1].y


def select(members: list[Member], val_labels: Any, max_size: int) -> list[int]:
    """Greedy selection with replacement on validation; indices into ``members``, best first."""
    best = max(range(len(members)), key=lambda i: members[i].val_accuracy)
    chosen, total = [best], members[best].val_probs.clone()
    score = accuracy(total, val_labels)
    while len(chosen) < max_size:
        gains = [(accuracy(total + m.val_probs, val_labels), i) for i, m in enumerate(members)]
        top, pick = max(gains)
        if top <= score:  # a tie keeps the smaller ensemble
            break
        chosen.append(pick)
        total += members[pick].val_probs
        score = top
    return chosen


def measure(members: list[Member], val_labels: Any, test_labels: Any, max_size: int) -> dict[str, Any]:
    chosen = select(members, val_labels, max_size)
    best = members[chosen[0]]
    val = sum(members[i].val_probs for i in chosen)
    test = sum(members[i].test_probs for i in chosen)
    return {"members": len(members), "chosen_trials": [members[i].trial for i in chosen],
            "all_val_accuracy": {m.trial: m.val_accuracy for m in members},
            "best_trial": best.trial, "best_val_accuracy": best.val_accuracy,
            "best_test_accuracy": accuracy(best.test_probs, test_labels),
            "ensemble_val_accuracy": accuracy(val, val_labels), "ensemble_test_accuracy": accuracy(test, test_labels)}


def quick_study(folder: Path) -> tuple[str, str]:
    """Three trials of a fixed CNN on a Fashion-MNIST subset, trained by one real worker."""
    env = {**os.environ, "HPO_STORAGE": f"sqlite:///{folder / 'hpo.db'}", "HPO_ARTIFACTS": str(folder / "artifacts"),
           "PYTHONWARNINGS": "ignore"}
    hpo = [sys.executable, "-m", "hpo"]
    for command in (["study", "create", "quick", "--space", SPACE, "--dataset", "fashion-mnist", "--trials", "3",
                     "--epochs", "1", "--train-subset", "1000", "--val-subset", "500", "--pruner", "none"],
                    ["worker", "quick", "--device", "cpu"]):
        subprocess.run([*hpo, *command], env=env, check=True, capture_output=True, cwd=folder)
    return env["HPO_STORAGE"], "quick"


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--storage", default=None, help="the study's storage URL (e.g. a search_quality --workdir's)")
    p.add_argument("--study", default=None, help="the study's name (search_quality's arm a: sq-default)")
    p.add_argument("--max-size", type=int, default=10, help="the most models an ensemble may average")
    args = p.parse_args()
    if not args.quick and not (args.storage and args.study):
        p.error("give --storage and --study, or --quick")
    os.environ.setdefault("HPO_DATA_DIR", str(Path(tempfile.gettempdir()) / "hpo-bench-data"))
    with tempfile.TemporaryDirectory(prefix="hpo-ensemble-") as tmp:
        storage, name = quick_study(Path(tmp)) if args.quick else (args.storage, args.study)
        members, val_labels, test_labels = load_members(storage, name)
        results = {"environment": environment(), "study": name, **measure(members, val_labels, test_labels, args.max_size)}
    report(results, [("ensemble/best val accuracy", results["ensemble_val_accuracy"] / results["best_val_accuracy"], None),
                     ("ensemble/best test accuracy", results["ensemble_test_accuracy"] / results["best_test_accuracy"], None)],
           args.json)


if __name__ == "__main__":
    main()
