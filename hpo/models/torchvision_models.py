"""torchvision's own classification models, untrained (report 002's ResNet-50).

``{"arch": "torchvision", "name": "resnet50"}`` is ``torchvision.models.resnet50`` exactly as
torchvision builds it (about 23.5M parameters before the classifier), with ``weights=None``:
nothing here is pretrained, every trial trains from scratch. Only the input is adapted: a data
set with other than 3 channels gets a first conv with that many input channels, and the
classifier has ``num_classes`` outputs. torchvision's ImageNet stem downsamples 32x, so small
images end at a 1x1 map; that is the real network, not one resized for small images.

``activation`` (default: torchvision's own) swaps every ``nn.ReLU`` for an activation from the
registry, so activation studies can use these networks too. torchvision reuses one ReLU module
at several widths (a ResNet block's three convs share ``self.relu``), so a learnable
activation gets one shared set of parameters per replaced module, not one per channel.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from torch import nn

from hpo.errors import unknown_name
from hpo.models.activations import activation_maker


def classification_models() -> list[str]:
    """torchvision's classification model names (not its detection or video models)."""
    import torchvision.models

    return list(torchvision.models.list_models(module=torchvision.models))


def _first_conv(model: nn.Module) -> tuple[nn.Module, str, nn.Conv2d] | None:
    """(parent, attribute, conv) of the first Conv2d in ``model``'s registration order."""
    for parent in model.modules():
        for attr, child in parent.named_children():
            if isinstance(child, nn.Conv2d):
                return parent, attr, child
    return None


def _adapt_input_channels(model: nn.Module, channels: int) -> None:
    found = _first_conv(model)
    if found is None or found[2].in_channels == channels:
        return
    parent, attr, old = found
    # Same geometry, other input width; freshly initialised like the rest of the untrained model.
    # (torchvision's stems are all ungrouped convs, so groups stays 1.)
    # (Conv2d stores its geometry as tuples typed tuple[int, ...]; they are the pairs it was given.)
    geometry: dict[str, Any] = {"stride": old.stride, "padding": old.padding, "dilation": old.dilation}
    new = nn.Conv2d(channels, old.out_channels, cast(tuple[int, int], old.kernel_size), bias=old.bias is not None,
                    padding_mode=old.padding_mode, **geometry)
    setattr(parent, attr, new)


def _replace_relus(model: nn.Module, activation: str) -> None:
    make = activation_maker(activation)
    for parent in list(model.modules()):
        for attr, child in list(parent.named_children()):
            if isinstance(child, nn.ReLU):
                setattr(parent, attr, make(1))


def torchvision_model(input_shape: Sequence[int], num_classes: int, *, name: str = "resnet50",
                      activation: str | None = None) -> nn.Module:
    """The torchvision classification model ``name``, untrained, for ``input_shape`` (C, H, W).

    Args:
        name: a torchvision classification model, e.g. "resnet50", "resnet18", "mobilenet_v3_small".
        activation: None for torchvision's own, or a name from the activation registry to
            replace every ReLU with.
    """
    import torchvision.models

    choices = classification_models()
    if name not in choices:
        raise unknown_name("torchvision model", name, choices)
    if activation is not None:
        activation_maker(activation)  # a bad name fails before the model is built
    model = torchvision.models.get_model(name, weights=None, num_classes=num_classes)
    _adapt_input_channels(model, int(input_shape[0]))
    if activation is not None:
        _replace_relus(model, activation)
    return model
