"""Checking an ONNX graph against the PyTorch model it came from, on real images."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch

from hpo.errors import HpoError

# The bar an exported graph must clear on the whole test split.
MAX_ABS_DIFF = 1e-4  # largest absolute difference between any two logits
MIN_ARGMAX_AGREEMENT = 0.999  # share of images whose predicted class is the same


@dataclass(frozen=True)
class Parity:
    dataset: str
    split: str
    n: int
    max_abs_diff: float
    argmax_agreement: float

    @property
    def ok(self) -> bool:
        return self.max_abs_diff <= MAX_ABS_DIFF and self.argmax_agreement >= MIN_ARGMAX_AGREEMENT

    def to_dict(self) -> dict[str, object]:
        return {**asdict(self), "max_abs_diff_limit": MAX_ABS_DIFF, "argmax_agreement_limit": MIN_ARGMAX_AGREEMENT}

    def describe(self) -> str:
        return (f"max |logit difference| {self.max_abs_diff:.3g} (limit {MAX_ABS_DIFF:g}), argmax agreement "
                f"{self.argmax_agreement:.4%} (limit {MIN_ARGMAX_AGREEMENT:.1%}) on {self.n} {self.dataset} {self.split} images")


def measure_parity(reference: torch.Tensor, candidate: torch.Tensor, dataset: str, split: str) -> Parity:
    """Compare two (N, classes) logit tensors for the same N images."""
    if reference.shape != candidate.shape:
        raise HpoError(f"ONNX logits have shape {tuple(candidate.shape)}, PyTorch's {tuple(reference.shape)}; the export is broken")
    reference, candidate = reference.float().cpu(), candidate.float().cpu()
    diff = float((reference - candidate).abs().max()) if reference.numel() else 0.0
    agree = float((reference.argmax(1) == candidate.argmax(1)).float().mean()) if len(reference) else 1.0
    return Parity(dataset, split, len(reference), diff, agree)


def require_parity(parity: Parity, what: str) -> None:
    """Raise a one-line error unless ``parity`` clears the bar."""
    if not parity.ok:
        raise HpoError(f"{what} does not match the PyTorch model: {parity.describe()}; "
                       "nothing was written; report the model spec, or export without --onnx")
