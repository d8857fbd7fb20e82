"""Where data sets live on disk: one shared cache folder per user, not one per working folder.

The folder is ``HPO_DATA_DIR`` when set, else the user's cache directory:
``$XDG_CACHE_HOME/hpo/data``, or ``~/.cache/hpo/data``. So workers started in any folder share
one unpacked copy of each data set. :func:`resolve_data_dir` is pure: the settings layer
passes the ``HPO_DATA_DIR`` value in; :func:`data_dir_from_env` takes it from
:class:`hpo.settings.Settings` (the one reader of ``HPO_*`` variables), for callers that have
no settings object yet.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from hpo.settings import Settings

# Debian's dataset-fashion-mnist package installs the IDX .gz files here.
DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")


def resolve_data_dir(configured: str | os.PathLike[str] | None, cache_home: str | None = None,
                     home: str | os.PathLike[str] | None = None) -> Path:
    """The data folder: ``configured`` (HPO_DATA_DIR's value) if given, else the user's cache.

    ``cache_home`` is ``XDG_CACHE_HOME``'s value; the XDG spec ignores a relative one. ``home``
    defaults to the user's home directory.

    >>> resolve_data_dir("/srv/data")
    PosixPath('/srv/data')
    >>> resolve_data_dir(None, cache_home="/var/cache/alice")
    PosixPath('/var/cache/alice/hpo/data')
    >>> resolve_data_dir(None, cache_home="relative", home="/home/alice")
    PosixPath('/home/alice/.cache/hpo/data')
    """
    if configured is not None and str(configured).strip():
        return Path(str(configured).strip()).expanduser()
    if cache_home and Path(cache_home).is_absolute():
        cache = Path(cache_home)
    else:
        cache = (Path(home) if home is not None else Path.home()) / ".cache"
    return cache / "hpo" / "data"


def data_dir_from_env(environ: Mapping[str, str] | None = None) -> Path:
    """:func:`resolve_data_dir` from ``HPO_DATA_DIR`` (via Settings) and ``XDG_CACHE_HOME`` in ``environ``."""
    env = os.environ if environ is None else environ
    return resolve_data_dir(Settings.from_env(env).data_dir, env.get("XDG_CACHE_HOME"), env.get("HOME") or None)


def writable_data_dir() -> Path:
    """The data folder the environment names; kept for callers written before :func:`data_dir_from_env`."""
    return data_dir_from_env()
