"""Does AdaMax beat Adam on a ResNet-50? (report 002, as a grid that fits a 2-core CPU)

The ``resnet_optimizer`` space, narrowed to the comparison report 002 made: the ResNet-50 layout
of bottleneck blocks (the space's ``cpu_sized`` network at depth 50; torchvision's full-width
resnet50 takes about 23 s per 128-image step on this CPU, far past the docs budget), trained with
Adam and with AdaMax, each at two learning rates, so neither optimizer is judged at a rate that
only suits the other. All parameters are categorical: ``--sampler grid`` runs every cell once.
Used by scripts/run_docs_studies.sh; build() is the space's own.
"""

from __future__ import annotations

from optuna.distributions import CategoricalDistribution

from hpo.spaces import Param, SearchSpace
from search_spaces.resnet_optimizer import build

SPACE = SearchSpace(
    name="resnet_optimizer_cpu",
    description=__doc__ or "",
    params=(
        Param("network", CategoricalDistribution(["cpu_sized"])),
        Param("depth", CategoricalDistribution([50])),
        Param("optimizer", CategoricalDistribution(["adam", "adamax"])),
        Param("lr", CategoricalDistribution([1e-3, 3e-3])),
    ),
    build=build,
    default_epochs=2,
)
