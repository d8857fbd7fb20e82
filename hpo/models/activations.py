"""The activation registry: name -> nn.Module factory.

``get_activation`` also passes a module class or factory through untouched, so users can hand
in their own activation (the timm ``create_act`` idea).
"""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from hpo.errors import unknown_name

ActivationFactory = Callable[[], nn.Module]

ACTIVATIONS: dict[str, ActivationFactory] = {
    "relu": nn.ReLU,
    "leaky_relu": lambda: nn.LeakyReLU(0.01),
    "elu": nn.ELU,
    "selu": nn.SELU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "mish": nn.Mish,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
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
