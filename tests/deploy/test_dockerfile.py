"""The Dockerfile, checked without a Docker engine: its layer order, user, entry point, and
the dependency list its cached layer installs from pyproject.toml."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

from tests.deploy import compose


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with line continuations joined and comments dropped."""
    logical, current = [], ""
    for line in compose.DOCKERFILE.read_text().splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        current += line[:-1] if line.endswith("\\") else line
        if not line.endswith("\\"):
            logical.append(current)
            current = ""
    return [(text.split(None, 1)[0].upper(), text.split(None, 1)[1]) for text in logical]


def test_dependencies_are_installed_before_the_source_is_copied() -> None:
    steps = instructions()
    copies = [args for kind, args in steps if kind == "COPY"]
    assert copies[0] == "pyproject.toml ./"
    first_source = next(i for i, (kind, args) in enumerate(steps) if kind == "COPY" and args.startswith("hpo "))
    assert any(kind == "RUN" and "torch==" in args for kind, args in steps[:first_source])
    assert any(kind == "RUN" and "requirements.txt" in args for kind, args in steps[:first_source])
    assert all("pip install" not in args or "--no-deps" in args for kind, args in steps[first_source:] if kind == "RUN")


def build_args() -> dict[str, str]:
    """The Dockerfile's ARGs and their defaults."""
    args = {}
    for kind, text in instructions():
        if kind == "ARG":
            name, _, default = text.partition("=")
            args[name] = shlex.split(default)[0] if default else ""
    return args


def test_the_dependency_layer_installs_what_pyproject_lists(tmp_path: Path) -> None:
    run = next(args for kind, args in instructions() if kind == "RUN" and "tomllib" in args)
    python_command = shlex.split(run.split(">", 1)[0])
    assert python_command[:2] == ["python", "-c"]
    # The build args the command names, as the shell expands them ($EXTRAS unquoted: split).
    argv = [word for arg in python_command[3:] for word in
            (build_args()[arg[1:]].split() if arg.startswith("$") else [arg])]
    pyproject = (compose.ROOT / "pyproject.toml").read_bytes()
    (tmp_path / "pyproject.toml").write_bytes(pyproject)
    listed = subprocess.run([sys.executable, "-c", python_command[2], *argv], cwd=tmp_path, capture_output=True,
                            text=True, check=True).stdout.split()
    project = tomllib.loads(pyproject.decode())["project"]
    assert set(project["dependencies"]) <= set(listed)
    assert any(name.startswith("gunicorn") for name in listed)  # the dashboard's WSGI server
    # The documented commands run in the image: `hpo export --onnx`, `hpo report`, s3:// artifacts.
    for extra in ("onnx", "report", "s3", "serve"):
        assert set(project["optional-dependencies"][extra]) <= set(listed), extra


def test_runs_hpo_as_a_non_root_user_in_utc() -> None:
    steps = instructions()
    users = [args for kind, args in steps if kind == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert json.loads(dict(steps)["ENTRYPOINT"]) == ["hpo"]
    assert any(kind == "ENV" and "TZ=UTC" in args for kind, args in steps)


def test_build_context_leaves_out_secrets_and_local_state() -> None:
    ignored = (compose.ROOT / ".dockerignore").read_text().split()
    assert {".env", ".git", "artifacts", "data", "*.db"} <= set(ignored)


def test_the_image_gets_every_package_pyproject_installs() -> None:
    copied = {args.split()[0] for kind, args in instructions() if kind == "COPY"}
    patterns = tomllib.loads((compose.ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = {p.name for p in compose.ROOT.iterdir() if (p / "__init__.py").exists()
                and any(Path(p.name).match(pattern) for pattern in patterns)}
    assert packages and packages <= copied


def _torch_layer(variant: str | None, tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], list[list[str]]]:
    """Run the torch layer's RUN command in a shell with the build args as Docker sets them
    (the defaults, or TORCH_VARIANT=variant) and `pip`/`python` replaced by stubs that record
    their arguments; returns the shell's result and the recorded calls."""
    run = next(args for kind, args in instructions() if kind == "RUN" and "torch==" in args)
    stubs = tmp_path / "bin"
    stubs.mkdir(exist_ok=True)
    for name in ("pip", "python"):
        (stubs / name).write_text(f'#!/bin/sh\nprintf "%s\\0" {name} "$@" >> "{tmp_path}/calls"; printf "\\n" >> "{tmp_path}/calls"\n')
        (stubs / name).chmod(0o755)
    (tmp_path / "calls").write_text("")
    env = {**build_args(), "PATH": f"{stubs}:/usr/bin:/bin"}
    if variant is not None:
        env["TORCH_VARIANT"] = variant
    result = subprocess.run(["sh", "-c", run], env=env, capture_output=True, text=True)
    calls = [line.rstrip("\0").split("\0") for line in (tmp_path / "calls").read_text().splitlines() if line]
    return result, calls


def test_the_default_image_installs_torch_from_pypi_the_cuda_build(tmp_path: Path) -> None:
    assert build_args()["TORCH_VARIANT"] == "cuda"
    result, calls = _torch_layer(None, tmp_path)
    assert result.returncode == 0, result.stderr
    args = build_args()
    assert calls == [["pip", "install", f"torch=={args['TORCH_VERSION']}", f"torchvision=={args['TORCHVISION_VERSION']}"]]


def test_the_cpu_variant_installs_the_cpu_builds_from_pytorchs_index_and_checks_them(tmp_path: Path) -> None:
    result, calls = _torch_layer("cpu", tmp_path)
    assert result.returncode == 0, result.stderr
    args = build_args()
    assert args["TORCH_CPU_INDEX"] == "https://download.pytorch.org/whl/cpu"
    pip, check = calls
    # Pinned with the local version label: an index that has only the CUDA build fails the build.
    assert pip == ["pip", "install", "--extra-index-url", args["TORCH_CPU_INDEX"],
                   f"torch=={args['TORCH_VERSION']}+cpu", f"torchvision=={args['TORCHVISION_VERSION']}+cpu"]
    assert check[:2] == ["python", "-c"] and "torch.version.cuda is None" in check[2]


def test_an_unknown_torch_variant_fails_the_build(tmp_path: Path) -> None:
    result, calls = _torch_layer("rocm", tmp_path)
    assert result.returncode != 0 and calls == []
    assert "TORCH_VARIANT must be cuda or cpu" in result.stderr
