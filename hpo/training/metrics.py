"""Classification metrics from logits: accuracy, macro precision/recall/F1, MCC, ROC AUC."""

from __future__ import annotations

import math
import warnings

import numpy as np
import torch


def classification_metrics(logits: torch.Tensor, targets: torch.Tensor) -> dict[str, float | None]:
    """Metrics for one split. ROC AUC is one-vs-rest, macro; None when undefined."""
    from sklearn import metrics as skm

    probs = torch.softmax(logits.float(), dim=1).cpu().numpy()
    y_true = targets.cpu().numpy()
    y_pred = probs.argmax(axis=1)
    labels = np.arange(probs.shape[1])
    with warnings.catch_warnings():
        # Classes never predicted make precision 0 by definition; that is not worth a warning.
        warnings.simplefilter("ignore")
        precision, recall, f1, _ = skm.precision_recall_fscore_support(
            y_true, y_pred, labels=labels, average="macro", zero_division=0
        )
        mcc = skm.matthews_corrcoef(y_true, y_pred)
        try:
            auc = float(skm.roc_auc_score(y_true, probs, multi_class="ovr", average="macro", labels=labels))
        except ValueError:  # a class missing from y_true
            auc = None
    result: dict[str, float | None] = {
        "accuracy": float((y_pred == y_true).mean()),
        "precision": float(precision),
        "recall": float(recall),
        "f1": float(f1),
        "mcc": float(mcc),
        "roc_auc": auc,
    }
    return {k: (None if v is not None and math.isnan(v) else v) for k, v in result.items()}


def confusion_matrix(logits: torch.Tensor, targets: torch.Tensor) -> np.ndarray:
    from sklearn.metrics import confusion_matrix as sk_confusion

    n = logits.shape[1]
    return sk_confusion(targets.cpu().numpy(), logits.argmax(1).cpu().numpy(), labels=np.arange(n))
