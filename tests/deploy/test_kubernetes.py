"""deploy/kubernetes/: every manifest is valid for Kubernetes, and the pieces fit together."""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
from pathlib import Path

import kubernetes_validate
import optuna
import pytest
import yaml
from optuna.trial import TrialState

from tests.conftest import missing
from tests.deploy import compose
from tests.worker.test_identity_namespaces import _unshare_available

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



# The pods as local processes: what each container runs, with the environment Kubernetes gives it.

_REFERENCE = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)")


def expand(value: str, env: dict[str, str]) -> str:
    """Kubernetes' ``$(NAME)`` references in env values, command and args: a variable defined
    before is substituted, an unknown one is left as it is, and ``$$`` is a literal ``$``."""
    def substitute(match: re.Match[str]) -> str:
        if match[0] == "$$":
            return "$"
        return env.get(match[1], match[0])

    return _REFERENCE.sub(substitute, value)


def _quantity(text: str) -> float:
    return float(text[:-1]) / 1000 if text.endswith("m") else float(text)


def container_environment(container: dict, docs: dict[tuple[str, str], dict]) -> dict[str, str]:
    """The variables Kubernetes sets in ``container``: its envFrom ConfigMaps, then its env list
    in order (values, Secret keys and resource limits, with references to earlier variables)."""
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        env.update(docs[("ConfigMap", source["configMapRef"]["name"])]["data"])
    for var in container.get("env", []):
        if "value" in var:
            env[var["name"]] = expand(var["value"], env)
            continue
        ref = var["valueFrom"]
        if "secretKeyRef" in ref:
            env[var["name"]] = docs[("Secret", ref["secretKeyRef"]["name"])]["stringData"][ref["secretKeyRef"]["key"]]
        elif "resourceFieldRef" in ref:
            kind, resource = ref["resourceFieldRef"]["resource"].split(".")
            amount = _quantity(str(container["resources"][kind][resource]))
            env[var["name"]] = str(math.ceil(amount / _quantity(ref["resourceFieldRef"].get("divisor", "1"))))
        elif ref.get("fieldRef", {}).get("fieldPath") == "metadata.name":
            env[var["name"]] = f"{container['name']}-pod-{len(env)}"  # a pod's name: unique per pod
        else:
            raise AssertionError(f"unhandled valueFrom in {var}")
    return env


def local_process(container: dict, docs: dict[tuple[str, str], dict], files: Path, storage: str,
                  study: dict[str, str] | None = None) -> tuple[list[str], dict[str, str]]:
    """The argv and environment of ``container`` run here: the database URL pointed at
    ``storage``, the volume's mount path at the folder ``files``, and the ConfigMap's study
    settings replaced by ``study``."""
    if study:
        docs = {**docs, ("ConfigMap", "hpo-study"): {"data": {**docs[("ConfigMap", "hpo-study")]["data"], **study}}}
    env = container_environment(container, docs)
    password = docs[("Secret", "hpo-db")]["stringData"]["POSTGRES_PASSWORD"]
    assert env["HPO_STORAGE"] == f"postgresql+psycopg2://hpo:{password}@postgres:5432/hpo"
    env["HPO_STORAGE"] = storage
    mount = next(m["mountPath"] for m in container["volumeMounts"] if m["name"] == "files")
    for key, value in env.items():
        if value == mount or value.startswith(mount + "/"):
            env[key] = str(files) + value[len(mount):]
    # The image's `hpo` is this environment's; containers inherit nothing else from the host.
    env.update(PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", HOME=str(files))
    argv = [expand(word, env) for word in [*container.get("command", compose.image_entrypoint()),
                                           *container.get("args", [])]]
    return argv, env


@pytest.mark.slow
def test_worker_pods_running_as_pid_1_sample_different_parameters(tmp_path: Path) -> None:
    """The worker Job's pods all run as PID 1 (each in a PID namespace of its own). With a
    sampler seed made from the PID they drew the same random trials; each pod's seed now comes
    from a random token. Two pods of the Job, each as PID 1, take one trial each of a random-
    sampler study and must sample different parameters."""
    if not _unshare_available():
        missing("needs `unshare --pid --fork --mount-proc` (util-linux, as root)")
    docs = documents()
    files = tmp_path / "files"
    files.mkdir()
    storage = f"sqlite:///{tmp_path / 'hpo.db'}"
    # The study Job's own command creates a tiny random-sampler study (no warm start: its first
    # trials would be fixed configurations, not random draws).
    study = {"HPO_SPACE": "sleep", "HPO_DATASET": "synthetic", "HPO_TRIALS": "2", "HPO_EPOCHS": "1",
             "HPO_STUDY_ARGS": "--sampler random --no-warm-start --seed 0"}
    argv, env = local_process(_pod(docs[("Job", "hpo-study-create")])["containers"][0], docs, files, storage, study)
    created = subprocess.run(argv, env=env, cwd=files, capture_output=True, text=True, timeout=300)
    assert created.returncode == 0, created.stderr
    name = env["HPO_STUDY"]

    # Two pods of the worker Job at once, each as PID 1. `--max-trials 1` makes each take one of
    # the two trials (otherwise whichever starts first may run both).
    argv, env = local_process(_pod(docs[("Job", "hpo-workers")])["containers"][0], docs, files, storage)
    assert argv[:2] == ["hpo", "worker"] and argv[2] == name, argv
    pods = [subprocess.Popen(["unshare", "--pid", "--fork", "--mount-proc", *argv, "--max-trials", "1"], env=env,
                             cwd=files, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            for _ in range(2)]
    for pod in pods:
        output = pod.communicate(timeout=300)[0]
        assert pod.returncode == 0, output

    trials = optuna.load_study(study_name=name, storage=storage).trials
    assert [t.state for t in trials] == [TrialState.COMPLETE] * 2
    names = [t.user_attrs["worker"] for t in trials]
    host = os.uname().nodename
    assert all(n.startswith(f"{host}:1/") for n in names), names  # same host name, both PID 1 ...
    assert names[0] != names[1]  # ... yet told apart
    assert trials[0].params != trials[1].params
