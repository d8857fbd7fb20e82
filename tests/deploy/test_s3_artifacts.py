"""HPO_ARTIFACTS=s3://BUCKET: workers write checkpoints to an S3-compatible store and
`hpo export` reads them back, with no shared file system. The store is moto's S3 server,
reached over HTTP through AWS_ENDPOINT_URL exactly as MinIO or AWS would be."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hpo import artifacts
from hpo.errors import UsageError
from tests.conftest import free_port, missing
from tests.helpers import run_hpo

BUCKET = "hpo-checkpoints"


@pytest.fixture
def s3_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    try:
        import boto3
        from moto.server import ThreadedMotoServer
    except ImportError:
        missing("boto3 and moto[server] are not installed (pip install -e '.[dev]')")
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    env = {"AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}", "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
           "AWS_DEFAULT_REGION": "us-east-1", "HPO_ARTIFACTS": f"s3://{BUCKET}"}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    boto3.client("s3").create_bucket(Bucket=BUCKET)
    yield env
    server.stop()


@pytest.mark.slow
def test_checkpoints_go_to_s3_and_export_reads_them(s3_env: dict[str, str], tmp_path: Path) -> None:
    import boto3

    env = {**s3_env, "HPO_STORAGE": f"sqlite:///{tmp_path / 'hpo.db'}"}
    created = run_hpo("study", "create", "s3", "--space", "cnn", "--dataset", "synthetic", "--trials", "2",
                      "--epochs", "1", "--train-subset", "128", "--pruner", "none", env=env)
    assert created.returncode == 0, created.stderr
    worker = run_hpo("worker", "s3", env=env)
    assert worker.returncode == 0, worker.stderr[-2000:]
    assert not (tmp_path / "artifacts").exists()  # nothing fell back to a local folder

    keys = [o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket=BUCKET).get("Contents", [])]
    assert keys, "no checkpoint reached the bucket"

    exported = run_hpo("export", "s3", "--out", str(tmp_path / "best.pt"), env=env)
    assert exported.returncode == 0, exported.stderr
    assert (tmp_path / "best.pt").stat().st_size > 0


@pytest.mark.parametrize("location", ["s3://", "s3://bucket/prefix"])
def test_an_s3_location_must_name_just_a_bucket(location: str) -> None:
    with pytest.raises(UsageError, match="must be s3://BUCKET"):
        artifacts.open_store(location)
