"""Model aliases: `pipeline promote` appends one row per promotion, `--model NAME` and
`[scoring] model` score the model an alias points at, rollback is promoting the previous model,
and the `latest_predictions` view holds one row per id and dataset, however many models were
scored, following a promotion without scoring again."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.core.errors import ConfigError
from pipeline.stages.runner import run_stages
from tests.conftest import OptionsFactory

runner = CliRunner()


def _rows(config: Path, sql: str) -> list[tuple[object, ...]]:
    con = duckdb.connect(str(config.parent / "warehouse.duckdb"), read_only=True)
    try:
        return con.sql(sql).fetchall()
    finally:
        con.close()


def _cli(config: Path, *args: str) -> tuple[int, str]:
    out = runner.invoke(app, [*args, "-c", str(config)])
    return out.exit_code, out.output


def _second_model(options: OptionsFactory) -> tuple[str, str]:
    """The model of the run, and a second one trained and scored after it (fewer trees)."""
    first = options()
    config = first.config_path
    (old,) = [p.name for p in first.models_dir.iterdir()]
    config.write_text(config.read_text().replace("n_estimators = 25", "n_estimators = 5"))
    run_stages(options(executor="inprocess"), ["train", "predict"])
    (new,) = [p.name for p in first.models_dir.iterdir() if p.name != old]
    return old, new


def _view_models(config: Path) -> list[tuple[object, ...]]:
    return _rows(config, "SELECT DISTINCT model_id FROM pipeline.latest_predictions")


def test_promote_alias_view_and_rollback(ran_project: OptionsFactory) -> None:
    config = ran_project().config_path
    old, new = _second_model(ran_project)

    # two models scored, the view shows the newest scored: one row per passenger and dataset
    assert _rows(config, "SELECT count(DISTINCT model_id) FROM pipeline.predictions") == [(2,)]
    assert _view_models(config) == [(new,)]
    per_dataset = _rows(
        config,
        "SELECT dataset, count(*), count(DISTINCT PassengerId) FROM pipeline.latest_predictions "
        "GROUP BY dataset ORDER BY dataset",
    )
    scored = _rows(
        config,
        f"SELECT dataset, count(*), count(*) FROM pipeline.predictions WHERE model_id = '{new}' "
        "GROUP BY dataset ORDER BY dataset",
    )
    assert per_dataset == scored and len(scored) == 2

    code, out = _cli(config, "promote", old, "--alias", "production", "--note", "first")
    assert code == 0, out
    assert f"production -> {old}" in out
    # the config follows the alias; predict refreshes the view for it
    config.write_text(
        config.read_text().replace("[scoring]\n", '[scoring]\nmodel = "production"\n', 1)
    )
    run_stages(ran_project(executor="inprocess"), ["predict"])
    assert _view_models(config) == [(old,)]

    # a promotion takes effect without scoring again; rollback promotes the previous model
    code, out = _cli(config, "promote", "latest", "--alias", "production")
    assert code == 0 and f"production -> {new} (was {old})" in out, out
    assert _view_models(config) == [(new,)]
    code, out = _cli(config, "promote", old, "--alias", "production", "--note", "rollback")
    assert code == 0, out
    assert _view_models(config) == [(old,)]
    code, out = _cli(config, "promote", "production", "--alias", "production")
    assert code == 0 and "nothing written" in out

    history = _rows(
        config,
        "SELECT alias, previous_model_id, model_id, note, promoted_by IS NOT NULL "
        "FROM pipeline.model_aliases ORDER BY promoted_at",
    )
    assert history == [
        ("production", None, old, "first", True),
        ("production", old, new, None, True),
        ("production", new, old, "rollback", True),
    ]
    code, out = _cli(config, "aliases", "--alias", "production", "-f", "csv")
    assert code == 0, out
    lines = out.splitlines()
    assert lines[0].startswith("alias,from_model,to_model,promoted_at,promoted_by")
    assert len(lines) == 4 and lines[3].startswith(f"production,{new},{old},")

    # --model names the model to score and to compare, as an alias or an id
    results = run_stages(ran_project(executor="inprocess", model="production"), ["predict"])
    assert results[0].model_id == old
    results = run_stages(ran_project(model=new), ["evaluate"])
    assert results[0].model_id == new
    run_stages(ran_project(model="production"), ["evaluate"])
    code, out = _cli(config, "compare", "production", new, "-f", "csv")
    assert code == 0, out


def test_promote_refuses_and_writes_nothing(ran_project: OptionsFactory) -> None:
    options = ran_project()
    config = options.config_path
    (model,) = [p.name for p in options.models_dir.iterdir()]
    fake = options.models_dir / "randomforestclassifier-000000000000"
    fake.mkdir()  # a directory, but no train stage made it here
    for args, code, message in (
        (["no-such-model"], 3, "model directory"),
        ([fake.name], 3, "has no successful train stage"),
        ([model, "--models-dir", str(options.models_dir.parent / "x")], 3, "not found"),
        (["staging"], 3, "alias 'staging' points at no model"),
        ([model, "--alias", "latest"], 2, "reserved"),
        ([model, "--alias", "prod-1"], 2, "not a valid name"),
    ):
        if "--alias" not in args:
            args = [*args, "--alias", "production"]
        got, out = _cli(config, "promote", *args)
        assert got == code, out
        assert message in out and len(out.strip().splitlines()) == 1, out
    tables = _rows(config, "SELECT table_name FROM information_schema.tables")
    assert ("model_aliases",) not in tables

    code, out = _cli(config, "run", "--stage", "predict", "--model", "nowhere")
    assert code == 3 and "alias 'nowhere' points at no model" in out, out
    code, out = _cli(
        config, "run", "-s", "predict", "--model", model, "--model-dir", str(options.models_dir)
    )
    assert code == 2 and "give one of them" in out, out
    with pytest.raises(ConfigError, match="give one of them"):
        run_stages(ran_project(model=model, model_dir=options.models_dir / model), ["evaluate"])


def test_scoring_model_names_a_model_id_or_is_refused(ran_project: OptionsFactory) -> None:
    options = ran_project()
    config = options.config_path
    (model,) = [p.name for p in options.models_dir.iterdir()]
    text = config.read_text()
    config.write_text(text.replace("[scoring]\n", '[scoring]\nmodel = "no such"\n', 1))
    code, out = _cli(config, "run", "--stage", "predict")
    assert code == 2 and "model" in out and len(out.strip().splitlines()) == 1, out

    # a model id: the view shows that model, fixed
    config.write_text(text.replace("[scoring]\n", f'[scoring]\nmodel = "{model}"\n', 1))
    (result,) = run_stages(ran_project(executor="inprocess"), ["predict"])
    assert result.model_id == model
    assert _view_models(config) == [(model,)]
    view = _rows(config, "SELECT sql FROM duckdb_views() WHERE view_name = 'latest_predictions'")
    assert f"'{model}'" in str(view[0][0])
