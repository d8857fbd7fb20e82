"""Numeric precision and memory layout of a training run: fast on CUDA and on CPUs with bf16 hardware, exact elsewhere.

On CUDA, matmuls and convolutions run in bf16 under autocast (fp16 with a GradScaler on GPUs
without bf16). On a CPU that computes bf16 in hardware they run in bf16 too, through oneDNN:
Intel AMX (Xeon since Sapphire Rapids: flags ``amx_tile`` and ``amx_bf16``) multiplies bf16
tiles, and AVX-512 BF16 (``avx512_bf16``: AMD Zen 4 and later, Intel Cooper Lake) bf16 dot
products. An epoch of the ``auto`` space's warm start took 0.51 of fp32's time at width 48
and 0.53 at 64 on an AMX Xeon, and 0.55-0.60 at 48 and 0.59 at 64 on a Zen 4 EPYC, with the
same validation accuracy (after 9 epochs over all 54,000 images on the Zen 4: 92.98 % fp32,
92.97 % bf16) (benchmark 9, benchmarks/cpu_precision.py, 2026-12-06). Other CPUs stay in fp32:
without those instructions oneDNN emulates bf16, and on the same Zen 4 with oneDNN held to AVX2
(``ONEDNN_MAX_CPU_ISA=AVX2``) a bf16 epoch took 9.5 times fp32's. torchvision's zoo models stay
in fp32 on a CPU (CPU_FP32_ARCHS): benchmark 9 did not measure them, and resnet50 diverged under
bf16 on an AMX Xeon. A run's
``TrainConfig.precision`` (fp32 | bf16 | fp16; the worker's from HPO_PRECISION, read by
hpo.settings) overrides the choice, which is how tests run the CUDA code paths on CPU.

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
# The CPU flags of bf16 arithmetic in hardware, either of which oneDNN's convolutions use under
# autocast: Intel AMX's bf16 tiles (Xeon since Sapphire Rapids), or AVX-512 BF16's dot products
# (AMD Zen 4 and later, Intel Cooper Lake). See :func:`cpu_default`.
AMX_BF16 = frozenset({"amx_tile", "amx_bf16"})
AVX512_BF16 = "avx512_bf16"
# Model archs that stay in fp32 on a CPU unless bf16 is requested. Benchmark 9 measured bf16 on
# hpo's own networks only; torchvision's zoo models (resnet50 in the resnet_optimizer space) went
# to a nan loss in their first epoch under bf16 on an AMX Xeon (oneDNN's AMX kernels: with
# ONEDNN_MAX_CPU_ISA=AVX512_CORE_BF16 the same trials trained, as they did in fp32), 2026-12-07.
CPU_FP32_ARCHS = frozenset({"torchvision"})


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


def cpu_default(flags: Collection[str], arch: str | None = None) -> str:
    """The precision a CPU with these feature flags trains a model of ``arch`` in when none is
    requested: bf16 where it computes bf16 in hardware (AMX tiles or AVX-512 BF16), which
    oneDNN's convolutions use under autocast, except for the archs of CPU_FP32_ARCHS; fp32
    elsewhere."""
    present = set(flags)
    if arch in CPU_FP32_ARCHS:
        return "fp32"
    return "bf16" if AMX_BF16 <= present or AVX512_BF16 in present else "fp32"


def choose(device: torch.device, requested: str | None = None, arch: str | None = None) -> Precision:
    """``requested``, else the fastest safe precision on ``device`` for a model of ``arch`` (see
    the module docstring)."""
    name = (requested or "").strip().lower()
    if name and name not in CHOICES:
        raise UsageError(f"precision is {requested!r}, but must be one of {', '.join(CHOICES)}")
    if not name:
        if device.type == "cuda":
            name = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
        else:
            name = cpu_default(cpu_flags(), arch)
    dtype = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}[name]
    return Precision(name, dtype, device.type, channels_last=True)
