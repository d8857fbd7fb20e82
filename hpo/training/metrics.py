"""Classification metrics from logits: accuracy, macro precision/recall/F1, MCC, ROC AUC.

Computed here with numpy, from the confusion matrix and the ranks of the scores, as
scikit-learn defines them (``precision_recall_fscore_support(average="macro",
zero_division=0)``, ``matthews_corrcoef``, ``roc_auc_score(multi_class="ovr",
average="macro")``; tests/training/test_metrics.py holds them to scikit-learn's values).
Importing scikit-learn cost every worker and every ``hpo evaluate`` about a second of CPU
(it pulls in SciPy), more than the metrics themselves.
"""

from __future__ import annotations

import math

import numpy as np
import torch


def _confusion(y_true: np.ndarray, y_pred: np.ndarray, n: int) -> np.ndarray:
    """Counts, rows the true class and columns the predicted one."""
    return np.bincount(n * y_true.astype(np.int64) + y_pred.astype(np.int64), minlength=n * n).reshape(n, n)


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator, 0 where the denominator is 0 (scikit-learn's zero_division=0)."""
    safe = np.where(denominator == 0, 1, denominator)
    return np.where(denominator == 0, 0.0, numerator / safe)


def _mcc(confusion: np.ndarray) -> float:
    """Matthews' correlation for several classes (Gorodkin's R_K), 0 where it is undefined."""
    t_sum, p_sum = confusion.sum(axis=1).astype(np.float64), confusion.sum(axis=0).astype(np.float64)
    n_correct, n_samples = float(np.trace(confusion)), float(p_sum.sum())
    cov_ytyp = n_correct * n_samples - float(t_sum @ p_sum)
    cov_ypyp = n_samples**2 - float(p_sum @ p_sum)
    cov_ytyt = n_samples**2 - float(t_sum @ t_sum)
    if cov_ypyp * cov_ytyt == 0:
        return 0.0
    return cov_ytyp / math.sqrt(cov_ytyt * cov_ypyp)


def _average_ranks(scores: np.ndarray) -> np.ndarray:
    """1-based ranks, tied scores sharing the mean of their ranks."""
    _, inverse, counts = np.unique(scores, return_inverse=True, return_counts=True)
    last = np.cumsum(counts)
    return (last - (counts - 1) / 2.0)[inverse]


def _roc_auc_ovr(y_true: np.ndarray, probs: np.ndarray) -> float | None:
    """One-vs-rest ROC AUC averaged over the classes; None if a class is missing from ``y_true``.

    Each class's AUC is the Mann-Whitney statistic (a tie counts one half), which is the area
    under its ROC curve.
    """
    n = probs.shape[1]
    aucs = []
    for c in range(n):
        positive = y_true == c
        n_pos = int(positive.sum())
        n_neg = len(y_true) - n_pos
        if n_pos == 0 or n_neg == 0:
            return None
        ranks = _average_ranks(probs[:, c])
        aucs.append((ranks[positive].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))
    return float(np.mean(aucs))


def classification_metrics(logits: torch.Tensor, targets: torch.Tensor) -> dict[str, float | None]:
    """Metrics for one split. ROC AUC is one-vs-rest, macro; None when undefined."""
    probs = torch.softmax(logits.float(), dim=1).cpu().numpy()
    y_true = targets.cpu().numpy()
    y_pred = probs.argmax(axis=1)
    confusion = _confusion(y_true, y_pred, probs.shape[1])
    tp = np.diag(confusion).astype(np.float64)
    predicted, actual = confusion.sum(axis=0), confusion.sum(axis=1)
    # Every class counts in the macro averages, also one never predicted or never present.
    result: dict[str, float | None] = {
        "accuracy": float((y_pred == y_true).mean()),
        "precision": float(_ratio(tp, predicted).mean()),
        "recall": float(_ratio(tp, actual).mean()),
        "f1": float(_ratio(2 * tp, predicted + actual).mean()),
        "mcc": _mcc(confusion),
        "roc_auc": _roc_auc_ovr(y_true, probs),
    }
    return {k: (None if v is not None and math.isnan(v) else v) for k, v in result.items()}


def confusion_matrix(logits: torch.Tensor, targets: torch.Tensor) -> np.ndarray:
    """Counts, rows the true class and columns the predicted one."""
    return _confusion(targets.cpu().numpy(), logits.argmax(1).cpu().numpy(), logits.shape[1])
