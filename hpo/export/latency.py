"""Inference latency: PyTorch eager vs ONNX Runtime, as the median of repeated runs on the CPU."""

from __future__ import annotations

import copy
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from torch import nn

from hpo.export.onnx_io import make_session, run_session, to_onnx_proto

if TYPE_CHECKING:
    import onnxruntime

WARMUP = 3  # untimed runs first: allocator and kernel selection happen on the first calls


def median_ms(fn: Callable[[], object], repeats: int) -> float:
    """Median wall time of ``fn()`` in milliseconds, after a few untimed runs."""
    for _ in range(WARMUP):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(times)


def _eager_fn(model: nn.Module, x: torch.Tensor) -> Callable[[], object]:
    def run() -> object:
        with torch.inference_mode():
            return model(x)

    return run


def _onnx_fn(session: onnxruntime.InferenceSession, x: torch.Tensor) -> Callable[[], object]:
    return lambda: run_session(session, x, batch_size=len(x))


def onnx_latency_ms(model: nn.Module, input_shape: Sequence[int], batch: int = 1, repeats: int = 30) -> float:
    """Median ONNX Runtime latency (ms) of ``model`` on the CPU for one batch of ``batch`` images.

    The model is exported to ONNX in memory first; the worker uses this for the ``latency``
    objective, so the front trades accuracy against what deployment will actually cost.
    """
    session = make_session(to_onnx_proto(model, input_shape).SerializeToString())
    x = torch.randn(batch, *(int(d) for d in input_shape), generator=torch.Generator().manual_seed(0))
    return median_ms(_onnx_fn(session, x), repeats)


@dataclass(frozen=True)
class LatencyRow:
    batch: int
    eager_ms: float
    onnx_ms: float

    @property
    def speedup(self) -> float:
        return self.eager_ms / self.onnx_ms if self.onnx_ms > 0 else float("inf")


def compare_latency(
    model: nn.Module, session: onnxruntime.InferenceSession, input_shape: Sequence[int],
    batches: Sequence[int] = (1, 64), repeats: int = 50,
) -> list[LatencyRow]:
    """PyTorch eager vs ONNX Runtime on the CPU, at each batch size (random normalized images)."""
    model = copy.deepcopy(model).to("cpu").eval()
    rows = []
    for batch in batches:
        x = torch.randn(batch, *(int(d) for d in input_shape), generator=torch.Generator().manual_seed(batch))
        rows.append(LatencyRow(batch, median_ms(_eager_fn(model, x), repeats), median_ms(_onnx_fn(session, x), repeats)))
    return rows
