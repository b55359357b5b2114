"""What a new user's nightly runs showed about drift: a PSI over few values is recorded but not
judged ([monitor] min_rows: an undrifted sample's PSI is about (bins - 1) / n), a refusal names
every fail breach and the command that re-runs the stage, and an incremental run's unseen
categories count its own rows (none when it scored none), leaving no empty run directory."""

from __future__ import annotations

import logging

import duckdb
import pytest

from pipeline.core.errors import DataError
from pipeline.stages.monitor import DriftCheck, refuse_drift
from pipeline.stages.runner import run_stages
from tests.conftest import OptionsFactory
from tests.test_drift import _add_drift, _drift, _last_run, _monitor
from tests.test_incremental import add_new_rows, rows, warehouse


def test_a_psi_over_few_values_is_recorded_but_not_judged(ran_project: OptionsFactory) -> None:
    _add_drift(ran_project)
    _monitor(ran_project, "psi_fail = 0.25")  # the default min_rows, 500: more than either
    (result,) = run_stages(ran_project(), ["predict"])  # not refused
    drift = _drift(ran_project, _last_run(ran_project))
    psi = {k: v for k, v in drift.items() if k[2] == "psi"}
    assert psi and {v[3] for v in psi.values()} == {"few_rows"}
    assert all(v[0] is not None for v in psi.values())  # still measured and recorded
    assert drift[("test", "Fare", "mean_shift")][3] == "warn"  # the other metrics are judged
    assert not [w for w in result.warnings if " psi " in w]
    holdout, test = (drift[(d, "Fare", "psi")][2] for d in ("holdout", "test"))
    said = [m for m in result.messages if "not judged" in m]
    assert said == [
        f"predict: drift: PSI recorded but not judged for holdout ({holdout} rows) and test "
        f"({test} rows): fewer than [monitor] min_rows = 500 values (status few_rows in "
        "pipeline.drift)"
    ]


def test_min_rows_counts_the_non_null_values(ran_project: OptionsFactory) -> None:
    _add_drift(ran_project)  # a third of the test rows' Age is NULL
    ((test_rows,),) = rows(warehouse(ran_project), "SELECT count(*) FROM raw.titanic_test")
    _monitor(ran_project, f"min_rows = {test_rows}")
    run_stages(ran_project(), ["predict"])
    drift = _drift(ran_project, _last_run(ran_project))
    judged = {}
    for (dataset, feature, metric), (_value, _, row_count, status) in drift.items():
        if metric == "psi" and dataset == "test":
            null_rate = drift[(dataset, feature, "null_rate")][0]
            present = round(row_count * (1 - null_rate))
            assert (status == "few_rows") == (present < test_rows), (feature, status)
            judged[feature] = status
    assert judged["Age"] == "few_rows" and judged["Fare"] != "few_rows"


def _row(dataset: str, feature: str, metric: str, value: float, status: str) -> dict:
    return {
        "dataset": dataset,
        "feature": feature,
        "metric": metric,
        "value": value,
        "baseline": 0.0,
        "warn_threshold": 0.1,
        "fail_threshold": 0.25,
        "status": status,
    }


def test_a_refusal_names_every_breach_and_the_command_that_reruns_predict(
    caplog: pytest.LogCaptureFixture,
) -> None:
    failed = [_row("test", f"x{i}", "psi", 1.0 + i, "fail") for i in range(7)]
    warned = _row("holdout", "Age", "mean_shift", 0.2, "warn")
    check = DriftCheck("", {}, [*failed[:2], warned, _row("test", "y", "psi", 0.0, "ok")])
    with caplog.at_level(logging.WARNING, logger="pipeline"), pytest.raises(DataError) as exc:
        refuse_drift(check, allow=False)
    message = str(exc.value)
    assert message == (
        "drift: test x0 psi 1 is over the fail threshold 0.25; test x1 psi 2 is over the fail "
        "threshold 0.25: no predictions written; score anyway with "
        "`pipeline run --stage predict --allow-drift`"
    )
    assert [r.getMessage() for r in caplog.records] == [
        "predict: drift holdout Age mean_shift 0.2 is over the warn threshold 0.1"
    ]
    with pytest.raises(DataError) as exc:
        refuse_drift(DriftCheck("", {}, failed), allow=False, incremental=True)
    message = str(exc.value)
    assert "\n" not in message and all(f"test x{i} psi" in message for i in range(5))
    assert "x5" not in message and " (and 2 more): no predictions written" in message
    assert message.endswith("`pipeline run --stage predict --allow-drift --incremental`")
    refuse_drift(DriftCheck("", {}, failed), allow=True)  # --allow-drift: no refusal


