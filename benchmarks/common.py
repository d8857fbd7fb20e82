"""Shared by the benchmark scripts: interleaved repeats, medians, and the ratio lines they print.

The machine is shared, so absolute times are noise. Each benchmark runs its baseline and its
candidates in the same process, alternating them repeat by repeat, takes medians, and prints
RATIOS. A ratio line reads::

    RATIO throughput hpo/bare = 0.97 (goal >= 0.95: met)

and each script also writes its numbers as JSON (--json PATH) for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python benchmarks/NAME.py` from anywhere
    sys.path.insert(0, str(ROOT))

PG_URL = os.environ.get("HPO_BENCH_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--quick", action="store_true", help="a smoke run of a few seconds to a minute")
    p.add_argument("--json", type=Path, default=None, help="also write the results here")
    return p


def epoch_parser(description: str) -> argparse.ArgumentParser:
    """:func:`parser` for the benchmarks that time training epochs in-process, with their data
    directory set (a temporary one unless HPO_DATA_DIR names one)."""
    p = parser(description)
    p.add_argument("--device", default="auto")
    p.add_argument("--images", type=int, default=None, help="training images per epoch")
    p.add_argument("--repeats", type=int, default=None)
    os.environ.setdefault("HPO_DATA_DIR", str(Path(tempfile.gettempdir()) / "hpo-bench-data"))
    return p


@dataclass(frozen=True)
class EpochSetup:
    """What a benchmark of training epochs (:func:`epoch_setup`) times them with."""

    device: Any  # torch.device
    threads: int
    splits: Any  # hpo.data.Splits
    repeats: int
    recipe: Any  # hpo.training.TrainConfig: the auto space's warm start over 1 + repeats epochs


def epoch_setup(args: argparse.Namespace, repeats: int, val_subset: int) -> EpochSetup:
    """The device, threads (the worker's: HPO_NUM_THREADS, else every core), a Fashion-MNIST
    subset (``--images``) and the `auto` space's warm-start recipe over the epochs each state
    trains (a warm-up and ``--repeats``), for the benchmarks that time hpo's epoch function."""
    from hpo import data
    from hpo.devices import configure_threads, resolve_device
    from hpo.settings import Settings
    from search_spaces.auto import CPU, build, defaults

    settings = Settings.from_env()
    device = resolve_device(args.device)
    threads = configure_threads(settings.num_threads, settings.workers_per_host)
    repeats = args.repeats or (2 if args.quick else repeats)
    splits = data.make_splits(data.load("fashion-mnist"), val_fraction=0.1, seed=0, device=device,
                              train_subset=args.images or (1_024 if args.quick else 8_192), val_subset=val_subset)
    return EpochSetup(device, threads, splits, repeats, build(defaults(CPU), epochs=1 + repeats))


def interleaved(candidates: dict[str, Callable[[], float]], repeats: int) -> dict[str, float]:
    """Run each candidate ``repeats`` times in alternation; the median of what each returns.

    Alternating (a, b, a, b, ...) rather than (a, a, ..., b, b, ...) spreads the other users'
    load evenly over all candidates. The order is rotated every repeat so no candidate always
    runs first (warm caches, turbo boost).
    """
    names = list(candidates)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for r in range(repeats):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            samples[name].append(candidates[name]())
    return {name: statistics.median(values) for name, values in samples.items()}


def timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def ratio_line(name: str, value: float, goal: str | None = None) -> str:
    """``RATIO name = value (goal ...: met|missed)``; goal like ">= 0.95" or "<= 1.2"."""
    text = f"RATIO {name} = {value:.3f}"
    if goal:
        op, bound = goal.split()
        met = value >= float(bound) if op == ">=" else value <= float(bound)
        text += f" (goal {goal}: {'met' if met else 'missed'})"
    return text


def report(results: dict[str, Any], ratios: list[tuple[str, float, str | None]], json_path: Path | None) -> None:
    """Print the ratio lines (and the raw medians, for context) and optionally save JSON."""
    for key, value in results.items():
        print(f"  {key}: {value:.6g}" if isinstance(value, float) else f"  {key}: {value}")
    for name, value, goal in ratios:
        print(ratio_line(name, value, goal))
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        payload = {"results": results, "ratios": {n: v for n, v, _g in ratios}, "argv": sys.argv,
                   "git": git_state(json_path)}
        json_path.write_text(json.dumps(payload, indent=2, default=str))
    sys.stdout.flush()


def mcnemar(only_first: int, only_second: int) -> float:
    """Two-sided exact McNemar p-value: of the images exactly one of two models gets right,
    ``only_first`` went to the first and ``only_second`` to the second; under "equally
    accurate" each is a fair coin."""
    n = only_first + only_second
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(min(only_first, only_second) + 1)) / 2**n
    return min(1.0, 2 * tail)


