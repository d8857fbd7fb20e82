"""Search spaces: declared parameters -> a training run. See :mod:`hpo.spaces.base`."""

from hpo.spaces.base import Param, SearchSpace
from hpo.spaces.registry import all_spaces, canonical_spec, get_space

__all__ = ["Param", "SearchSpace", "all_spaces", "canonical_spec", "get_space"]
