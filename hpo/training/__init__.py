"""Training: a pure function from a config and data to a trained model and its metrics."""

from hpo.training.config import TrainConfig
from hpo.training.diagnostics import GRAD_NORMS, LOSS_CURVES
from hpo.training.loop import Callback, NonFiniteLoss, TrainResult, TrainState, evaluate, train

__all__ = ["GRAD_NORMS", "LOSS_CURVES", "Callback", "NonFiniteLoss", "TrainConfig", "TrainResult", "TrainState", "evaluate", "train"]
