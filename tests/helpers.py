"""Importable test helpers (the fixtures live in conftest.py)."""

from tests.conftest import PgCluster, free_port, hpo_cmd, run_hpo, start_hpo, wait_all

__all__ = ["PgCluster", "free_port", "hpo_cmd", "run_hpo", "start_hpo", "wait_all"]
