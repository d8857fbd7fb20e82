"""Confusion-matrix pictures for `hpo evaluate --plot`."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from hpo.extras import require


def save_confusion_png(matrix: np.ndarray, classes: Sequence[str], path: str | os.PathLike[str], title: str) -> None:
    """Write ``matrix`` (rows: true class, columns: predicted) as an annotated heat map."""
    require("report", "--plot", ("matplotlib",))
    import matplotlib

    matplotlib.use("Agg")  # files only: no display on servers and in CI
    import matplotlib.pyplot as plt

    n = len(classes)
    size = max(4.0, 0.6 * n + 2)
    fig, ax = plt.subplots(figsize=(size, size))
    try:
        ax.imshow(matrix, cmap="Blues")
        ax.set_xticks(range(n), [c[:12] for c in classes], rotation=45, ha="right")
        ax.set_yticks(range(n), [c[:12] for c in classes])
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_title(title)
        threshold = matrix.max() / 2 if matrix.size else 0
        for i in range(n):
            for j in range(n):
                ax.text(j, i, str(matrix[i, j]), ha="center", va="center", fontsize=8,
                        color="white" if matrix[i, j] > threshold else "black")
        fig.tight_layout()
        fig.savefig(os.fspath(path), dpi=120)
    finally:
        plt.close(fig)
