"""Model building blocks: architectures and activations, each a registry keyed by name."""

from hpo.models.activations import activation_names, get_activation, make_activation, register_activation
from hpo.models.registry import architecture_names, build_model, register_architecture

__all__ = [
    "activation_names",
    "architecture_names",
    "build_model",
    "get_activation",
    "make_activation",
    "register_activation",
    "register_architecture",
]
