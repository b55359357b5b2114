"""The stages' declaration (pipeline/stages/spec.py) and what derives from it: the run order,
the "run X first" messages, the tables a run writes and the README's table of stages."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from pipeline.core.vocabulary import Stage
from pipeline.stages import spec
from pipeline.stages.names import OUTPUT_TABLES
from pipeline.stages.runner import BODIES
from pipeline.stages.spec import (
    DECLARED,
    SPECS,
    STAGES,
    StageSpec,
    Table,
    made_by,
    render_table,
    run_first,
)
from tests.conftest import REPO

STAGE_MODULES = ("preprocess", "train", "predict", "evaluate")


def test_the_run_order_follows_from_what_each_stage_reads() -> None:
    assert (Stage.preprocess, Stage.train, Stage.predict, Stage.evaluate) == STAGES
    assert set(STAGES) == set(Stage) - {Stage.all}


def test_the_order_does_not_depend_on_the_order_of_the_declaration(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(spec, "DECLARED", tuple(reversed(DECLARED)))
    assert spec.run_order() == STAGES


def test_stages_that_read_each_other_have_no_order(monkeypatch: pytest.MonkeyPatch) -> None:
    circular = (
        StageSpec(Stage.preprocess, "", reads=(Table.metrics,), writes=(Table.clean,)),
        StageSpec(Stage.evaluate, "", reads=(Table.clean,), writes=(Table.metrics,)),
    )
    monkeypatch.setattr(spec, "DECLARED", circular)
    with pytest.raises(ValueError, match="read each other"):
        spec.run_order()


def test_every_declared_stage_has_one_body_in_run_order() -> None:
    assert tuple(BODIES) == STAGES


def test_every_table_a_stage_reads_is_made_by_an_earlier_stage() -> None:
    for stage in STAGES:
        for table in SPECS[stage].reads:
            assert STAGES.index(made_by(table)) < STAGES.index(stage), (stage, table)


def test_the_run_first_advice_names_the_stage_that_writes_the_table() -> None:
    assert made_by(Table.features_train) is Stage.preprocess
    assert made_by(Table.predictions) is Stage.predict
    assert run_first(made_by(Table.clean)) == "run `pipeline run --stage preprocess` first"
    with pytest.raises(ValueError, match="no stage"):
        made_by(Table.runs)  # every stage writes rows of the ledger: the caller says whose


def test_the_tables_checked_against_the_inputs_are_the_declared_ones() -> None:
    assert OUTPUT_TABLES == (
        "clean",
        "feature_stats",
        "features_train",
        "features_holdout",
        "features_test",
        "cv_results",
        "cv_results__staging",
        "predictions",
        "predictions__staging",
        "unseen_categories",
        "unseen_categories__staging",
        "drift",
        "drift__staging",
        "latest_predictions",
        "metrics",
        "metrics__staging",
        "curves",
        "curves__staging",
        "confusion",
        "confusion__staging",
        "feature_importance",
        "feature_importance__staging",
    )


def test_the_readme_shows_the_declared_stages() -> None:
    """README.md, "What happens, stage by stage", holds the table `python -m
    pipeline.stages.spec` prints: regenerate it from there when this fails."""
    readme = (REPO / "README.md").read_text()
    section = readme.split("## What happens, stage by stage", 1)[1].split("\n## ", 1)[0]
    assert render_table() in section


def _stage_imports(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
    return modules


@pytest.mark.parametrize("stage", STAGE_MODULES)
def test_stages_do_not_import_each_other(stage: str) -> None:
    """What stages share lives in stages/common.py, estimator.py and spec.py."""
    imported = _stage_imports(REPO / "pipeline" / "stages" / f"{stage}.py")
    others = {f"pipeline.stages.{s}" for s in STAGE_MODULES if s != stage}
    assert not imported & others
