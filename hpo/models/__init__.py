"""Model building blocks: architectures, activations and layer types, each a registry keyed by name."""

from hpo.models.activations import (
    activation_names,
    get_activation,
    make_activation,
    register_activation,
)
from hpo.models.attention import attention_names, get_attention, register_attention
from hpo.models.convs import conv_names, get_conv, register_conv
from hpo.models.pooling import get_pooling, pooling_names, register_pooling
from hpo.models.registry import architecture_names, build_model, register_architecture
from hpo.models.resnet import ResidualBlock, register_block

__all__ = [
    "ResidualBlock",
    "activation_names",
    "architecture_names",
    "attention_names",
    "build_model",
    "conv_names",
    "get_activation",
    "get_attention",
    "get_conv",
    "get_pooling",
    "make_activation",
    "pooling_names",
    "register_activation",
    "register_architecture",
    "register_attention",
    "register_block",
    "register_conv",
    "register_pooling",
]
