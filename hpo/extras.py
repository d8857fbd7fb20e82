"""Optional pieces (pip extras), and the one-line error that names the extra to install.

Every command in the README works after its first command (scripts/demo.sh installs the
``onnx`` and ``report`` extras). Installed some other way, a command whose optional piece is
missing says which extra brings it, in one line, instead of a traceback.
"""

from __future__ import annotations

import importlib

from hpo.errors import HpoError

# extra -> the modules it provides (pyproject.toml's [project.optional-dependencies])
EXTRAS: dict[str, tuple[str, ...]] = {
    "onnx": ("onnx", "onnxruntime", "onnxscript"),
    "report": ("matplotlib", "plotly", "pandas"),
    "serve": ("gunicorn",),
    "s3": ("boto3",),
}


def require(extra: str, what: str, modules: tuple[str, ...] | None = None) -> None:
    """Raise one line naming ``extra`` when any of its ``modules`` cannot be imported.

    Args:
        extra: the pip extra, a key of :data:`EXTRAS`.
        what: what needs it, as the user typed it (``hpo report``, ``--plot``).
        modules: the ones ``what`` needs; default: all of the extra's.
    """
    for name in modules or EXTRAS[extra]:
        try:
            importlib.import_module(name)
        except ImportError:
            raise HpoError(f"{what} needs {name}, which is not installed; pip install 'hpo[{extra}]'") from None
