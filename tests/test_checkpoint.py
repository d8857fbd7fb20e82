"""Sealed checkpoints: atomic, weights_only, SHA-256 verified."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from hpo.checkpoint import load_checkpoint, save_checkpoint
from hpo.errors import HpoError
from hpo.export.model_io import load_model
from hpo.models import build_model

META = {"model": {"arch": "mlp", "hidden": [16]}, "input_shape": [1, 8, 8], "num_classes": 4, "classes": ["a", "b", "c", "d"]}


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    model = build_model(META["model"], META["input_shape"], META["num_classes"])
    path = tmp_path / "m.pt"
    save_checkpoint(path, model.state_dict(), META)
    return path


def test_round_trip_rebuilds_the_same_model(saved: Path) -> None:
    model = load_model(str(saved))
    x = torch.randn(2, 1, 8, 8)
    reference = build_model(META["model"], META["input_shape"], META["num_classes"])
    reference.load_state_dict(torch.load(saved, weights_only=True)["state_dict"])
    reference.eval()
    assert torch.equal(model(x), reference(x))
    assert model.hpo_meta["classes"] == ["a", "b", "c", "d"]
    assert not list(saved.parent.glob(".*tmp"))  # the temporary file was renamed away


def test_tampered_weights_are_rejected(saved: Path) -> None:
    data = torch.load(saved, weights_only=True)
    key = next(iter(data["state_dict"]))
    data["state_dict"][key][0] += 1e-3
    torch.save(data, saved)
    with pytest.raises(HpoError, match="SHA-256"):
        load_checkpoint(saved)


def test_tampered_description_is_rejected(saved: Path) -> None:
    data = torch.load(saved, weights_only=True)
    data["meta"]["classes"] = ["w", "x", "y", "z"]
    torch.save(data, saved)
    with pytest.raises(HpoError, match="SHA-256"):
        load_checkpoint(saved)


def test_truncated_file_is_rejected(saved: Path) -> None:
    saved.write_bytes(saved.read_bytes()[:100])
    with pytest.raises(HpoError, match="damaged"):
        load_checkpoint(saved)


def test_pickled_code_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "evil.pt"
    torch.save({"format": "hpo-checkpoint/1", "payload": Path("x")}, path)  # not weights-only safe
    with pytest.raises(HpoError, match="holds Python objects besides tensors"):
        load_checkpoint(path)


def test_the_recorded_torchvision_version_is_torchvisions_own_string() -> None:
    """Read from its version.py, not by importing it: local label and all, as records hold it."""
    import torchvision

    from hpo.checkpoint import versions

    assert versions()["torchvision"] == torchvision.__version__