def correct_string(correct: Any) -> str:
    """Which images a model got right, in the split's order, as one '0'/'1' character each: a
    JSON keeps it in 10 kB for 10,000 test images, and :func:`paired` compares two runs
    from it, whenever and wherever each was measured."""
    return "".join("1" if bool(c) else "0" for c in correct)


def paired(first: str, second: str) -> dict[str, Any]:
    """Two models' :func:`correct_string` on the same images, paired: the images only one of
    them got right, the difference in accuracy (second - first) and McNemar's p-value."""
    if len(first) != len(second):
        raise ValueError(f"the two runs scored {len(first)} and {len(second)} images: not the same images")
    only_first = sum(1 for a, b in zip(first, second) if a == "1" and b == "0")
    only_second = sum(1 for a, b in zip(first, second) if a == "0" and b == "1")
    return {"only_first": only_first, "only_second": only_second,
            "difference": (only_second - only_first) / len(first) if first else 0.0,
            "p_value": mcnemar(only_first, only_second)}


def git_state(*outputs: Path, root: Path = ROOT) -> dict[str, Any]:
    """The commit measured and whether the tree had changes besides the run's own ``outputs``
    (a JSON and its PNG, rewritten as it goes): a result is only as good as its code. Both are
    None outside a git checkout."""
    def git(*command: str) -> str | None:
        try:
            return subprocess.run(["git", *command], cwd=root, capture_output=True, text=True, check=True,
                                  timeout=30).stdout
        except (OSError, subprocess.SubprocessError):
            return None

    base = root.resolve()
    ours = {str(p.resolve().relative_to(base)) for path in outputs for p in (path, path.with_suffix(".png"))
            if p.resolve().is_relative_to(base)}
    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no")
    changed = None if status is None else [line[3:] for line in status.splitlines() if line[3:] not in ours]
    return {"commit": commit and commit.strip(), "dirty": None if changed is None else bool(changed)}


def environment() -> dict[str, Any]:
    """What ran it, beside the commit: results from different sessions differ by the machine
    under them (the final-size grid met one size at 42 s per epoch one day and 87 s the next)."""
    import torch

    return {
        "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "cpu": _cpu_model(),
    }


def _cpu_model(cpuinfo: str = "/proc/cpuinfo") -> str | None:
    """The first CPU's model name with its family and model numbers: on these cloud machines the
    name alone ("AMD EPYC") hides which generation ran the benchmark."""
    try:
        with open(cpuinfo) as info:
            first = info.read().split("\n\n", 1)[0]
    except OSError:  # not Linux, or no such file
        return None
    fields = dict(line.split(":", 1) for line in first.splitlines() if ":" in line)
    fields = {key.strip(): value.strip() for key, value in fields.items()}
    name = fields.get("model name")
    if name is None:
        return None
    numbers = ", ".join(f"{key} {fields[key]}" for key in ("cpu family", "model") if key in fields)
    return f"{name} ({numbers})" if numbers else name


def _pg_admin(base_url: str):  # noqa: ANN202
    import psycopg2
    from sqlalchemy.engine import make_url

    u = make_url(base_url)
    conn = psycopg2.connect(host=u.host, port=u.port or 5432, user=u.username, password=u.password,
                            dbname=u.database or "postgres", connect_timeout=5)
    conn.autocommit = True
    return conn


class TempDatabase:
    """``with TempDatabase(kind) as url:`` a fresh PostgreSQL database (or SQLite file), dropped after."""

    def __init__(self, kind: str = "postgresql", base_url: str = PG_URL) -> None:
        import uuid

        self.kind, self.base_url = kind, base_url
        self.name = f"hpo_bench_{uuid.uuid4().hex[:10]}"
        self._tmp: Any = None

    def __enter__(self) -> str:
        if self.kind == "sqlite":
            import tempfile

            self._tmp = tempfile.TemporaryDirectory(prefix="hpo-bench-")
            return f"sqlite:///{self._tmp.name}/{self.name}.db"
        from sqlalchemy.engine import make_url

        conn = _pg_admin(self.base_url)
        conn.cursor().execute(f'CREATE DATABASE "{self.name}"')
        conn.close()
        return make_url(self.base_url).set(database=self.name).render_as_string(hide_password=False)

    def __exit__(self, *exc: object) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()
            return
        conn = _pg_admin(self.base_url)
        conn.cursor().execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        conn.close()
