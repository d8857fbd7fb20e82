"""A model chosen to run with its mirror view keeps it wherever it goes: the checkpoint,
`hpo evaluate`, the ONNX graph and the PyTorch program all average the two views.

The trained study's checkpoint (scikit-learn's digits; its space never mirrors images, so its
worker chose no test-time view) is marked "flip" here, as a worker marks a model that scored
higher on validation with it (tests/training/test_test_time.py has that choice).
"""

from __future__ import annotations

from pathlib import Path

import torch

from hpo.checkpoint import load_checkpoint, save_checkpoint
from hpo.export.evaluate import evaluate_checkpoint, normalize, split_for
from hpo.export.model_io import load_model, model_from_checkpoint
from hpo.export.onnx_export import export_verified_onnx
from hpo.export.standalone import load_program, save_program
from hpo.models.test_time import FlipAveraged
from hpo.training.loop import predict_logits
from hpo.training.metrics import classification_metrics
from tests.export.conftest import Exported


def test_a_flip_checkpoint_runs_with_the_mirror_view_everywhere(exported: Exported, tmp_path: Path) -> None:
    checkpoint = load_checkpoint(exported.pt)
    assert checkpoint["meta"]["test_time_augment"] == "none"  # what the worker chose for it
    meta = {**checkpoint["meta"], "test_time_augment": "flip"}
    flip_pt = tmp_path / "flip.pt"
    save_checkpoint(flip_pt, checkpoint["state_dict"], meta)

    bare = model_from_checkpoint(checkpoint)
    model = load_model(str(flip_pt))
    assert isinstance(model, FlipAveraged) and model.hpo_meta["test_time_augment"] == "flip"
    _, test = split_for(meta, None, "test")
    x = normalize(test.x, meta)
    expected = (predict_logits(bare, x) + predict_logits(bare, x.flip(3))) / 2
    assert torch.allclose(predict_logits(model, x), expected, atol=1e-5)
    # The bare network, for reading its layers (hpo report's activations).
    assert not isinstance(model_from_checkpoint(load_checkpoint(flip_pt), test_time=False), FlipAveraged)

    accuracy = classification_metrics(expected, test.y)["accuracy"]
    evaluated = evaluate_checkpoint(str(flip_pt), None, "test")  # `hpo evaluate`
    assert evaluated.metrics["accuracy"] == accuracy
    # Image by image, in the split's order (paired comparisons, benchmarks/common.paired).
    assert evaluated.correct.tolist() == (expected.argmax(1) == test.y).tolist()

    onnx_path = tmp_path / "flip.onnx"
    parity, _session = export_verified_onnx(model, meta, onnx_path)  # verified on the whole test split
    assert parity.max_abs_diff < 1e-3
    assert evaluate_checkpoint(str(onnx_path), None, "test").metrics["accuracy"] == accuracy

    program, _kind = save_program(model, meta, tmp_path / "flip.pt2")
    module, contract = load_program(program)
    assert contract["input"]["test_time_augment"] == "flip"  # said to readers who never heard of hpo
    with torch.no_grad():
        assert torch.allclose(module(test.x[:64]), expected[:64], atol=1e-4)
