"""The report's reading says how the study was set up: what bounded the search and what its final run trained on."""

from __future__ import annotations

from hpo.config import StudyConfig
from hpo.report.data import ReportData
from hpo.report.reading import reading


def _reading(config: StudyConfig) -> str:
    data = ReportData(study="s", study_id=1, config=config.to_user_attrs(), objectives=["accuracy"],
                      directions=["maximize"], metric="accuracy", counts={}, wall_time_s=None, trial_time_s=0.0,
                      trials=[])
    return reading(data)


def _first_paragraph(config: StudyConfig) -> str:
    return _reading(config).split("\n\n")[0]


def test_a_trial_budget_study_names_its_trials_and_images() -> None:
    text = _first_paragraph(StudyConfig(space="auto", dataset="fashion-mnist", budget=12, epochs=3, train_subset=4000))
    assert "12 trials of at most 3 epochs on 4000 training images" in text
    assert "final run" not in text


def test_a_time_budget_study_names_its_time_and_its_final_runs_images() -> None:
    config = StudyConfig(space="auto", dataset="fashion-mnist", budget=None, epochs=27, train_subset=13500,
                         time_budget_s=3600.0, final_share=0.75, final_grow=True)
    text = _first_paragraph(config)
    assert "trials for 60m00s of at most 27 epochs on 13500 training images" in text
    assert "None trials" not in text
    # The search trained on a quarter of the images; the final run on all of them.
    assert ("In the last 75% of the time budget the best configuration, grown along the space's size knobs, "
            "trains as the final run on the full training split.") in text


def test_both_budgets_and_a_final_run_on_a_subset() -> None:
    config = StudyConfig(space="auto", dataset="fashion-mnist", budget=40, epochs=9, time_budget_s=600.0,
                         final_share=0.5, final_train_subset=20000)
    text = _first_paragraph(config)
    assert "up to 40 trials within 10m00s of at most 9 epochs on the full training split" in text
    assert ("In the last 50% of the time budget (or once the 40 trials have ended, if sooner) the best "
            "configuration trains as the final run on 20000 training images") in text


def test_a_final_run_that_starts_when_the_search_stalls_says_so() -> None:
    config = StudyConfig(space="auto", dataset="fashion-mnist", budget=None, epochs=9, time_budget_s=3600.0,
                         final_share=0.5, final_patience=0.15)
    assert ("In the last 50% of the time budget (or once no trial has led the best by more than the noise for 15% "
            "of it, if sooner) the best configuration trains") in _first_paragraph(config)
    both = StudyConfig(space="auto", dataset="fashion-mnist", budget=40, epochs=9, time_budget_s=600.0,
                       final_share=0.5, final_patience=0.2)
    assert ("(or once the 40 trials have ended, or once no trial has led the best by more than the noise for 20% "
            "of it, if sooner)") in _first_paragraph(both)


def test_the_short_runs_caveat_names_the_final_run_where_there_is_one() -> None:
    searched = StudyConfig(space="auto", dataset="fashion-mnist", budget=None, epochs=9, train_subset=13500,
                           time_budget_s=3600.0, final_share=0.5)
    assert "which the final run's trial shows" in _reading(searched)
    assert "These are short runs on a subset" not in _reading(searched)
    small = StudyConfig(space="auto", dataset="fashion-mnist", budget=12, epochs=3, train_subset=4000)
    assert "These are short runs on a subset" in _reading(small)
