"""Drift on every scoring run: the frozen training bins equal NumPy's inverted-CDF quantiles, the
drift table's PSI, mean shifts, null rates and unseen shares equal a NumPy computation on the
same cleaned rows, a fail threshold refuses to write (exit 4, warehouse unchanged) unless
--allow-drift, and an older model directory without bins still scores."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import numpy as np
import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.features.bins import BINS_FILE
from pipeline.features.drift import PSI_EPSILON
from pipeline.model.manifest import write_manifest
from pipeline.model.trained import TrainedModel
from pipeline.stages.runner import run_stages
from tests.conftest import OptionsFactory

NUMERIC = ("Pclass", "Age", "SibSp", "Parch", "Fare")
CATEGORICAL = ("Sex", "Embarked")


def _warehouse(options: OptionsFactory) -> Path:
    return options().config_path.parent / "warehouse.duckdb"


def _query(options: OptionsFactory, sql: str) -> list[tuple[object, ...]]:
    con = duckdb.connect(str(_warehouse(options)), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _model(options: OptionsFactory) -> TrainedModel:
    (model_dir,) = options().models_dir.iterdir()
    return TrainedModel.load(model_dir)


def _drift(options: OptionsFactory, run_id: str) -> dict[tuple[str, str, str], tuple]:
    rows = _query(
        options,
        "SELECT dataset, feature, metric, value, baseline, row_count, status FROM pipeline.drift "
        f"WHERE run_id = '{run_id}'",
    )
    return {(str(d), str(f), str(m)): rest for d, f, m, *rest in rows}


def _clean(options: OptionsFactory, dataset: str, column: str) -> np.ndarray:
    """The cleaned values (before imputation) of one column of one dataset, NULL as NaN."""
    rows = _query(options, f"SELECT \"{column}\" FROM pipeline.clean WHERE dataset = '{dataset}'")
    return np.array([np.nan if r[0] is None else r[0] for r in rows], dtype=object)


def _add_drift(options: OptionsFactory) -> None:
    """Shift the unlabelled rows: dearer fares, missing ages, an embarkation port never seen."""
    con = duckdb.connect(str(_warehouse(options)))
    con.execute("UPDATE raw.titanic_test SET Fare = Fare * 3 + 20")
    con.execute("UPDATE raw.titanic_test SET Age = NULL WHERE PassengerId % 3 = 0")
    con.execute("UPDATE raw.titanic_test SET Embarked = 'X' WHERE PassengerId % 4 = 0")
    con.close()


def _monitor(options: OptionsFactory, text: str) -> None:
    config = options().config_path
    config.write_text(config.read_text() + f"\n[monitor]\n{text}\n")


def test_training_bins_are_numpys_inverted_cdf_deciles(ran_project: OptionsFactory) -> None:
    model = _model(ran_project)
    assert model.bins is not None and model.bins.bins == 10
    for column in NUMERIC:
        x = _clean(ran_project, "train", column).astype(float)
        x = x[~np.isnan(x)]  # x: (n_train_values,)
        edges = np.unique(np.quantile(x, np.arange(1, 10) / 10, method="inverted_cdf"))
        edges = edges[edges < x.max()]
        counts = np.bincount(np.searchsorted(edges, x, side="left"), minlength=len(edges) + 1)
        frozen = model.bins.features[column]
        assert frozen.edges == tuple(edges.tolist()), column
        assert frozen.shares == tuple((counts / len(x)).tolist()), column
        assert frozen.rows == len(x)


def test_drift_equals_numpy_on_the_scored_rows(ran_project: OptionsFactory) -> None:
    _add_drift(ran_project)
    _monitor(ran_project, "min_rows = 0")  # the synthetic holdout and test are small
    result = run_stages(ran_project(), ["preprocess", "predict"])[-1]
    model = _model(ran_project)
    drift = _drift(ran_project, _last_run(ran_project))
    assert model.bins is not None
    for dataset in ("holdout", "test"):
        for column in NUMERIC:
            raw = _clean(ran_project, dataset, column).astype(float)  # raw: (n_rows,)
            x = raw[~np.isnan(raw)]
            stats, bins = model.stats[column], model.bins.features[column]
            null_rate, base, n, _ = drift[(dataset, column, "null_rate")]
            assert null_rate == np.isnan(raw).sum() / len(raw) and n == len(raw)
            assert base == pytest.approx(stats.nulls / stats.rows, rel=1e-15)
            shift = drift[(dataset, column, "mean_shift")][0]
            assert shift == pytest.approx((x.mean() - stats.mean) / stats.std, rel=1e-12)
            counts = np.bincount(
                np.searchsorted(np.array(bins.edges), x, side="left"),
                minlength=len(bins.shares),
            )
            s = np.maximum(counts / len(x), PSI_EPSILON)
            t = np.maximum(np.array(bins.shares), PSI_EPSILON)
            psi = float(np.sum((s - t) * np.log(s / t)))
            assert drift[(dataset, column, "psi")][0] == pytest.approx(psi, rel=1e-12, abs=1e-15)
        for column in CATEGORICAL:
            raw = _clean(ran_project, dataset, column)
            present = np.array([v is not None and v == v for v in raw])
            known = {c.category for c in model.stats[column].vocabulary}
            unseen = sum(1 for v in raw[present] if v not in known)
            assert drift[(dataset, column, "unseen_share")][0] == unseen / present.sum()
            assert drift[(dataset, column, "null_rate")][0] == (~present).sum() / len(raw)
    # the injected drift is seen, and judged by the default warn thresholds
    assert drift[("test", "Fare", "mean_shift")][0] > 0.5
    assert drift[("test", "Fare", "psi")][3] == "warn"
    assert drift[("test", "Embarked", "unseen_share")][0] == pytest.approx(0.25, abs=0.05)
    assert any("test Fare psi" in w for w in result.warnings)


def _last_run(options: OptionsFactory) -> str:
    ((run_id,),) = _query(options, "SELECT max(run_id) FROM pipeline.drift")
    return str(run_id)


def _snapshot(options: OptionsFactory) -> tuple[list, list]:
    order = "ORDER BY ALL"
    return (
        _query(options, f"SELECT * FROM pipeline.predictions {order}"),
        _query(options, f"SELECT * FROM pipeline.drift {order}"),
    )


def test_a_fail_threshold_refuses_and_leaves_the_warehouse_unchanged(
    ran_project: OptionsFactory,
) -> None:
    _add_drift(ran_project)
    _monitor(ran_project, "psi_fail = 0.25\nmin_rows = 0")  # the synthetic rows are few
    before = _snapshot(ran_project)
    config = str(ran_project().config_path)
    runner = CliRunner()
    out = runner.invoke(app, ["run", "--stage", "predict", "-c", config])
    assert out.exit_code == 4, out.output
    (line,) = [x for x in out.output.splitlines() if x.startswith("error:")]
    assert "test Fare psi" in line and "fail threshold 0.25" in line
    assert line.endswith("score anyway with `pipeline run --stage predict --allow-drift`")
    # the warn-level breaches of the refused run are shown too, before the error
    assert "warning: predict: drift test Fare mean_shift" in out.output
    assert _snapshot(ran_project) == before

    out = runner.invoke(app, ["run", "--stage", "predict", "-c", config, "--allow-drift"])
    assert out.exit_code == 0, out.output
    assert "test Fare psi" in out.output and "fail threshold 0.25" in out.output
    predictions, drift = _snapshot(ran_project)
    assert predictions != before[0]  # this run's rows (its run id)
    statuses = _query(
        ran_project,
        "SELECT status FROM pipeline.drift WHERE feature = 'Fare' AND metric = 'psi' "
        "AND dataset = 'test' ORDER BY run_id",
    )
    # the history: the first run (the default min_rows: not judged), then this one
    assert [s for (s,) in statuses] == ["few_rows", "fail"]
    assert len(drift) == 2 * len(before[1])


def test_default_thresholds_change_no_prediction(ran_project: OptionsFactory) -> None:
    """Drift only reads: predictions are the same whatever [monitor] says (short of fail)."""
    before = _query(ran_project, "SELECT * EXCLUDE (run_id) FROM pipeline.predictions ORDER BY ALL")
    _monitor(ran_project, "psi_warn = 0.0\nshift_warn = 0.0\nnull_rate_warn = 0.0")
    (result,) = run_stages(ran_project(), ["predict"])
    after = _query(ran_project, "SELECT * EXCLUDE (run_id) FROM pipeline.predictions ORDER BY ALL")
    assert after == before
    assert result.warnings  # every numeric feature drifts a little, over thresholds of 0


def test_a_model_saved_without_bins_still_scores(ran_project: OptionsFactory) -> None:
    (model_dir,) = ran_project().models_dir.iterdir()
    old = model_dir.parent / "old-model"
    shutil.copytree(model_dir, old)
    for name in (BINS_FILE, "manifest.json"):  # as an older pipeline saved it
        (old / name).unlink()
    write_manifest(old)
    assert json.loads((old / "manifest.json").read_text())["files"].get(BINS_FILE) is None
    (result,) = run_stages(ran_project(model_dir=old), ["predict"])
    said = [m for m in result.messages if "no training bins" in m]
    assert len(said) == 1 and "no PSI" in said[0]
    drift = _drift(ran_project, _last_run(ran_project))
    metrics = {m for _, _, m in drift}
    assert metrics == {"null_rate", "mean_shift", "unseen_share"}


def test_same_drift_on_duckdb_and_bigquery(tmp_path: Path, bigquery_emulator: str) -> None:
    """The bins (bins.json) and every drift row are the same on the BigQuery emulator as on
    DuckDB, from the same raw rows (raw tables and an output schema of their own)."""
    from pipeline.stages.base import RunOptions
    from pipeline.stages.ledger import new_run_id
    from tests.conftest import write_config
    from tests.synthetic import write_warehouse
    from tests.test_bigquery import _close, _rows, bigquery_config

    warehouse = tmp_path / "warehouse.duckdb"
    write_warehouse(warehouse, 600, 200)
    con = duckdb.connect(str(warehouse))
    con.execute("UPDATE raw.titanic_test SET Fare = Fare * 3 + 20")
    con.execute("UPDATE raw.titanic_test SET Embarked = 'X' WHERE PassengerId % 4 = 0")
    for table in ("titanic_train", "titanic_test"):
        con.execute(f"COPY raw.{table} TO '{tmp_path / table}.jsonl' (FORMAT JSON)")
    con.close()
    local = write_config(tmp_path, warehouse, n_estimators="5", output_schema='"drifted"')
    config = bigquery_config(local, bigquery_emulator)
    config.write_text(config.read_text().replace("raw.titanic_", "raw.drift_"))
    runner = CliRunner()
    for table in ("titanic_train", "titanic_test"):
        out = runner.invoke(
            app,
            [
                "ingest",
                str(tmp_path / f"{table}.jsonl"),
                "--table",
                f"raw.{table.replace('titanic_', 'drift_')}",
                "--replace",
                "-c",
                str(config),
            ],
        )
        assert out.exit_code == 0, out.output

    def run(path: Path, name: str) -> Path:
        options = RunOptions(
            config_path=path,
            run_id=new_run_id(),
            models_dir=tmp_path / name / "models",
            out_dir=tmp_path / name / "runs",
        )
        run_stages(options, ["preprocess", "train", "predict"])
        (model_dir,) = options.models_dir.iterdir()
        return model_dir

    here, there = run(local, "duck"), run(config, "bq")
    assert here.name == there.name
    assert (here / BINS_FILE).read_bytes() == (there / BINS_FILE).read_bytes()
    sql = (
        "SELECT dataset, feature, metric, value, baseline, row_count, warn_threshold, "
        "fail_threshold, status FROM drifted.drift"
    )
    ours, theirs = _rows(local, sql), _rows(config, sql)
    assert len(ours) == 2 * (len(NUMERIC) * 3 + len(CATEGORICAL) * 2)
    _close(ours, theirs)
    assert ("test", "Fare", "psi") in {r[:3] for r in theirs}


def test_templates_older_than_drift_score_and_say_so(
    ran_project: OptionsFactory, tmp_path: Path
) -> None:
    """A project whose own sql/ predates sql/monitor/ trains (a model without bins.json) and
    scores as before, and says in one line that no drift was measured."""
    from tests.conftest import REPO

    sql = tmp_path / "old-sql"
    shutil.copytree(REPO / "sql", sql, ignore=shutil.ignore_patterns("monitor"))
    config = ran_project().config_path
    config.write_text(config.read_text().replace((REPO / "sql").as_posix(), sql.as_posix()))
    trained, result = run_stages(ran_project(), ["train", "predict"])
    assert not (Path(trained.details["model_dir"]) / BINS_FILE).exists()
    said = [m for m in result.messages if "no drift measured" in m]
    assert len(said) == 1 and "monitor/drift.sql" in said[0]
    assert result.rows_out > 0


def test_the_report_shows_the_latest_drift_of_the_evaluated_model(
    ran_project: OptionsFactory,
) -> None:
    from pipeline.core.vocabulary import Dataset, Task
    from pipeline.evaluation.report import Evaluation, render_report

    (report,) = ran_project().out_dir.glob("*/report.html")
    text = report.read_text()
    section = text.split("<h2>Drift</h2>", 1)[1]
    run_id = _last_run(ran_project)
    assert run_id in section and "<th>psi</th>" in section and "<td>Embarked</td>" in section
    rows = [
        {"run_id": "r1", "dataset": "test", "feature": "Fare", "metric": m, "value": v, "status": s}
        for m, v, s in (("psi", 0.5, "fail"), ("null_rate", 0.0, "ok"))
    ]
    html = render_report(Evaluation("r", "m", Task.binary, Dataset.holdout, {}, drift=rows))
    assert "<th>null_rate</th><th>psi</th>" in html and "0.5000 (fail)" in html
    assert "No drift measured" in render_report(
        Evaluation("r", "m", Task.binary, Dataset.holdout, {})
    )


@pytest.mark.slow
def test_same_drift_bytes_whatever_the_thread_count(tmp_path: Path) -> None:
    """bins.json and every drift value are the same bytes at 1 and 4 DuckDB threads on enough
    rows for parallel aggregation (integer sums, bins added in order: no float SUM)."""
    from pipeline.stages.base import RunOptions
    from pipeline.stages.ledger import new_run_id
    from tests.conftest import write_config
    from tests.synthetic import write_warehouse

    source = tmp_path / "source.duckdb"
    write_warehouse(source, 120_000, 60_000)

    def run(threads: int) -> tuple[bytes, list[tuple[object, ...]]]:
        directory = tmp_path / f"t{threads}"
        directory.mkdir()
        warehouse = directory / "warehouse.duckdb"
        shutil.copyfile(source, warehouse)
        config = write_config(
            directory, warehouse, estimator='"sklearn.linear_model.LogisticRegression"'
        )
        text = config.read_text().replace("[warehouse]\n", f"[warehouse]\nthreads = {threads}\n")
        config.write_text(text)
        options = RunOptions(
            config_path=config,
            run_id=new_run_id(),
            models_dir=directory / "models",
            out_dir=directory / "runs",
        )
        run_stages(options, ["preprocess", "train", "predict"])
        (model_dir,) = options.models_dir.iterdir()
        con = duckdb.connect(str(warehouse), read_only=True)
        try:
            rows = con.execute(
                "SELECT * EXCLUDE (run_id) FROM pipeline.drift ORDER BY ALL"
            ).fetchall()
        finally:
            con.close()
        return (model_dir / BINS_FILE).read_bytes(), rows

    one, four = run(1), run(4)
    assert one == four
    assert len(one[1]) == 2 * (len(NUMERIC) * 3 + len(CATEGORICAL) * 2)
