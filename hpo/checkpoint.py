"""Self-describing checkpoints: weights plus a plain description, sealed with a SHA-256.

A checkpoint is ``{"format", "state_dict", "meta", "sha256"}``. It loads with
``torch.load(weights_only=True)``, so opening one never runs code. The digest covers every
tensor's bytes and the JSON of ``meta``, so a tampered file is rejected, and a truncated one
fails to unpickle; both give one clear message.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import os
import platform
import re
from pathlib import Path
from typing import Any

import torch

from hpo.errors import HpoError
from hpo.files import atomic_target

FORMAT = "hpo-checkpoint/1"


def _torchvision_version() -> str:
    """``torchvision.__version__`` without importing torchvision.

    Importing it costs about 1.7 s of CPU (it pulls in torch._dynamo) in every worker. Its
    ``version.py`` holds the string, local label and all ("0.29.1+cu130"), which the package's
    metadata lacks ("0.29.1"); earlier records hold the former, and retrain compares them.
    """
    spec = importlib.util.find_spec("torchvision")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        try:
            found = re.search(r"^__version__ = ['\"]([^'\"]+)['\"]", (Path(folder) / "version.py").read_text(), re.M)
        except OSError:
            continue
        if found:
            return found.group(1)
    return importlib.metadata.version("torchvision")


def versions() -> dict[str, str]:
    """Library versions recorded with every trial and checkpoint, for reproducibility."""
    import optuna

    from hpo import __version__

    return {
        "hpo": __version__,
        "torch": torch.__version__,
        "torchvision": _torchvision_version(),
        "optuna": optuna.__version__,
        "python": platform.python_version(),
    }


def digest(state_dict: dict[str, torch.Tensor], meta: dict[str, Any]) -> str:
    h = hashlib.sha256()
    for key in sorted(state_dict):
        tensor = state_dict[key].detach().cpu().contiguous().reshape(-1)
        h.update(f"{key}|{tensor.dtype}|{tuple(tensor.shape)}|".encode())
        h.update(tensor.view(torch.uint8).numpy().tobytes() if tensor.numel() else b"")
    h.update(json.dumps(meta, sort_keys=True, default=str).encode())
    return h.hexdigest()


def atomic_save(obj: Any, path: str | os.PathLike[str]) -> None:
    """``torch.save`` to a temporary file beside ``path``, then rename: readers never see half a file.

    The file gets the umask's modes (hpo.files), so other users can read it as with any file.
    """
    with atomic_target(path) as tmp:
        torch.save(obj, tmp)


def save_checkpoint(path: str | os.PathLike[str], state_dict: dict[str, torch.Tensor], meta: dict[str, Any]) -> str:
    """Write a sealed checkpoint; returns its SHA-256."""
    state_dict = {k: v.detach().cpu() for k, v in state_dict.items()}
    meta = json.loads(json.dumps(meta, default=str))  # plain JSON only: weights_only must load it
    sha = digest(state_dict, meta)
    atomic_save({"format": FORMAT, "state_dict": state_dict, "meta": meta, "sha256": sha}, path)
    return sha


class Unreadable(HpoError):
    """A file that is not a loadable PyTorch file; ``reason`` says what it is, without the path."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def _what_it_is(path: Path, exc: Exception) -> str:
    """Why ``torch.load`` refused ``path``, in words: PyTorch's own message is many lines long
    and, cut to one, ends mid-sentence."""
    with open(path, "rb") as f:
        head = f.read(4096)
    if head[:1] == b"\x08" and (b"pytorch" in head[:64] or b"onnx" in head.lower()):
        return "an ONNX model, not a PyTorch checkpoint (evaluate it under its .onnx name)"
    if "unsupported global" in str(exc).lower():  # torch's weights-only unpickler met a class
        return "a PyTorch file that holds Python objects besides tensors, which hpo does not load (they could run code)"
    if head[:4] == b"PK\x03\x04":
        return "a truncated or damaged PyTorch file"
    return "not a PyTorch file (damaged, or another format)"


def safe_load(path: str | os.PathLike[str], what: str = "checkpoint") -> Any:
    """``torch.load(weights_only=True)`` with one-line errors for missing or damaged files."""
    path = Path(path)
    if not path.is_file():
        raise HpoError(f"{what} {str(path)!r} does not exist")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # truncated zips, garbage, pickles with code, other formats
        reason = _what_it_is(path, exc)
        raise Unreadable(f"{what} {str(path)!r} is {reason}; export it again with `hpo export`", reason) from None


def load_checkpoint(path: str | os.PathLike[str], verify: bool = True) -> dict[str, Any]:
    """Load and verify a checkpoint written by :func:`save_checkpoint`."""
    data = safe_load(path)
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise HpoError(f"{str(path)!r} is not an hpo checkpoint (no {FORMAT!r} marker); export one with `hpo export`")
    if verify and digest(data["state_dict"], data["meta"]) != data.get("sha256"):
        raise HpoError(
            f"checkpoint {str(path)!r} failed its SHA-256 check: its weights or description were "
            "changed after export; re-export it"
        )
    return data
