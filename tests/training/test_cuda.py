"""The training loop on a CUDA GPU: mixed precision, channels_last, resume, and weights that
load on a CPU. Skipped without a GPU (CI has none); scripts/device_check.sh runs it on one.

``HPO_TEST_DEVICE=cpu HPO_PRECISION=bf16`` runs the same checks through the CPU's autocast,
which is how the test's own logic is checked on a machine without a GPU.
"""

from __future__ import annotations

import io
import math
import os

import pytest
import torch

from hpo import data
from hpo.settings import Settings
from hpo.training import TrainConfig, TrainState, train
from hpo.training.precision import choose

DEVICE = torch.device(os.environ.get("HPO_TEST_DEVICE", "cuda"))
pytestmark = pytest.mark.skipif(DEVICE.type == "cuda" and not torch.cuda.is_available(), reason="needs a CUDA GPU")

# A small residual net, the auto space's family, on 4-class synthetic images.
CONFIG = TrainConfig(model={"arch": "small_resnet", "block": "basic", "stages": [1, 1, 1], "width": 16}, optimizer="adam", lr=1e-2,
                     batch_size=64, epochs=4, schedule="cosine", augment="none",
                     precision=Settings.from_env().precision)  # HPO_PRECISION, as a worker passes it


@pytest.fixture(scope="module")
def splits() -> data.Splits:
    return data.make_splits(data.load("synthetic"), val_fraction=0.25, seed=0, device=DEVICE)


class _Interrupt(Exception):
    pass


def test_the_default_precision_on_cuda_is_mixed_with_channels_last() -> None:
    precision = choose(DEVICE, Settings.from_env().precision)
    if DEVICE.type == "cuda":
        assert precision.dtype is (torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16)
    assert precision.dtype is not None and precision.channels_last


def test_trains_in_mixed_precision_resumes_and_loads_on_a_cpu(splits: data.Splits) -> None:
    saved: dict = {}

    class StopAfterTwo:
        def on_epoch_end(self, state: TrainState, metrics: dict) -> None:
            if state.epoch == 2:
                # The worker's checkpoint path: to bytes and back, as on another machine.
                buffer = io.BytesIO()
                torch.save(state.state_dict(), buffer)
                saved.update(torch.load(io.BytesIO(buffer.getvalue()), map_location="cpu", weights_only=True))
                raise _Interrupt()

    with pytest.raises(_Interrupt):
        train(CONFIG, splits, DEVICE, callbacks=[StopAfterTwo()])
    resumed = train(CONFIG, splits, DEVICE, resume=saved)

    assert [h["epoch"] for h in resumed.history] == [1, 2, 3, 4]
    assert all(math.isfinite(h["train_loss"]) for h in resumed.history)
    assert resumed.metrics["val_accuracy"] > 0.5  # 4 classes: well above chance
    # The trained weights are fp32 parameters (autocast only computes in low precision), and
    # give the same predictions on a CPU as where they were trained.
    model = resumed.model
    assert all(p.dtype is torch.float32 for p in model.parameters())
    x = splits.val.x[:256]
    model.eval()
    with torch.no_grad():
        here = model(x).argmax(1).cpu()
        on_cpu = model.to("cpu")(x.cpu().contiguous()).argmax(1)
    assert (here == on_cpu).float().mean() >= 0.95  # bf16 rounding may flip a near tie
