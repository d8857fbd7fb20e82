"""Data sets: a registry of loaders, decoded once into memory, split for the search."""

from hpo.data.base import ImageData
from hpo.data.registry import dataset_names, load, validate_name
from hpo.data.splits import Normalization, Split, Splits, make_splits, test_split

__all__ = [
    "ImageData",
    "Normalization",
    "Split",
    "Splits",
    "dataset_names",
    "load",
    "make_splits",
    "test_split",
    "validate_name",
]
