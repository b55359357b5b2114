"""BigQuery as a drop-in warehouse, against a local emulator the tests start themselves: every
template parses as BigQuery SQL, and the whole pipeline gives the same tables, predictions and
metrics on DuckDB and on BigQuery from the same data, with only [warehouse] changed."""

from __future__ import annotations

import difflib
import re
from pathlib import Path

import duckdb
import pytest
import sqlglot
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.stages.runner import run_stages
from pipeline.warehouse.bigquery import BigQueryWarehouse
from tests.conftest import OptionsFactory
from tests.test_templates import TEMPLATE_FILES, rendered_templates


@pytest.mark.parametrize("name", TEMPLATE_FILES)
def test_rendered_sql_parses_as_bigquery(name: str) -> None:
    sql = rendered_templates(BigQueryWarehouse)[name]  # type: ignore[arg-type]
    for statement in sqlglot.parse(sql, read="bigquery"):
        assert statement is not None


def bigquery_config(duckdb_config: Path, endpoint: str) -> Path:
    """The same project with only [warehouse] changed."""
    text = duckdb_config.read_text()
    section = re.search(r"(?ms)^\[warehouse\]\n.*?(?=^\[)", text)
    assert section
    warehouse = (
        "[warehouse]\n"
        'type = "bigquery"\n'
        'project = "test-proj"\n'
        'location = "US"\n'
        f'endpoint = "{endpoint}"\n'
        "anonymous = true\n"
        "timeout = 60\n\n"
    )
    changed = text.replace(section.group(0), warehouse)
    path = duckdb_config.parent / "bigquery.toml"
    path.write_text(changed)
    diff = [
        line
        for line in difflib.unified_diff(text.splitlines(), changed.splitlines(), lineterm="")
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    assert all(
        re.match(
            r"[+-](type|path|seed_from|project|location|endpoint|anonymous|timeout|labelled|"
            r"unlabelled|output_schema) = |[+-]$|[+-]#",
            line,
        )
        for line in diff
    ), diff
    return path


def raw_into_emulator(warehouse: Path, config: Path, tmp_path: Path, prefix: str = "") -> None:
    """The raw tables of a DuckDB file, as they are now, into the emulator under
    raw.<prefix>titanic_*; the config is pointed at them. JSON Lines through `pipeline ingest`
    (the emulator's Parquet load cannot autodetect a schema: an emulator bug, not BigQuery's);
    `--replace`, since the emulator lives for the session and another test may have loaded
    the same names."""
    if prefix:
        config.write_text(config.read_text().replace("raw.titanic_", f"raw.{prefix}titanic_"))
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for table in ("titanic_train", "titanic_test"):
            con.execute(f"COPY raw.{table} TO '{tmp_path / table}.jsonl' (FORMAT JSON)")
    for table in ("titanic_train", "titanic_test"):
        jsonl = str(tmp_path / f"{table}.jsonl")
        argv = ["ingest", jsonl, "--table", f"raw.{prefix}{table}", "--replace", "-c", str(config)]
        out = CliRunner().invoke(app, argv)
        assert out.exit_code == 0, out.output


def _rows(config: Path, sql: str) -> list[tuple[object, ...]]:
    from pipeline.stages.project import Project

    with Project.open(config) as project:
        table = project.warehouse.query_arrow(sql)
    return sorted(tuple(r.values()) for r in table.to_pylist())


def _close(a: list[tuple[object, ...]], b: list[tuple[object, ...]]) -> None:
    assert len(a) == len(b)
    for ra, rb in zip(a, b, strict=True):
        for x, y in zip(ra, rb, strict=True):
            if isinstance(x, float) and isinstance(y, float):
                assert x == pytest.approx(y, rel=1e-9, abs=1e-9)
            else:
                assert x == y


def test_pipeline_parity_duckdb_and_bigquery(
    synthetic_project: OptionsFactory, bigquery_emulator: str, tmp_path: Path
) -> None:
    local = synthetic_project()
    run_stages(local, None)

    # the same raw rows in the emulator
    config = bigquery_config(local.config_path, bigquery_emulator)
    raw_into_emulator(local.config_path.parent / "warehouse.duckdb", config, tmp_path)
    runner = CliRunner()

    out = runner.invoke(
        app,
        [
            "run",
            "-c",
            str(config),
            "--models-dir",
            str(tmp_path / "bq-models"),
            "--out",
            str(tmp_path / "bq-runs"),
        ],
    )
    assert out.exit_code == 0, out.output
    for stage in ("preprocess:", "train:", "predict:", "evaluate:"):
        assert stage in out.output
    # the same model: its id hashes the estimator, statistics, training rows and SQL
    assert sorted(p.name for p in (tmp_path / "bq-models").iterdir()) == sorted(
        p.name for p in local.models_dir.iterdir()
    )

    for table, key in (
        ("features_train", "*"),
        ("features_holdout", "*"),
        ("features_test", "*"),
        ("feature_stats", "feature, stat, category, value"),
        ("predictions", "PassengerId, dataset, prediction, score"),
        ("metrics", "slice, segment, metric, value"),
        ("curves", "curve, x, y, threshold, n"),
        ("feature_importance", "kind, feature, metric, repeats, holdout_rows, baseline, mean, std"),
    ):
        here = _rows(local.config_path, f"SELECT {key} FROM pipeline.{table}")
        there = _rows(config, f"SELECT {key} FROM pipeline.{table}")
        _close(here, there)

    out = runner.invoke(
        app,
        [
            "sql",
            "SELECT dataset, count(*) AS n FROM pipeline.predictions "
            "GROUP BY dataset ORDER BY dataset",
            "-c",
            str(config),
            "-f",
            "csv",
        ],
    )
    assert out.exit_code == 0, out.output
    assert out.output.split()[0] == "dataset,n"


PARITY_ROWS = 50_000


def test_same_model_id_on_duckdb_and_bigquery_at_scale(
    tmp_path: Path, bigquery_emulator: str
) -> None:
    """Frozen statistics are exact functions of the training values (integer sums, data-value
    medians), so DuckDB and BigQuery freeze the same bytes and train the same model id, also
    on tens of thousands of rows where float aggregates differ in their last bits."""
    import time

    from pipeline.stages.base import RunOptions
    from pipeline.stages.ledger import new_run_id
    from tests.conftest import write_config
    from tests.synthetic import write_warehouse

    local_dir = tmp_path / "local"
    local_dir.mkdir()
    warehouse = local_dir / "warehouse.duckdb"
    write_warehouse(warehouse, PARITY_ROWS, 1_000)
    local = write_config(
        local_dir,
        warehouse,
        estimator='"sklearn.linear_model.LogisticRegression"',
        output_schema='"scale"',
    )

    def options(config: Path, name: str) -> RunOptions:
        return RunOptions(
            config_path=config,
            run_id=new_run_id(),
            models_dir=tmp_path / name / "models",
            out_dir=tmp_path / name / "runs",
        )

    (local_model,) = [
        r.model_id
        for r in run_stages(options(local, "duck"), ["preprocess", "train"])
        if r.model_id
    ]

    # raw tables of their own in the session's emulator (the parity test has raw.titanic_*);
    # table names are not part of the model id
    config = bigquery_config(local, bigquery_emulator)
    raw_into_emulator(warehouse, config, tmp_path, prefix="scale_")
    start = time.perf_counter()
    results = run_stages(options(config, "bq"), ["preprocess", "train"])
    print(
        f"emulator: preprocess + train on {PARITY_ROWS} rows in {time.perf_counter() - start:.1f} s"
    )
    (bq_model,) = [r.model_id for r in results if r.model_id]
    assert bq_model == local_model
    here = _rows(local, "SELECT feature, stat, category, value FROM scale.feature_stats")
    there = _rows(config, "SELECT feature, stat, category, value FROM scale.feature_stats")
    assert here == there  # exactly, not approximately


def test_bigquery_stage_says_it_ran_without_a_transaction(
    tmp_path: Path, bigquery_emulator: str
) -> None:
    """A stage on a warehouse without transactions says so, in its output and its ledger row
    (raw tables and an output schema of its own in the session's emulator)."""
    from pipeline.stages.ledger import NOTES
    from tests.conftest import write_config
    from tests.synthetic import write_warehouse
    from tests.test_transactions import SAID

    runner = CliRunner()
    warehouse = tmp_path / "warehouse.duckdb"
    write_warehouse(warehouse, 300, 50)
    local = write_config(tmp_path, warehouse, n_estimators="5", output_schema='"notx"')
    config = bigquery_config(local, bigquery_emulator)
    raw_into_emulator(warehouse, config, tmp_path, prefix="notx_")

    # the second stage finds the ledger's notes column there already
    for stage in ("preprocess", "train"):
        out = runner.invoke(
            app, ["run", "--stage", stage, "-c", str(config), "--models-dir", str(tmp_path)]
        )
        assert out.exit_code == 0, out.output
        said = [line for line in out.output.splitlines() if SAID in line]
        assert said and said[0].startswith(f"{stage}: "), out.output
    ledger = _rows(config, f"SELECT stage, status, {NOTES} FROM notx.runs")
    assert [(stage, status) for stage, status, _ in ledger] == [
        ("preprocess", "success"),
        ("train", "success"),
    ]
    assert all(isinstance(note, str) and note.startswith(SAID) for _, _, note in ledger), ledger
