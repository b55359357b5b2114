"""Model aliases and incremental scoring on the BigQuery emulator: the latest_predictions view
(a dynamic one: it follows a promotion without scoring again), `pipeline promote`, and
`--incremental` appending exactly the new rows, with the same numbers as on DuckDB."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.stages.base import RunOptions
from pipeline.stages.ledger import new_run_id
from pipeline.stages.runner import run_stages
from tests.conftest import write_config
from tests.synthetic import write_warehouse
from tests.test_bigquery import _close, _rows, bigquery_config, raw_into_emulator
from tests.test_incremental import add_new_rows

runner = CliRunner()
VALUES = "PassengerId, dataset, model_id, prediction, score"


def test_aliases_view_and_incremental_on_bigquery(tmp_path: Path, bigquery_emulator: str) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    write_warehouse(warehouse, 300, 50)
    local = write_config(tmp_path, warehouse, n_estimators="5", output_schema='"alias_bq"')
    config = bigquery_config(local, bigquery_emulator)
    raw_into_emulator(warehouse, config, tmp_path, prefix="alias_")

    def options(config: Path, name: str, **kwargs: object) -> RunOptions:
        return RunOptions(
            config_path=config,
            run_id=new_run_id(),
            models_dir=tmp_path / name / "models",
            out_dir=tmp_path / name / "runs",
            executor="inprocess",
            **kwargs,  # type: ignore[arg-type]
        )

    run_stages(options(local, "duck"), None)
    run_stages(options(config, "bq"), None)
    count = "SELECT dataset, count(*) AS n FROM alias_bq.{} GROUP BY dataset"
    assert _rows(config, count.format("latest_predictions")) == _rows(
        config, count.format("predictions")
    )

    # promote, and the view follows the alias named in [scoring] model
    models = str(tmp_path / "bq" / "models")
    out = runner.invoke(
        app,
        ["promote", "latest", "--alias", "production", "-c", str(config), "--models-dir", models],
    )
    assert out.exit_code == 0, out.output
    config.write_text(
        config.read_text().replace("[scoring]\n", '[scoring]\nmodel = "production"\n', 1)
    )
    out = runner.invoke(app, ["aliases", "-c", str(config), "-f", "csv"])
    assert out.exit_code == 0 and len(out.output.splitlines()) == 2, out.output

    # a tenth more unlabelled rows: --incremental scores exactly those, as DuckDB does
    new = add_new_rows(warehouse)
    raw_into_emulator(warehouse, config, tmp_path, prefix="alias_")
    for path, name in ((local, "duck"), (config, "bq")):
        run = options(path, name, incremental=True)
        (result,) = run_stages(run, ["predict"])
        assert result.rows_out == len(new), name
        ids = _rows(
            path, f"SELECT PassengerId FROM alias_bq.predictions WHERE run_id = '{run.run_id}'"
        )
        assert sorted(int(r[0]) for r in ids) == new  # type: ignore[call-overload]
    incremental = _rows(config, f"SELECT {VALUES} FROM alias_bq.predictions")
    _close(_rows(local, f"SELECT {VALUES} FROM alias_bq.predictions"), incremental)
    assert _rows(config, count.format("latest_predictions")) == _rows(
        config, count.format("predictions")
    )
    run_stages(options(config, "bq"), ["predict"])  # a full re-score: the same rows
    _close(_rows(config, f"SELECT {VALUES} FROM alias_bq.predictions"), incremental)
