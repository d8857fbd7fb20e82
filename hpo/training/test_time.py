"""Choosing a trained model's test-time augmentation on the validation split.

Only a model trained on mirrored images is offered the mirror view (hpo.models.test_time): for
one that never saw a mirrored image, such as a digit classifier, the mirror image is a
different picture. It is chosen when it scores higher on validation than the bare model, so
every test image stays unseen until the one test at the end.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from hpo.data.splits import Split
from hpo.models.test_time import NONE, with_test_time
from hpo.training.loop import predict_logits
from hpo.training.metrics import classification_metrics
from hpo.training.precision import Precision

FLIP = "flip"


@dataclass(frozen=True)
class TtaChoice:
    name: str  # a key of hpo.models.test_time.TEST_TIME
    val_accuracy_flip: float | None  # the mirror view's validation accuracy; None when not offered

    def to_attrs(self) -> dict[str, str | float]:
        # The keys of hpo.trials.records.TrialKeys (TEST_TIME, VAL_ACCURACY_FLIP): a training
        # module does not import the trials layer above it.
        attrs: dict[str, str | float] = {"test_time_augment": self.name}
        if self.val_accuracy_flip is not None:
            attrs["val_accuracy_flip"] = self.val_accuracy_flip
        return attrs


def trained_on_mirror_images(augment: str) -> bool:
    return FLIP in augment.split("+")


def choose_test_time(model: nn.Module, val: Split, augment: str, plain_accuracy: float | None,
                     precision: Precision | None = None) -> TtaChoice:
    """The mirror view if ``model`` (trained with ``augment``) is more accurate on ``val`` with it
    than its ``plain_accuracy`` there, measured with the same ``precision``."""
    if not trained_on_mirror_images(augment) or plain_accuracy is None or len(val) == 0:
        return TtaChoice(NONE, None)
    logits = predict_logits(with_test_time(model, FLIP), val.x, precision=precision)
    flipped = classification_metrics(logits, val.y)["accuracy"]
    if flipped is None:
        return TtaChoice(NONE, None)
    return TtaChoice(FLIP if flipped > plain_accuracy else NONE, float(flipped))
