"""What a new user's trial of the nightly features found: predict and evaluate name the model
they used (and warn when it is not the one the run trained), advice to run predict first keeps
`--model`, evaluate says which scored holdout rows it could not judge, `pipeline aliases` on no
promotions is an empty listing, and options no stage of the run uses are named."""

from __future__ import annotations

import logging

import duckdb
import pytest
from typer.testing import CliRunner

from pipeline.core.errors import MissingInputError
from pipeline.core.vocabulary import Stage
from pipeline.stages.aliases import promote_from_path
from pipeline.stages.checks import unused_options
from pipeline.stages.runner import run_stages
from tests.conftest import OptionsFactory
from tests.test_aliases import _cli, _rows

runner = CliRunner()


def test_a_run_scoring_an_alias_names_it_and_the_model_it_trained(
    ran_project: OptionsFactory,
) -> None:
    options = ran_project()
    config = options.config_path
    (old,) = [p.name for p in options.models_dir.iterdir()]
    assert promote_from_path(config, None, "latest", "production") is not None
    text = config.read_text().replace("n_estimators = 25", "n_estimators = 5")
    config.write_text(text.replace("[scoring]\n", '[scoring]\nmodel = "production"\n', 1))

    train, predict, evaluate = run_stages(
        ran_project(executor="inprocess"), ["train", "predict", "evaluate"]
    )
    new = train.model_id
    assert new is not None and new != old and predict.model_id == evaluate.model_id == old
    (scored,) = [m for m in predict.messages if "rows scored" in m]
    assert scored.startswith(f"predict: model {old} (alias production): ")
    (evaluated,) = [m for m in evaluate.messages if ": holdout (" in m]
    assert evaluated.startswith(f"evaluate: model {old} (alias production): holdout (")
    assert [w for w in predict.warnings if "trained in this run" in w] == [
        f"predict: used model {old} (alias production), not model {new} trained in this run: "
        f"`pipeline promote {new} --alias production` makes production point at it"
    ]

    # the new model was never scored: the advice names it, as the run that scores it must
    with pytest.raises(MissingInputError) as err:
        run_stages(ran_project(model=new), ["evaluate"])
    assert f"run `pipeline run --stage predict --model {new}` first" in str(err.value)
    code, out = _cli(config, "run", "--stage", "evaluate", "--model", new)
    assert code == 3 and f"--stage predict --model {new}` first" in out, out

    # a model id named: the line names the model only
    (result,) = run_stages(ran_project(model=old), ["evaluate"])
    assert result.messages[0].startswith(f"evaluate: model {old}: holdout (")

    # a named alias never promoted is refused; one promoted lists its history
    code, out = _cli(config, "aliases", "--alias", "staging")
    assert code == 3 and "alias 'staging' was never promoted" in out, out
    code, out = _cli(config, "aliases", "--alias", "production", "-f", "csv")
    assert code == 0 and len(out.splitlines()) == 2, out


def test_no_promotions_is_an_empty_history(ran_project: OptionsFactory) -> None:
    config = ran_project().config_path
    code, out = _cli(config, "aliases", "-f", "csv")
    assert code == 0, out
    assert out.splitlines() == ["alias,from_model,to_model,promoted_at,promoted_by,note,run_id"]
    code, out = _cli(config, "aliases", "--alias", "production")
    assert code == 3 and "alias 'production' was never promoted" in out, out
    tables = _rows(config, "SELECT table_name FROM information_schema.tables")
    assert ("model_aliases",) not in tables  # reading wrote nothing


def test_no_predictions_table_advice_keeps_the_model(ran_project: OptionsFactory) -> None:
    options = ran_project()
    (model,) = [p.name for p in options.models_dir.iterdir()]
    con = duckdb.connect(str(options.config_path.parent / "warehouse.duckdb"))
    try:
        con.execute("DROP TABLE pipeline.predictions")
    finally:
        con.close()
    with pytest.raises(MissingInputError, match=f"--stage predict --model {model}` first"):
        run_stages(ran_project(model=model), ["evaluate"])
    with pytest.raises(MissingInputError, match="run `pipeline run --stage predict` first"):
        run_stages(ran_project(), ["evaluate"])


def test_evaluate_names_scored_holdout_rows_clean_lacks(ran_project: OptionsFactory) -> None:
    config = ran_project().config_path
    con = duckdb.connect(str(config.parent / "warehouse.duckdb"))
    try:  # labelled rows that arrive after the last preprocess, under new ids
        con.execute(
            "INSERT INTO raw.titanic_train SELECT * REPLACE (PassengerId + 1000000 AS "
            "PassengerId) FROM raw.titanic_train"
        )
    finally:
        con.close()
    run_stages(ran_project(executor="inprocess", incremental=True), ["predict"])
    (model,) = _rows(config, "SELECT DISTINCT model_id FROM pipeline.predictions")
    ((n,),) = _rows(
        config,
        "SELECT count(*) FROM pipeline.predictions WHERE dataset = 'holdout' "
        "AND PassengerId > 1000000",
    )
    assert n > 0
    (result,) = run_stages(ran_project(), ["evaluate"])
    assert [w for w in result.warnings if "pipeline.clean" in w] == [
        f"evaluate: {n} holdout predictions of model {model[0]} have no row in pipeline.clean "
        "(labelled rows scored after the last preprocess) and are not evaluated: run "
        "`pipeline run --stage preprocess` first to bring them in (rows already there keep "
        "their side of the split)"
    ]
    # a preprocess brings them in: evaluated, no note
    run_stages(ran_project(), ["preprocess"])
    (result,) = run_stages(ran_project(), ["evaluate"])
    assert not [w for w in result.warnings if "pipeline.clean" in w]
    ((holdout,),) = _rows(
        config,
        f"SELECT count(*) FROM pipeline.predictions WHERE model_id = '{model[0]}' "
        "AND dataset = 'holdout'",
    )
    assert result.rows_in == holdout


def test_options_no_stage_uses_are_named(
    ran_project: OptionsFactory, caplog: pytest.LogCaptureFixture
) -> None:
    train = [Stage.train]
    assert unused_options(ran_project(), train) is None
    assert unused_options(ran_project(incremental=True), train) == (
        "run: --incremental (for predict) does nothing for the stages run (train)"
    )
    assert unused_options(ran_project(model="x", keep_parts=True), [Stage.preprocess]) == (
        "run: --model (for predict, evaluate), --keep-parts (for predict) do nothing for the "
        "stages run (preprocess)"
    )
    assert unused_options(ran_project(model="x", allow_drift=True), [Stage.evaluate]) == (
        "run: --allow-drift (for predict) does nothing for the stages run (evaluate)"
    )
    assert unused_options(ran_project(incremental=True, keep_parts=True), train) == (
        "run: --incremental, --keep-parts (for predict) do nothing for the stages run (train)"
    )
    assert unused_options(ran_project(incremental=True), [Stage.train, Stage.predict]) is None
    with caplog.at_level(logging.WARNING, logger="pipeline"):
        run_stages(ran_project(keep_parts=True), ["evaluate"])
    assert "run: --keep-parts (for predict) does nothing for the stages run (evaluate)" in (
        caplog.text
    )
