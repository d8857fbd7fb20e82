"""The search-space registry.

A space is found by name among the modules of the ``search_spaces`` package, the entry-point
group ``hpo.search_spaces`` (so other packages can add spaces), a Python file
(``--space path/to/space.py``) or an importable module (``--space package.module``). Each
module defines ``SPACE``, a :class:`~hpo.spaces.base.SearchSpace`.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import sys
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType

from hpo.errors import UsageError, unknown_name
from hpo.spaces.base import SearchSpace

ENTRY_POINT_GROUP = "hpo.search_spaces"


def _space_of(module: ModuleType, origin: str) -> SearchSpace:
    space = getattr(module, "SPACE", None)
    if not isinstance(space, SearchSpace):
        raise UsageError(f"{origin} defines no SPACE = SearchSpace(...); see README 'Writing a search space'")
    return space


def builtin_spaces() -> dict[str, SearchSpace]:
    import search_spaces

    found: dict[str, SearchSpace] = {}
    for info in pkgutil.iter_modules(search_spaces.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"search_spaces.{info.name}")
        space = _space_of(module, f"search_spaces/{info.name}.py")
        found[space.name] = space
    return found


def plugin_spaces() -> dict[str, SearchSpace]:
    found: dict[str, SearchSpace] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        loaded = ep.load()
        space = loaded if isinstance(loaded, SearchSpace) else _space_of(loaded, f"entry point {ep.name}")
        found[ep.name] = space
    return found


def all_spaces() -> dict[str, SearchSpace]:
    return {**plugin_spaces(), **builtin_spaces()}


def _load_file(path: Path) -> SearchSpace:
    if not path.is_file():
        raise UsageError(f"search space file {str(path)!r} does not exist")
    module_name = f"hpo_user_space_{abs(hash(str(path.resolve())))}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # a user's file: report any failure as one line
        raise UsageError(f"search space file {str(path)!r} failed to import: {type(exc).__name__}: {exc}") from None
    return _space_of(module, str(path))


def get_space(spec: str) -> SearchSpace:
    """Resolve ``spec``: a registered name, a ``.py`` path, or a dotted module name."""
    if spec.endswith(".py") or "/" in spec:
        return _load_file(Path(spec).expanduser())
    spaces = all_spaces()
    if spec in spaces:
        return spaces[spec]
    if "." in spec:
        try:
            module = importlib.import_module(spec)
        except ImportError as exc:
            raise UsageError(f"search space module {spec!r} cannot be imported: {exc}") from None
        return _space_of(module, spec)
    raise unknown_name("search space", spec, spaces)


def canonical_spec(spec: str) -> str:
    """What to store in the study: an absolute path for files, else the spec as given."""
    if spec.endswith(".py") or "/" in spec:
        return str(Path(spec).expanduser().resolve())
    return spec
