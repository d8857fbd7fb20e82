"""A multilayer perceptron over flattened images."""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from hpo.models.activations import activation_maker
from hpo.models.init import init_weights


def mlp(
    input_shape: Sequence[int],
    num_classes: int,
    *,
    hidden: Sequence[int] = (512,),
    activation: str = "relu",
    dropout: float = 0.0,
    init: str = "xavier",
) -> nn.Module:
    """Flatten -> [Linear -> activation -> dropout] per hidden size -> Linear.

    Args:
        hidden: the width of each hidden layer; report 000 used one layer of 512.
        activation: a name from the activation registry, or a module factory; learnable
            activations get one parameter per hidden unit.
        init: "xavier" (Glorot uniform, as report 000) or "kaiming".
    """
    act = activation_maker(activation)
    layers: list[nn.Module] = [nn.Flatten()]
    width = 1
    for dim in input_shape:
        width *= int(dim)
    for size in hidden:
        layers += [nn.Linear(width, int(size)), act(int(size))]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        width = int(size)
    layers.append(nn.Linear(width, num_classes))
    model = nn.Sequential(*layers)
    init_weights(model, init)
    return model
