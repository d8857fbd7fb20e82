"""Numeric precision and memory layout of a training run: fast on CUDA and on AMX CPUs, exact elsewhere.

On CUDA, matmuls and convolutions run in bf16 under autocast (fp16 with a GradScaler on GPUs
without bf16). On a CPU with Intel AMX (Xeon since Sapphire Rapids: flags ``amx_tile`` and
``amx_bf16``) they run in bf16 too: oneDNN multiplies bf16 tiles in hardware, and an epoch of
the ``auto`` space's warm start took 0.51 of fp32's time at width 48, 0.53 at 64 and 0.73 at
24, with the same validation accuracy after its epochs (benchmark 9,
benchmarks/cpu_precision.py, 2026-12-06). Other CPUs stay in fp32, where autocast was slower
than fp32 for these small models. A run's ``TrainConfig.precision`` (fp32 | bf16 | fp16; the worker's from HPO_PRECISION,
read by hpo.settings) overrides the choice, which is how tests run the CUDA code paths on CPU.

Conv nets use channels_last on every device: on CUDA it is the layout tensor cores want, and
on this project's CPU (torch 2.14, oneDNN) an epoch of the ``cnn`` space's CNN takes 0.60 of
the time it takes in NCHW, and the ``auto`` space's ResNet with flips alone 0.66 (benchmark 8,
benchmarks/memory_format.py). A crop-augmented batch of one channel already ran channels_last
(ratio 0.93-1.0): its strides, from hpo.training.augment.crop's permute, made PyTorch choose it
by accident, and evaluation never had it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from hpo.devices import cpu_flags
from hpo.errors import UsageError

CHOICES = ("fp32", "bf16", "fp16")
# The CPU flags of Intel AMX with bf16 (Xeon since Sapphire Rapids): see :func:`cpu_default`.
AMX_BF16 = frozenset({"amx_tile", "amx_bf16"})


@dataclass(frozen=True)
class Precision:
    name: str  # one of CHOICES
    dtype: torch.dtype | None  # autocast dtype; None = plain fp32
    device_type: str
    channels_last: bool

    def autocast(self) -> contextlib.AbstractContextManager[Any]:
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device_type, dtype=self.dtype)

    def scaler(self) -> torch.amp.GradScaler | None:
        """fp16 gradients underflow without loss scaling; bf16 has fp32's range and needs none."""
        if self.dtype is torch.float16:
            return torch.amp.GradScaler(self.device_type)
        return None

    def prepare_model(self, model: nn.Module) -> nn.Module:
        return model.to(memory_format=torch.channels_last) if self.channels_last else model

    def prepare_input(self, x: torch.Tensor) -> torch.Tensor:
        if self.channels_last and x.dim() == 4:
            return x.contiguous(memory_format=torch.channels_last)
        return x


def cpu_default(flags: Collection[str]) -> str:
    """The precision a CPU with these feature flags trains in when none is requested: bf16 where
    the CPU multiplies bf16 tiles (Intel AMX), which oneDNN's convolutions use under autocast."""
    return "bf16" if AMX_BF16 <= set(flags) else "fp32"


def choose(device: torch.device, requested: str | None = None) -> Precision:
    """``requested``, else the fastest safe precision on ``device`` (see the module docstring)."""
    name = (requested or "").strip().lower()
    if name and name not in CHOICES:
        raise UsageError(f"precision is {requested!r}, but must be one of {', '.join(CHOICES)}")
    if not name:
        if device.type == "cuda":
            name = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
        else:
            name = cpu_default(cpu_flags())
    dtype = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}[name]
    return Precision(name, dtype, device.type, channels_last=True)