def test_incremental_unseen_counts_this_runs_rows_and_nothing_new_leaves_nothing(
    ran_project: OptionsFactory,
) -> None:
    path = warehouse(ran_project)
    con = duckdb.connect(str(path))
    con.execute("UPDATE raw.titanic_test SET Embarked = 'X' WHERE PassengerId % 4 = 0")
    con.close()
    new = add_new_rows(path)  # copies of every tenth row: those of every twentieth have 'X'
    unseen_new = sum(1 for i in new if (i - 1_000_000) % 4 == 0)
    assert 0 < unseen_new < len(new)

    options = ran_project(executor="inprocess", incremental=True)
    (result,) = run_stages(options, ["predict"])
    assert result.rows_out == len(new)
    assert result.details["unseen"] == {"Embarked": unseen_new}
    said = [w for w in result.warnings if "training split never had" in w]
    assert said == [
        f"predict: {unseen_new} of this run's {len(new)} rows had a Embarked value the training "
        "split never had (scored as unknown; pipeline.unseen_categories lists the values over "
        "every row the model has scored)"
    ]
    # the table still covers every row the model has scored: the earlier rows' 'X' too
    ((in_table,),) = rows(
        path, "SELECT sum(row_count) FROM pipeline.unseen_categories WHERE feature = 'Embarked'"
    )
    assert in_table > unseen_new

    for keep_parts in (False, True):
        options = ran_project(executor="inprocess", incremental=True, keep_parts=keep_parts)
        (result,) = run_stages(options, ["predict"])
        assert result.rows_out == 0
        assert result.details["unseen"] == {} and result.warnings == []
        assert not (options.out_dir / options.run_id).exists()
        ledger = rows(path, f"SELECT details FROM pipeline.runs WHERE run_id = '{options.run_id}'")
        assert '"unseen": {}' in ledger[0][0]


def test_the_report_flags_a_psi_not_judged() -> None:
    from pipeline.core.vocabulary import Dataset, Task
    from pipeline.evaluation.report import Evaluation, render_report

    row = {"run_id": "r1", "dataset": "test", "feature": "Fare", "metric": "psi"}
    drift = [{**row, "value": 0.5, "status": "few_rows"}]
    html = render_report(Evaluation("r", "m", Task.binary, Dataset.holdout, {}, drift=drift))
    assert "0.5000 (few_rows)" in html


def test_without_drift_rows_an_incremental_warning_says_it_counts_earlier_runs_too(
    ran_project: OptionsFactory,
) -> None:
    """Templates older than drift measure nothing: the counts come from unseen_categories,
    which covers every row the model has scored, and the warning says so."""
    from pipeline.stages.monitor import scored_unseen
    from pipeline.stages.project import Project

    _add_drift(ran_project)  # a quarter of the test rows: Embarked 'X'
    (result,) = run_stages(ran_project(), ["predict"])
    n = result.details["unseen"]["Embarked"]
    with Project.open(ran_project().config_path) as project:
        counts, said = scored_unseen(project, str(result.model_id), "no-such-run", 5, True)
        assert scored_unseen(project, str(result.model_id), "no-such-run", 0, True) == ({}, [])
    assert counts == {"Embarked": n}
    assert said == [
        f"predict: {n} rows this model has scored (this run's and earlier runs') had 1 Embarked "
        "value(s) the training split never had (scored as unknown; see "
        "pipeline.unseen_categories)"
    ]
