"""Models that need only their runtime: pixels in, logits out, normalization inside.

A user has images, not hpo's normalization statistics, so every file meant for other programs
(the ONNX graph, the PyTorch program) takes float32 pixels in [0, 1], NCHW, and normalizes
them itself with the mean and std the model was trained with (:class:`WithNormalization`).

The PyTorch program is a ``torch.export`` archive (``.pt2``): ``torch.export.load(path).module()``
runs it with plain torch, no hpo import. A model ``torch.export`` cannot trace is written as
TorchScript instead (``torch.jit.load``). Both carry ``classes.json`` and ``input.json``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from hpo.errors import HpoError
from hpo.files import atomic_target

INPUT_NAME = "images"
# What the standalone files take, stated in their metadata (ONNX ``metadata_props``, the
# program's extra files) for readers that have never heard of hpo.
INPUT_SCALE = "float32 pixels in [0, 1], NCHW; normalization is inside the model"
EXTRA_FILES = ("classes.json", "input.json")
PROGRAM, TORCHSCRIPT = "torch.export", "torchscript"


class WithNormalization(nn.Module):
    """``model`` behind its training normalization: takes [0, 1] pixels, returns logits."""

    mean: torch.Tensor  # buffers: saved with the program, moved with the module
    std: torch.Tensor

    def __init__(self, model: nn.Module, mean: Sequence[float], std: Sequence[float]) -> None:
        super().__init__()
        self.model = model
        self.register_buffer("mean", torch.tensor([float(m) for m in mean]).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor([float(s) for s in std]).view(1, -1, 1, 1))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.model((images - self.mean) / self.std)


def with_normalization(model: nn.Module, meta: dict[str, Any]) -> WithNormalization:
    """The CPU, eval-mode ``model`` wrapped in the normalization its ``meta`` records."""
    norm = meta["normalization"]
    return WithNormalization(model.to("cpu").eval(), norm["mean"], norm["std"]).eval()


def input_contract(meta: dict[str, Any]) -> dict[str, Any]:
    """The input description stored with every standalone file (``input.json``, ONNX ``hpo.input``)."""
    return {
        "name": INPUT_NAME,
        "shape": ["batch", *(int(d) for d in meta["input_shape"])],
        "dtype": "float32",
        "range": [0.0, 1.0],
        "layout": "NCHW",
        "normalized_in_graph": True,
        "normalization": meta["normalization"],
        "scale": INPUT_SCALE,
        # "flip": the file averages each image's logits with its mirror image's (hpo.models.test_time).
        "test_time_augment": meta.get("test_time_augment", "none"),
    }


def _example(meta: dict[str, Any]) -> torch.Tensor:
    # A batch of 2: torch.export specializes a batch of 1 into a constant.
    return torch.rand(2, *(int(d) for d in meta["input_shape"]), generator=torch.Generator().manual_seed(0))


def _extra_files(meta: dict[str, Any]) -> dict[str, str]:
    return {"classes.json": json.dumps(list(meta["classes"])), "input.json": json.dumps(input_contract(meta))}


def torchscript_path(program_path: str | os.PathLike[str]) -> Path:
    """Where the TorchScript fallback goes: beside the requested ``.pt2``, named ``.torchscript.pt``."""
    path = Path(program_path)
    return path.with_name(path.stem + ".torchscript.pt")


def save_program(model: nn.Module, meta: dict[str, Any], path: str | os.PathLike[str]) -> tuple[Path, str]:
    """Write ``model`` (with its normalization) as a program plain torch loads.

    Returns the path written and its kind (:data:`PROGRAM`, or :data:`TORCHSCRIPT` when
    ``torch.export`` cannot trace the model).
    """
    wrapped = with_normalization(model, meta)
    example = _example(meta)
    extra = _extra_files(meta)
    try:
        batch = torch.export.Dim("batch", min=1)
        program = torch.export.export(wrapped, (example,), dynamic_shapes=({0: batch},), strict=False)
    except Exception:  # data-dependent control flow and the like: TorchScript can still trace it
        target = torchscript_path(path)
        try:
            scripted = torch.jit.trace(wrapped, example, check_trace=False)
        except Exception as exc:
            raise HpoError(f"neither torch.export nor TorchScript can trace model {meta.get('model')}: "
                           f"{(str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]}") from None
        with atomic_target(target) as tmp:
            torch.jit.save(scripted, str(tmp), _extra_files=extra)
        return target, TORCHSCRIPT
    with atomic_target(path) as tmp, open(tmp, "wb") as f:
        torch.export.save(program, f, extra_files=extra)
    return Path(path), PROGRAM


def load_program(path: str | os.PathLike[str]) -> tuple[nn.Module, dict[str, Any]]:
    """Open a program written by :func:`save_program`; returns the module and its input contract."""
    extra = dict.fromkeys(EXTRA_FILES, "")
    if str(path).endswith(".torchscript.pt"):
        module = torch.jit.load(str(path), map_location="cpu", _extra_files=extra)
    else:
        module = torch.export.load(str(path), extra_files=extra).module()
    return module, {"classes": json.loads(extra["classes.json"]), "input": json.loads(extra["input.json"])}


def export_verified_program(model: nn.Module, meta: dict[str, Any], path: str | os.PathLike[str]) -> tuple[Path, str, Any]:
    """:func:`save_program`, then load what was written with plain torch and check it against
    ``model`` on the test split's [0, 1] pixels; a mismatch removes the file and raises.

    Returns the path, its kind, and the :class:`hpo.export.parity.Parity`.
    """
    from hpo.export.evaluate import split_for
    from hpo.export.parity import measure_parity, require_parity
    from hpo.training.loop import EVAL_BATCH, predict_logits

    written, kind = save_program(model, meta, path)
    dataset, test = split_for(meta, None, "test")
    loaded, _contract = load_program(written)
    with torch.inference_mode():
        # No .eval() on the loaded one: an exported program refuses it, and was traced in eval mode.
        candidate = torch.cat([loaded(test.x[i : i + EVAL_BATCH]) for i in range(0, len(test.x), EVAL_BATCH)])
        parity = measure_parity(predict_logits(with_normalization(model, meta), test.x), candidate, dataset, "test")
    try:
        require_parity(parity, f"the PyTorch program {os.fspath(written)!r}")
    except HpoError:
        written.unlink(missing_ok=True)
        raise
    return written, kind, parity
