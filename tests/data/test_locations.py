"""Where data sets go: HPO_DATA_DIR, else one per-user cache folder, never ./data of each working folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from hpo.data.locations import DEBIAN_FASHION_MNIST, data_dir_from_env, resolve_data_dir
from tests.conftest import missing
from tests.helpers import run_hpo


def test_a_configured_folder_wins() -> None:
    assert resolve_data_dir("/srv/hpo-data", cache_home="/var/cache/u", home="/home/u") == Path("/srv/hpo-data")
    assert resolve_data_dir("~/sets", home="/home/u") == Path("~/sets").expanduser()


def test_otherwise_the_users_cache() -> None:
    assert resolve_data_dir(None, cache_home="/var/cache/u", home="/home/u") == Path("/var/cache/u/hpo/data")
    assert resolve_data_dir("", cache_home=None, home="/home/u") == Path("/home/u/.cache/hpo/data")
    # The XDG spec ignores a relative XDG_CACHE_HOME.
    assert resolve_data_dir(None, cache_home="cache", home="/home/u") == Path("/home/u/.cache/hpo/data")


def test_from_the_environment() -> None:
    env = {"HPO_DATA_DIR": "/data", "XDG_CACHE_HOME": "/c", "HOME": "/h"}
    assert data_dir_from_env(env) == Path("/data")
    assert data_dir_from_env({"XDG_CACHE_HOME": "/c", "HOME": "/h"}) == Path("/c/hpo/data")
    assert data_dir_from_env({"HOME": "/h"}) == Path("/h/.cache/hpo/data")


@pytest.mark.slow
def test_a_worker_in_a_new_folder_uses_the_shared_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if not DEBIAN_FASHION_MNIST.is_dir():
        missing("Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)")
    monkeypatch.delenv("HPO_DATA_DIR")
    cache = tmp_path / "cache"
    work = tmp_path / "new-folder"
    work.mkdir()
    monkeypatch.chdir(work)
    env = {"XDG_CACHE_HOME": str(cache)}
    created = run_hpo("study", "create", "fm", "--space", "cnn", "--dataset", "fashion-mnist", "--trials", "1",
                      "--epochs", "1", "--pruner", "none", "--no-warm-start", "--train-subset", "1000",
                      "--val-subset", "200", env=env)
    assert created.returncode == 0, created.stderr
    worked = run_hpo("worker", "fm", env=env)
    assert worked.returncode == 0, worked.stderr
    assert not (work / "data").exists()
    raw = cache / "hpo" / "data" / "FashionMNIST" / "raw"
    assert sorted(p.name for p in raw.iterdir()) == [
        "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", "train-images-idx3-ubyte", "train-labels-idx1-ubyte"]
