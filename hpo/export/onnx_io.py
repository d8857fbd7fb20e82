"""ONNX files that stand alone: the graph plus the description predict and evaluate need.

The export uses the dynamo exporter with a dynamic batch dimension. The graph takes float32
pixels in [0, 1], NCHW, and normalizes them itself (hpo.export.standalone), so onnxruntime
alone runs it. Everything a consumer needs besides the graph travels in ``metadata_props``:
``classes`` and ``input`` (plain JSON, for anyone), and hpo's whole description under
:data:`META_KEY`, so ``hpo predict x.onnx`` and ``hpo evaluate x.onnx`` work with the file alone.
Files exported before normalization moved into the graph (no ``input`` in their description)
are still read: their inputs are normalized first.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import logging
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from hpo.errors import HpoError
from hpo.files import atomic_target
from hpo.training.loop import EVAL_BATCH

if TYPE_CHECKING:
    import onnx
    import onnxruntime

# Opset 21 is current and read by every onnxruntime the `onnx` extra allows (>= 1.18).
OPSET = 21
INPUT_NAME, OUTPUT_NAME = "images", "logits"
META_KEY = "hpo.meta"
PARITY_KEY = "hpo.parity"
# The parts of a checkpoint's meta that travel inside the ONNX file; history stays in the .pt.
ONNX_META_FIELDS = (
    "dataset", "input_shape", "num_classes", "classes", "normalization", "model", "params",
    "train_config", "metrics", "study", "trial", "values", "weights", "test_metrics",
    "study_config", "versions", "sha256", "input", "test_time_augment",
)
CLASSES_KEY, INPUT_KEY = "classes", "input"  # plain metadata for readers that do not know hpo


def _require_onnx() -> None:
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
        import onnxscript  # noqa: F401
    except ImportError as exc:
        raise HpoError(f"ONNX support needs the `onnx` extra ({exc.name} is missing); pip install 'hpo[onnx]'") from None


@contextlib.contextmanager
def _quiet_loggers(*names: str) -> Iterator[None]:
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


def to_onnx_proto(model: nn.Module, input_shape: Sequence[int]) -> onnx.ModelProto:
    """Trace ``model`` (on the CPU, in eval mode) into an ONNX graph with a dynamic batch dim."""
    _require_onnx()
    model = copy.deepcopy(model).to("cpu").eval()
    # A batch of 2: torch.export specializes a batch of 1 into a constant.
    example = torch.zeros(2, *(int(d) for d in input_shape))
    batch = torch.export.Dim("batch", min=1)
    # The exporter prints its progress to stdout and its optimizer logs every pass at INFO, even
    # with verbose=False; keep CLI output and worker logs clean.
    with contextlib.redirect_stdout(io.StringIO()), _quiet_loggers("onnxscript", "onnx_ir", "torch.onnx"):
        program = torch.onnx.export(
            model, (example,), None, dynamo=True, opset_version=OPSET, input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME], dynamic_shapes=({0: batch},), verbose=False,
        )
    if program is None:
        raise HpoError("torch.onnx.export returned no program; the dynamo exporter is needed (torch >= 2.5)")
    return program.model_proto


def set_metadata(proto: onnx.ModelProto, values: dict[str, Any]) -> None:
    """Set (or replace) JSON-encoded ``metadata_props`` entries."""
    existing = {p.key: p for p in proto.metadata_props}
    for key, value in values.items():
        text = json.dumps(value, sort_keys=True, default=str)
        if key in existing:
            existing[key].value = text
        else:
            proto.metadata_props.add(key=key, value=text)


def onnx_meta(meta: dict[str, Any]) -> dict[str, Any]:
    return {k: meta[k] for k in ONNX_META_FIELDS if k in meta}


def save_proto(proto: onnx.ModelProto, path: str | os.PathLike[str]) -> None:
    """Write atomically (a temporary file beside ``path``, then rename), with the umask's modes."""
    import onnx

    with atomic_target(path) as tmp:
        onnx.save_model(proto, str(tmp))


def make_session(model: bytes | str, threads: int | None = None) -> onnxruntime.InferenceSession:
    """A CPU onnxruntime session using as many threads as PyTorch does, for a fair comparison."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or torch.get_num_threads()
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # errors only: the CLI reports problems itself
    return ort.InferenceSession(model, sess_options=options, providers=["CPUExecutionProvider"])


def run_session(session: onnxruntime.InferenceSession, x: torch.Tensor, batch_size: int = EVAL_BATCH) -> torch.Tensor:
    """Logits of ``session`` for the inputs ``x`` (what its graph takes), in batches."""
    name = session.get_inputs()[0].name
    chunks = []
    for i in range(0, len(x), batch_size):
        batch = x[i : i + batch_size].detach().cpu().float().contiguous().numpy()
        chunks.append(torch.from_numpy(session.run(None, {name: batch})[0]))
    return torch.cat(chunks)


@dataclass
class OnnxClassifier:
    """An exported .onnx file, ready to run: its session and its hpo description."""

    session: onnxruntime.InferenceSession
    meta: dict[str, Any]
    parity: dict[str, Any] | None

    @property
    def normalizes_itself(self) -> bool:
        return bool((self.meta.get("input") or {}).get("normalized_in_graph"))

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """Logits for [0, 1] pixels ``x``."""
        if not self.normalizes_itself:  # an export from before normalization was in the graph
            from hpo.export.evaluate import normalize

            x = normalize(x, self.meta)
        return run_session(self.session, x)


def load_onnx(path: str | os.PathLike[str]) -> OnnxClassifier:
    """Open an .onnx file written by ``hpo export --onnx``; damaged or foreign files fail in one line."""
    _require_onnx()
    import onnx

    path = Path(path)
    if not path.is_file():
        raise HpoError(f"ONNX file {str(path)!r} does not exist")
    try:
        proto = onnx.load_model(str(path))
        onnx.checker.check_model(proto)
        session = make_session(proto.SerializeToString())
    except Exception as exc:  # protobuf, checker and onnxruntime errors all mean "not a usable model"
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise HpoError(f"ONNX file {str(path)!r} is damaged or not an ONNX model ({reason[:160]}); re-export it with `hpo export --onnx`") from None
    props = {p.key: p.value for p in proto.metadata_props}
    if META_KEY not in props:
        raise HpoError(f"ONNX file {str(path)!r} has no {META_KEY!r} metadata, so its classes and normalization are unknown; export it with `hpo export --onnx`")
    try:
        meta = json.loads(props[META_KEY])
        parity = json.loads(props[PARITY_KEY]) if PARITY_KEY in props else None
    except json.JSONDecodeError:
        raise HpoError(f"ONNX file {str(path)!r} has damaged {META_KEY!r} metadata; re-export it") from None
    return OnnxClassifier(session, meta, parity)
