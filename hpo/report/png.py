"""PNG files from the matplotlib figures: offline, no browser needed."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

DPI = 80  # small files: the docs hold several reports

# matplotlib logs at INFO how it treats categorical axes: noise in a report's output.
logging.getLogger("matplotlib").setLevel(logging.WARNING)


def save_png(drawn: Any, path: Path) -> None:
    """Save what an optuna matplotlib plot returned (an Axes or an array of them) and close it."""
    import matplotlib

    matplotlib.use("Agg")  # no display on servers; must precede pyplot use
    import matplotlib.pyplot as plt

    figure = np.asarray(drawn).flat[0].figure
    figure.savefig(path, dpi=DPI, bbox_inches="tight")
    plt.close(figure)
