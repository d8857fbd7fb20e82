"""hpo.training.metrics against scikit-learn, whose definitions it follows without importing it."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from sklearn import metrics as skm

from hpo.training.metrics import classification_metrics, confusion_matrix


def sklearn_metrics(logits: torch.Tensor, targets: torch.Tensor) -> dict[str, float | None]:
    probs = torch.softmax(logits.float(), dim=1).numpy()
    y_true, labels = targets.numpy(), np.arange(logits.shape[1])
    y_pred = probs.argmax(axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        precision, recall, f1, _ = skm.precision_recall_fscore_support(y_true, y_pred, labels=labels, average="macro",
                                                                        zero_division=0)
        try:
            auc: float | None = float(skm.roc_auc_score(y_true, probs, multi_class="ovr", average="macro", labels=labels))
        except ValueError:  # older scikit-learn raises where a class is missing; newer gives nan
            auc = None
        auc = None if auc is not None and np.isnan(auc) else auc
        mcc = float(skm.matthews_corrcoef(y_true, y_pred))
    return {"accuracy": float(skm.accuracy_score(y_true, y_pred)), "precision": float(precision),
            "recall": float(recall), "f1": float(f1), "mcc": mcc, "roc_auc": auc}


def case(kind: str, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    n, classes = 300, 10
    targets = torch.randint(0, classes, (n,), generator=g)
    logits = torch.randn(n, classes, generator=g)
    if kind == "learned":  # mostly right, as a trained model is
        logits[torch.arange(n), targets] += 3.0
    elif kind == "ties":  # coarse scores: many ties within each class's column
        logits = torch.randint(0, 3, (n, classes), generator=g).float()
    elif kind == "never-predicted":  # classes 7-9 never win
        logits[:, 7:] -= 100.0
    elif kind == "class-missing":  # class 4 absent from the targets: AUC undefined
        targets[targets == 4] = 5
    elif kind == "constant":  # one class predicted for everything: MCC's denominator is 0
        logits = torch.zeros(n, classes)
        logits[:, 2] = 1.0
    return logits, targets


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("kind", ["random", "learned", "ties", "never-predicted", "class-missing", "constant"])
def test_every_metric_equals_scikit_learns(kind: str, seed: int) -> None:
    logits, targets = case(kind, seed)
    ours, theirs = classification_metrics(logits, targets), sklearn_metrics(logits, targets)
    assert ours.keys() == theirs.keys()
    for name, value in theirs.items():
        if value is None:
            assert ours[name] is None, name
        else:
            assert ours[name] == pytest.approx(value, abs=1e-9), name
    assert (ours["roc_auc"] is None) == (kind == "class-missing")


def test_the_confusion_matrix_equals_scikit_learns_with_every_class() -> None:
    logits, targets = case("never-predicted", 0)
    ours = confusion_matrix(logits, targets)
    assert ours.shape == (10, 10) and ours.sum() == len(targets)
    assert np.array_equal(ours, skm.confusion_matrix(targets.numpy(), logits.argmax(1).numpy(), labels=np.arange(10)))
