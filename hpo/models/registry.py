"""The architecture registry and the plain, JSON-able model spec.

A model spec is ``{"arch": NAME, **kwargs}``. It is what trials record and checkpoints carry,
so :func:`build_model` can rebuild any trained model without the study.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from torch import nn

from hpo.errors import UsageError, unknown_name
from hpo.models.cnn import cnn
from hpo.models.mlp import mlp
from hpo.models.resnet import resnet
from hpo.models.small_resnet import small_resnet
from hpo.models.torchvision_models import torchvision_model

Builder = Callable[..., nn.Module]

# "resnet" is ours, sized for small images and CPUs; "torchvision" is torchvision's own models
# (its resnet50 is report 002's ResNet-50), untrained.
ARCHITECTURES: dict[str, Builder] = {"mlp": mlp, "cnn": cnn, "resnet": resnet, "torchvision": torchvision_model,
                                     "small_resnet": small_resnet}


def register_architecture(name: str, builder: Builder) -> None:
    if name in ARCHITECTURES:
        raise ValueError(f"architecture {name!r} is already registered")
    ARCHITECTURES[name] = builder


def architecture_names() -> list[str]:
    return list(ARCHITECTURES)


def build_model(spec: dict[str, Any], input_shape: Sequence[int], num_classes: int) -> nn.Module:
    """Build the model described by ``spec`` for images of ``input_shape`` (C, H, W)."""
    kwargs = dict(spec)
    arch = kwargs.pop("arch", None)
    if arch is None:
        raise UsageError(f"model spec {spec} has no 'arch' key")
    if arch not in ARCHITECTURES:
        raise unknown_name("architecture", arch, ARCHITECTURES)
    try:
        return ARCHITECTURES[arch](tuple(input_shape), num_classes, **kwargs)
    except TypeError as exc:
        raise UsageError(f"architecture {arch!r} does not accept {kwargs}: {exc}") from None
