"""`hpo predict` on PNG files and `hpo evaluate` with metrics and a confusion matrix, for .pt and .onnx."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from PIL import Image

import hpo
from hpo.cli import main
from hpo.data import load
from hpo.export.evaluate import normalization_of
from tests.export.conftest import Exported
from tests.helpers import run_hpo

N_IMAGES = 12


def _write_pngs(folder: Path) -> tuple[list[Path], list[Path], torch.Tensor]:
    """Digits test images as 8x8 grayscale PNGs, and the same enlarged to 32x32 RGB."""
    images = load("digits").test_x[:N_IMAGES]
    native, enlarged = [], []
    for i, image in enumerate(images):
        picture = Image.fromarray(image[0].numpy(), mode="L")
        native.append(folder / f"digit{i}.png")
        picture.save(native[-1])
        enlarged.append(folder / f"digit{i}-rgb.png")
        picture.convert("RGB").resize((32, 32), Image.Resampling.NEAREST).save(enlarged[-1])
    return native, enlarged, images


def _predict(model: Path, images: list[Path], env: dict[str, str]) -> list[dict]:
    result = run_hpo("predict", str(model), *map(str, images), "--json", env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_predict_pngs_with_checkpoint_and_onnx(exported: Exported, tmp_path: Path) -> None:
    native, enlarged, images = _write_pngs(tmp_path)
    model = hpo.load_model(str(exported.pt))
    with torch.inference_mode():
        probs = torch.softmax(model(normalization_of(model.hpo_meta).apply(images)), dim=1)
    expected = [str(int(i)) for i in probs.argmax(1)]

    from_pt = _predict(exported.pt, native + enlarged, exported.env)
    from_onnx = _predict(exported.onnx, native, exported.env)
    assert [p["image"] for p in from_pt] == [str(p) for p in native + enlarged]
    # The PNG round trip and preprocessing give exactly what the model sees on the tensors.
    assert [p["class"] for p in from_pt[:N_IMAGES]] == expected
    assert [p["class"] for p in from_onnx] == expected
    for pt_row, onnx_row, p in zip(from_pt, from_onnx, probs):
        assert pt_row["probability"] == pytest.approx(float(p.max()), abs=1e-5)
        assert onnx_row["probability"] == pytest.approx(pt_row["probability"], abs=1e-4)
    # Enlarged RGB files are converted back to the model's 1 channel and 8x8 (area averaging
    # undoes the 4x enlargement exactly, and gray RGB converts back to the same gray levels).
    assert from_pt[N_IMAGES:] == [{**row, "image": str(path)} for row, path in zip(from_pt[:N_IMAGES], enlarged)]
    for row in from_pt:
        top = [t["probability"] for t in row["top"]]
        assert len(top) == 3 and top == sorted(top, reverse=True) and 0 < sum(top) <= 1 + 1e-6
        assert row["class"] in [str(i) for i in range(10)]

    table = CliRunner().invoke(main, ["predict", str(exported.onnx), str(native[0])], env=exported.env)
    assert table.exit_code == 0 and "probability" in table.stdout and str(native[0]) in table.stdout


def test_evaluate_checkpoint_and_onnx_with_plot(exported: Exported, tmp_path: Path) -> None:
    results = {}
    for model in (exported.pt, exported.onnx):
        plot = tmp_path / f"{model.suffix[1:]}-cm.png"
        result = run_hpo("evaluate", str(model), "--dataset", "digits", "--split", "test", "--plot", str(plot), "--json", env=exported.env)
        assert result.returncode == 0, result.stderr
        results[model.suffix] = json.loads(result.stdout)
        assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        with Image.open(plot) as picture:
            assert min(picture.size) >= 300
    pt, onnx_result = results[".pt"], results[".onnx"]
    assert pt["n"] == 359 and set(pt["metrics"]) == {"accuracy", "precision", "recall", "f1", "mcc", "roc_auc"}
    assert pt["metrics"]["accuracy"] > 0.5  # a trained model, not chance (0.1)
    assert sum(map(sum, pt["confusion_matrix"])) == 359
    assert onnx_result["confusion_matrix"] == pt["confusion_matrix"]
    for name, value in pt["metrics"].items():
        assert onnx_result["metrics"][name] == pytest.approx(value, abs=1e-6)

    text = CliRunner().invoke(main, ["evaluate", str(exported.onnx), "--split", "test"], env=exported.env)
    assert text.exit_code == 0, text.output
    assert "confusion matrix" in text.stdout and "roc_auc" in text.stdout and "mcc" in text.stdout
