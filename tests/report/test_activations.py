"""Activation plots: every registered activation, and learned parameters from a real trained study."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest

from hpo.report.activations import learnable_names, main
from tests.report.studies import make_study
from tests.report.test_report import assert_png


def test_learnable_activations_are_found_in_the_registry() -> None:
    assert {"parelu", "dynamic_swish", "adaptive_gelu_mish"} <= set(learnable_names())
    assert "relu" not in learnable_names()


@pytest.mark.slow
def test_plots_of_registered_and_learned_activations(capsys) -> None:  # noqa: ANN001
    make_study("acts", "--pruner", "none", space="activation_optimizer", trials=3)
    main(["docs", "--study", "acts", "--storage", "sqlite:///hpo.db"])
    assert_png(Path("docs/activations.png"))

    study = optuna.load_study(study_name="acts", storage="sqlite:///hpo.db")
    used = {t.params["activation"] for t in study.trials if t.state.name == "COMPLETE"}
    learned = Path("docs/activations_learned.png")
    if used & set(learnable_names()):
        assert_png(learned)
    else:
        assert not learned.exists()
        assert "not written" in capsys.readouterr().out
