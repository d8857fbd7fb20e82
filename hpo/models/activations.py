"""The activation registry: name -> nn.Module factory.

A factory is a module class (or any callable returning a module). If it takes a
``num_channels`` argument, :func:`make_activation` passes the width of the layer before it,
so learnable activations get one parameter per channel (see :mod:`hpo.models.learnable`);
otherwise it is called with no arguments. ``get_activation`` also passes a callable through
untouched, so users can hand in their own activation (the timm ``create_act`` idea).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable

from torch import nn

from hpo.errors import unknown_name
from hpo.models.learnable import AdaptiveGELUMish, DynamicSwish, PAReLU

ActivationFactory = Callable[..., nn.Module]

ACTIVATIONS: dict[str, ActivationFactory] = {
    "relu": nn.ReLU,
    "leaky_relu": functools.partial(nn.LeakyReLU, 0.01),
    "elu": nn.ELU,
    "selu": nn.SELU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "mish": nn.Mish,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    # Learnable (report 000).
    "parelu": PAReLU,
    "dynamic_swish": DynamicSwish,
    "adaptive_gelu_mish": AdaptiveGELUMish,
}
# Aliases map to the canonical name; they are accepted but not listed as separate choices.
ALIASES: dict[str, str] = {"swish": "silu"}


def register_activation(name: str, factory: ActivationFactory) -> None:
    if name in ACTIVATIONS or name in ALIASES:
        raise ValueError(f"activation {name!r} is already registered")
    ACTIVATIONS[name] = factory


def activation_names() -> list[str]:
    return list(ACTIVATIONS)


def get_activation(name: str | ActivationFactory) -> ActivationFactory:
    """The factory for ``name``; a callable is returned as it is."""
    if callable(name):
        return name
    key = ALIASES.get(name, name)
    if key not in ACTIVATIONS:
        raise unknown_name("activation", name, [*ACTIVATIONS, *ALIASES])
    return ACTIVATIONS[key]


def _takes_num_channels(factory: ActivationFactory) -> bool:
    try:
        return "num_channels" in inspect.signature(factory).parameters
    except (TypeError, ValueError):  # builtins without a signature take no channel count
        return False


def make_activation(name: str | ActivationFactory, num_channels: int = 1) -> nn.Module:
    """A new activation module for a layer with ``num_channels`` output channels (or features)."""
    factory = get_activation(name)
    if _takes_num_channels(factory):
        return factory(num_channels=num_channels)
    return factory()


def activation_maker(name: str | ActivationFactory) -> Callable[[int], nn.Module]:
    """``num_channels -> module`` for ``name``, validated now so builders fail before building."""
    get_activation(name)
    return functools.partial(make_activation, name)
