"""The plain description of one training run: what a search space turns a trial into."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class TrainConfig:
    model: dict[str, Any]  # {"arch": NAME, **builder kwargs}; see hpo.models.build_model
    optimizer: str = "adam"  # a name or a "+"-joined combination; see hpo.optim
    lr: float | None = 1e-3  # None: each optimizer's own default rate (see hpo.optim)
    weight_decay: float = 0.0
    batch_size: int = 128
    epochs: int = 3
    schedule: str = "none"  # see hpo.training.schedules
    label_smoothing: float = 0.0
    augment: str = "none"  # see hpo.training.augment
    seed: int = 0
    # fp32 | bf16 | fp16 (hpo.training.precision); None: by device. The worker sets it from
    # HPO_PRECISION (hpo.settings), and the trial's train_config keeps it, so a retrain matches.
    precision: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    def replace(self, **changes: Any) -> TrainConfig:
        return dataclasses.replace(self, **changes)
