"""Reading docker-compose.yml the way Compose does, so its services can run as local processes.

There is no Docker engine on the development and CI machines. Instead, a service's entry point,
command and environment are taken from the compose file (with Compose's ``${VAR:-default}``
interpolation), its service host names are mapped to 127.0.0.1 and its volumes to folders.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"

# $$, $NAME, ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error}, ${NAME:+alt}
_VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)|(?P<plain>[A-Za-z_][A-Za-z0-9_]*)|"
    r"\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\})"
)


class MissingVariable(Exception):
    """A ``${NAME:?message}`` whose variable is unset: Compose refuses the file."""


def interpolate(value: Any, env: Mapping[str, str]) -> Any:
    """Substitute variables in every string of ``value`` as Compose does."""
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        name = match["plain"] or match["name"]
        op, arg, current = match["op"], match["arg"] or "", env.get(name)
        is_set = current is not None and (current != "" or not (op or "").startswith(":"))
        if op in (":-", "-"):
            return current if is_set else arg  # type: ignore[return-value]
        if op in (":?", "?"):
            if not is_set:
                raise MissingVariable(f"{name}: {arg}")
            return current  # type: ignore[return-value]
        if op in (":+", "+"):
            return arg if is_set else ""
        return current or ""

    return _VARIABLE.sub(substitute, value)


def load(env: Mapping[str, str], path: Path = COMPOSE_FILE) -> dict[str, Any]:
    """The compose file with YAML anchors merged and variables substituted from ``env``."""
    raw = yaml.safe_load(path.read_text())
    return interpolate({k: v for k, v in raw.items() if not k.startswith("x-")}, env)


def image_entrypoint() -> list[str]:
    """The ENTRYPOINT of the Dockerfile, which services without their own entrypoint use."""
    for line in DOCKERFILE.read_text().splitlines():
        if line.startswith("ENTRYPOINT "):
            return json.loads(line.removeprefix("ENTRYPOINT "))
    raise AssertionError("the Dockerfile has no ENTRYPOINT")


def argv(service: dict[str, Any]) -> list[str]:
    """The process a service's container runs: entry point followed by command."""
    entrypoint = service.get("entrypoint", image_entrypoint())
    command = service.get("command", [])
    return [*entrypoint, *(command if isinstance(command, list) else command.split())]


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: "" if v is None else str(v) for k, v in env.items()}


def volume_mounts(service: dict[str, Any]) -> dict[str, str]:
    """Container path -> volume name, for the service's named volumes."""
    mounts = {}
    for entry in service.get("volumes", []):
        source, target = entry.split(":")[:2]
        mounts[target] = source
    return mounts
