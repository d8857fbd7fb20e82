"""Weight initialisation schemes, by name."""

from __future__ import annotations

from torch import nn

from hpo.errors import unknown_name

INITS = ("xavier", "kaiming", "default")


def init_weights(model: nn.Module, scheme: str) -> None:
    """Initialise every Linear and Conv layer of ``model`` with ``scheme``."""
    if scheme not in INITS:
        raise unknown_name("init", scheme, INITS)
    if scheme == "default":
        return
    for module in model.modules():
        if isinstance(module, (nn.Linear, nn.Conv2d)):
            if scheme == "xavier":
                nn.init.xavier_uniform_(module.weight)
            else:
                nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
            if module.bias is not None:
                nn.init.zeros_(module.bias)
