"""hpo: hyperparameter optimization for image classifiers on Optuna.

The library surface is small: :func:`load_model` rebuilds an exported model without the study.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__version__ = "0.1.0"

if TYPE_CHECKING:
    from torch import nn


def load_model(path: str) -> nn.Module:
    """Rebuild the ``nn.Module`` in an exported checkpoint (``hpo export --out PATH``).

    The SHA-256 recorded at export is verified first. The model is returned in eval mode;
    its checkpoint's description is attached as ``model.hpo_meta`` (normalization, class
    names, metrics, ...).
    """
    from hpo.export.model_io import load_model as _load

    return _load(path)


__all__ = ["__version__", "load_model"]
