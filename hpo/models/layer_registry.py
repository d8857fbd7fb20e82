"""A registry of layer factories keyed by name: conv types, attention types, pooling types.

Each kind of layer that a model spec names (``{"conv": "depthwise_separable"}``) has one
:class:`LayerRegistry`. Like the activation registry, :meth:`LayerRegistry.get` passes a
callable through untouched, so code that builds models directly can hand in its own module,
and a space module registers its own layers by name so its trials can name them in JSON.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from hpo.errors import unknown_name

Factory = TypeVar("Factory", bound=Callable[..., object])


def _origin(factory: Callable[..., object]) -> tuple[str, str] | None:
    module, qualname = getattr(factory, "__module__", None), getattr(factory, "__qualname__", None)
    return (module, qualname) if module and qualname else None


class LayerRegistry(Generic[Factory]):
    """Name -> factory, with the kind of layer for error messages ("conv type", ...)."""

    def __init__(self, kind: str, entries: dict[str, Factory]) -> None:
        self.kind = kind
        self._entries = dict(entries)

    def register(self, name: str, factory: Factory) -> None:
        """Add ``factory`` as ``name``.

        Registering the same factory again (same module and qualified name) replaces it: a space
        file is executed again each time it is loaded, which makes a new class object for the
        same layer. Another factory under a taken name is refused.
        """
        taken = self._entries.get(name)
        if taken is not None and (_origin(taken) is None or _origin(taken) != _origin(factory)):
            raise ValueError(f"{self.kind} {name!r} is already registered (by {getattr(taken, '__qualname__', taken)!r})")
        self._entries[name] = factory

    def get(self, name: str | Factory) -> Factory:
        """The factory for ``name``; a callable is returned as it is.

        Raises:
            UsageError: ``name`` is not registered (the message lists the choices).
        """
        if callable(name):
            return name
        if name not in self._entries:
            raise unknown_name(self.kind, str(name), self._entries)
        return self._entries[name]

    def names(self) -> list[str]:
        return list(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)
