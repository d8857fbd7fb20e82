"""`hpo study list | show | delete | recover` in process, against real storages."""

from __future__ import annotations

import json
from pathlib import Path

import optuna
from click.testing import CliRunner

from hpo.cli import main


def invoke(*args: str, storage: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env={"HPO_STORAGE": storage})
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    return result.exit_code, result.output


def test_list_show_recover_delete(storage_url: str) -> None:
    code, out = invoke("study", "list", storage=storage_url)
    assert code == 0 and "no studies yet" in out
    assert invoke("study", "create", "s1", "--space", "cnn", "--dataset", "synthetic", "--trials", "2",
                  "--epochs", "1", "--pruner", "none", storage=storage_url)[0] == 0
    assert invoke("worker", "s1", storage=storage_url)[0] == 0

    code, out = invoke("study", "list", "--json", storage=storage_url)
    rows = json.loads(out)
    assert code == 0 and rows[0]["study"] == "s1" and rows[0]["budget"] == 2 and 0 <= rows[0]["best"] <= 1

    # --watch returns by itself once the study is done.
    code, out = invoke("study", "show", "s1", "--watch", "0.1", storage=storage_url)
    assert code == 0 and "budget 2: 2 finished (2 complete" in out

    code, out = invoke("study", "recover", "s1", storage=storage_url)
    assert code == 0 and "no stale trials" in out

    assert invoke("study", "delete", "s1", "--yes", storage=storage_url) == (0, "deleted study 's1'\n")
    assert "no studies yet" in invoke("study", "list", storage=storage_url)[1]


def test_storage_password_is_masked_in_show(pg_url: str) -> None:
    # The test server trusts any password, so a URL with one still connects.
    from sqlalchemy.engine import make_url

    with_password = make_url(pg_url).set(password="s3cr3t").render_as_string(hide_password=False)
    assert invoke("study", "create", "m", "--space", "cnn", "--dataset", "synthetic", "--trials", "1", storage=with_password)[0] == 0
    code, out = invoke("study", "show", "m", storage=with_password)
    assert code == 0 and "***" in out and "s3cr3t" not in out


def test_a_final_run_grows_by_default_where_the_space_can_grow(tmp_path: Path) -> None:
    storage = f"sqlite:///{tmp_path / 'hpo.db'}"
    cases = {  # name: (options, whether its final run grows)
        "promote": (("--space", "auto", "--pruner", "promote"), True),  # the final phase by default
        "share-1": (("--space", "auto", "--pruner", "none", "--final-share", "1"), True),
        "no-grow": (("--space", "auto", "--pruner", "promote", "--no-grow"), False),
        "no-final-run": (("--space", "auto", "--pruner", "asha"), False),
        "no-size-knobs": (("--space", "cnn", "--pruner", "promote"), False),  # nothing declared to grow
    }
    for name, (options, grows) in cases.items():
        code, out = invoke("study", "create", name, "--dataset", "synthetic", "--time-budget", "1h", *options,
                           storage=storage)
        assert code == 0, out
        assert optuna.load_study(study_name=name, storage=storage).user_attrs["final_grow"] is grows, name


def test_a_time_budget_ends_with_a_final_run_by_default(tmp_path: Path) -> None:
    """No --pruner: a time budget, with --trials or without, gets the promotion scheduler and its
    final run, grown; a number of trials alone, two objectives or a grid keep ASHA (benchmark 6's
    arms a and f decided it)."""
    storage = f"sqlite:///{tmp_path / 'hpo.db'}"
    cases = {  # name: (options, (pruner, final share, grows))
        "budget": (("--time-budget", "1h"), ("promote", 0.5, True)),
        "both": (("--time-budget", "1h", "--trials", "20"), ("promote", 0.5, True)),
        "both-no-final-run": (("--time-budget", "1h", "--trials", "20", "--final-share", "0"), ("promote", 0.0, False)),
        "trials": (("--trials", "20"), ("asha", 0.0, False)),
        "two-objectives": (("--time-budget", "1h", "--objectives", "accuracy,params"), ("asha", 0.0, False)),
        "asha-asked": (("--time-budget", "1h", "--pruner", "asha"), ("asha", 0.0, False)),
        "grid": (("--time-budget", "1h", "--sampler", "grid", "--space", "activation_optimizer"), ("asha", 0.0, False)),
    }
    for name, (options, expected) in cases.items():
        space = () if "--space" in options else ("--space", "auto")
        code, out = invoke("study", "create", name, *space, "--dataset", "synthetic", *options, storage=storage)
        assert code == 0, out
        attrs = optuna.load_study(study_name=name, storage=storage).user_attrs
        assert (attrs["pruner"], attrs["final_share"], attrs["final_grow"]) == expected, name
