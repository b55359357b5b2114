"""[train] sample_rows: train fits on a deterministic sample of the training split, drawn in SQL
by the hashed id, recorded in model.json and part of the model id."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import duckdb
import pyarrow as pa
import sqlglot
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.model.meta import ModelMeta
from pipeline.model.trained import column, feature_matrix
from pipeline.stages.runner import run_stages
from pipeline.stages.train import SAMPLE_SALT, fingerprint
from tests.conftest import OptionsFactory

SAMPLE_KEYS = ("sample_rows", "sample_rows_used")


def _set_sample(config: Path, rows: int | None) -> None:
    """The config with [train] sample_rows = rows (none: no [train] section)."""
    text = config.read_text().split("\n[train]\n")[0]
    if rows is not None:
        text += f"\n[train]\nsample_rows = {rows}\n"
    config.write_text(text)


def _meta(options: OptionsFactory, model_id: str) -> tuple[ModelMeta, dict[str, object]]:
    raw = json.loads((options().models_dir / model_id / "model.json").read_text())
    return ModelMeta.from_json(raw), raw


def _train_split(options: OptionsFactory) -> pa.Table:
    """features_train as preprocess wrote it, read apart from the pipeline."""
    o = options()
    text = o.config_path.read_text()
    warehouse = text.split('path = "', 1)[1].split('"', 1)[0]
    with duckdb.connect(warehouse, read_only=True) as con:
        return con.sql('SELECT * FROM "pipeline"."features_train"').to_arrow_table()


def _hash_rule(ids: list[object], n: int) -> list[object]:
    """The sample recomputed with hashlib: the n ids whose salted MD5's first 32 bits are
    smallest (ties: the smaller id), in id order."""

    def key(i: object) -> tuple[int, object]:
        return int(hashlib.md5(f"{SAMPLE_SALT}{i}".encode()).hexdigest()[:8], 16), i

    return sorted(sorted(ids, key=key)[:n])  # type: ignore[type-var]


def _train(options: OptionsFactory) -> str:
    (result,) = run_stages(options(), ["train"])
    assert result.model_id is not None
    return result.model_id


def test_sample_is_the_hash_rule_and_is_recorded(synthetic_project: OptionsFactory) -> None:
    config = synthetic_project().config_path
    run_stages(synthetic_project(), ["preprocess"])
    split = _train_split(synthetic_project)
    ids = column(split, "PassengerId").to_pylist()
    assert all(isinstance(i, int) for i in ids)  # str(i) is then DuckDB's CAST AS VARCHAR

    for rows in (37, len(ids) + 5):
        _set_sample(config, rows)
        (result,) = run_stages(synthetic_project(), ["train"])
        assert result.model_id is not None
        meta, raw = _meta(synthetic_project, result.model_id)
        used = min(rows, len(ids))
        assert meta.train_rows == used == result.rows_in
        assert (raw["sample_rows"], raw["sample_rows_used"]) == (rows, used)
        assert result.details["sample"] == {"rows": rows, "rows_used": used}
        # the fit saw exactly the rows the rule picks, in id order: same matrix, same labels
        chosen = _hash_rule(ids, rows)
        assert rows > len(ids) or chosen != sorted(ids)[:rows]  # not simply the first ids
        order = {i: k for k, i in enumerate(ids)}
        rows_of = split.take([order[i] for i in chosen])
        X = feature_matrix(rows_of, list(meta.feature_names))
        y = column(rows_of, "Survived").to_numpy(zero_copy_only=False)
        assert fingerprint(X, y) == meta.train_fingerprint
        said = " ".join(result.messages)
        if rows > len(ids):
            assert f"has {len(ids)} rows, fewer than [train] sample_rows = {rows}" in said
            assert "trained on all of them" in said
        else:
            assert f"a sample of {rows} rows" in said


def test_same_sample_same_id_other_size_other_id(synthetic_project: OptionsFactory) -> None:
    config = synthetic_project().config_path
    run_stages(synthetic_project(), ["preprocess"])
    _set_sample(config, 60)
    first, again = _train(synthetic_project), _train(synthetic_project)
    assert first == again
    _set_sample(config, 61)
    assert _train(synthetic_project) != first
    # a sample larger than the split fits on every row, and is still recorded in the id
    _set_sample(config, None)
    whole = _train(synthetic_project)
    _set_sample(config, 10**6)
    assert _train(synthetic_project) != whole


def test_unset_sample_leaves_model_json_as_it_was(synthetic_project: OptionsFactory) -> None:
    run_stages(synthetic_project(), ["preprocess"])
    meta, raw = _meta(synthetic_project, _train(synthetic_project))
    assert meta.sample is None
    assert not set(SAMPLE_KEYS) & set(raw)


def test_sample_rows_zero_is_a_one_line_config_error(synthetic_project: OptionsFactory) -> None:
    config = synthetic_project().config_path
    _set_sample(config, 0)
    result = CliRunner().invoke(app, ["run", "-c", str(config)])
    assert result.exit_code == 2, result.output
    (line,) = result.output.strip().splitlines()
    assert "[train] sample_rows: 0 is out of range: must be 1 or more" in line


def test_sample_sql_parses_as_bigquery() -> None:
    from pipeline.render.dialect import BIGQUERY
    from pipeline.render.templates import templates_for
    from pipeline.stages.train import sample_sql
    from tests.conftest import REPO

    sql = sample_sql(templates_for(REPO / "sql", BIGQUERY), "pipeline.features_train", "id", 5)
    (statement,) = sqlglot.parse(sql, read="bigquery")
    assert statement is not None and "MD5" in sql and "LIMIT 5" in sql


def test_same_sample_on_duckdb_and_bigquery(
    synthetic_project: OptionsFactory, bigquery_emulator: str, tmp_path: Path
) -> None:
    """The same rows on both engines: the model id hashes the training matrix and labels."""
    from tests.test_bigquery import bigquery_config, raw_into_emulator

    local = synthetic_project()
    _set_sample(local.config_path, 45)
    run_stages(local, ["preprocess", "train"])
    config = bigquery_config(local.config_path, bigquery_emulator)
    runner = CliRunner()
    raw_into_emulator(local.config_path.parent / "warehouse.duckdb", config, tmp_path)
    models = tmp_path / "bq-models"
    args = ["run", "-c", str(config), "--models-dir", str(models), "--out", str(tmp_path / "o")]
    for stage in ("preprocess", "train"):
        out = runner.invoke(app, [*args, "--stage", stage])
        assert out.exit_code == 0, out.output
    assert "a sample of 45 rows" in out.output
    assert [p.name for p in models.iterdir()] == [p.name for p in local.models_dir.iterdir()]


def test_model_id_covers_the_sql_the_model_carries_only(synthetic_project: OptionsFactory) -> None:
    """A new template outside the model's own SQL (a report, a monitor) leaves every model id
    as it was; a change to the preprocessing SQL the model replays gives a new one."""
    import shutil

    from pipeline.model.save import SQL_PARTS

    config = synthetic_project().config_path
    sql = config.parent / "sql"
    shutil.copytree(Path(__file__).parent.parent / "sql", sql)
    config.write_text(
        "\n".join(
            f'sql_dir = "{sql.as_posix()}"' if line.startswith("sql_dir") else line
            for line in config.read_text().splitlines()
        )
        + "\n"
    )
    run_stages(synthetic_project(), ["preprocess"])
    first = _train(synthetic_project)
    (sql / "evaluate" / "extra_report.sql").write_text("SELECT 1\n")
    assert _train(synthetic_project) == first
    assert "preprocess" in SQL_PARTS
    clean = sql / "preprocess" / "clean.sql"
    clean.write_text(clean.read_text() + "\n{# a comment changes the file #}\n")
    assert _train(synthetic_project) != first
