"""deploy/kubernetes/: every manifest is valid for Kubernetes, and the pieces fit together."""

from __future__ import annotations

import kubernetes_validate
import pytest
import yaml

from tests.deploy import compose

FOLDER = compose.ROOT / "deploy" / "kubernetes"
KUBERNETES_VERSION = "1.30.0"


def documents() -> dict[tuple[str, str], dict]:
    """(kind, name) -> manifest, for every manifest the kustomization lists."""
    listed = yaml.safe_load((FOLDER / "kustomization.yaml").read_text())["resources"]
    assert sorted(listed) == sorted(p.name for p in FOLDER.glob("*.yaml") if p.name != "kustomization.yaml")
    docs = {}
    for name in listed:
        for doc in yaml.safe_load_all((FOLDER / name).read_text()):
            docs[(doc["kind"], doc["metadata"]["name"])] = doc
    return docs


@pytest.mark.parametrize("key", sorted(documents()), ids="/".join)
def test_manifest_is_valid_for_kubernetes(key: tuple[str, str]) -> None:
    kubernetes_validate.validate(documents()[key], KUBERNETES_VERSION, strict=True)


def _pod(doc: dict) -> dict:
    return doc["spec"]["template"]["spec"]


def test_the_secret_is_a_template() -> None:
    password = documents()[("Secret", "hpo-db")]["stringData"]["POSTGRES_PASSWORD"]
    assert password.startswith("REPLACE")


def test_workers_run_in_parallel_after_the_database_and_the_study() -> None:
    docs = documents()
    workers = docs[("Job", "hpo-workers")]
    assert workers["spec"]["parallelism"] >= 2 and "completions" not in workers["spec"]
    init = {c["name"]: " ".join(c["command"]) for c in _pod(workers)["initContainers"]}
    assert "pg_isready -h postgres" in init["wait-for-postgres"]
    assert "hpo study show" in init["wait-for-study"]
    container = _pod(workers)["containers"][0]
    assert container["args"][:2] == ["worker", "$(HPO_STUDY)"]
    study_job = _pod(docs[("Job", "hpo-study-create")])
    assert "--if-exists skip" in " ".join(study_job["containers"][0]["args"])
    assert "pg_isready" in " ".join(study_job["initContainers"][0]["command"])


def test_pods_get_the_password_from_the_secret_and_run_as_non_root() -> None:
    docs = documents()
    for key in [("Job", "hpo-workers"), ("Job", "hpo-study-create"), ("Deployment", "hpo-dashboard")]:
        pod = _pod(docs[key])
        assert pod["securityContext"]["runAsNonRoot"] is True, key
        env = {e["name"]: e for e in pod["containers"][0]["env"]}
        assert env["POSTGRES_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == "hpo-db", key
        assert "$(POSTGRES_PASSWORD)@postgres:5432" in env["HPO_STORAGE"]["value"], key
    postgres = _pod(docs[("StatefulSet", "postgres")])["containers"][0]
    assert "pg_isready" in postgres["readinessProbe"]["exec"]["command"]
    assert docs[("ConfigMap", "hpo-study")]["data"]["TZ"] == "UTC"


def test_the_dashboard_is_not_exposed_outside_the_cluster() -> None:
    assert documents()[("Service", "hpo-dashboard")]["spec"]["type"] == "ClusterIP"

