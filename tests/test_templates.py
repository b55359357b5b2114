"""Every template renders, parses as the dialect's SQL, and fails with its file and line."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import sqlglot

from pipeline.config import load_config
from pipeline.core.errors import TemplateError
from pipeline.evaluation.metrics import METRIC_TEMPLATES, Judged, render_curves, render_metrics
from pipeline.features.folds import folds_sql
from pipeline.features.plan import plan
from pipeline.features.sql import (
    Source,
    Spec,
    clean_sql,
    features_sql,
    fit_stats_sql,
    unseen_sql,
)
from pipeline.features.stats import Stats, stats_from_rows
from pipeline.render.templates import Templates
from pipeline.stages.contracts import Rule
from pipeline.stages.evaluate import render_confusion, render_residuals
from pipeline.warehouse.duckdb import DuckDBWarehouse
from tests.conftest import REPO

STATS_ROWS = (
    [
        {"feature": f, "stat": s, "category": None, "value": 1.5}
        for f in ("Pclass", "Age", "SibSp", "Parch", "Fare")
        for s in ("mean", "median", "std", "min", "max", "mode")
    ]
    + [{"feature": "Sex", "stat": "count", "category": c, "value": 3.0} for c in ("male", "female")]
    + [
        {"feature": "Sex", "stat": "mode", "category": "male", "value": 3.0},
        {"feature": "Embarked", "stat": "count", "category": "O'Brien", "value": 2.0},
        {"feature": "Embarked", "stat": "mode", "category": "O'Brien", "value": 2.0},
    ]
)


RULES = [
    Rule(column, kind, values, limit).as_context()
    for column, kind, values, limit in [
        ("PassengerId", "not_null", (), None),
        ("PassengerId", "unique", (), None),
        ("Survived", "accepted", (0, 1), None),
        ("Sex", "accepted", ("male", "female"), None),
        ("Age", "min", (), 0.0),
        ("Age", "max", (), 120.0),
        ("Fare", "numeric", (), None),
        ("Fare", "finite", (), None),
        ("Pclass", "whole", (), None),
        ("Age", "not_all_null", (), None),
        ("Survived", "distinct_at_most", (), 2.0),
    ]
]


def rendered_templates(wh: DuckDBWarehouse) -> dict[str, str]:
    config = load_config(REPO / "pipeline.toml")
    spec = Spec(config.id_column, config.label_column, config.features, 0.2, "s")
    t = Templates(REPO / "sql", wh.dialect)
    plans = plan(spec.features, stats_from_rows(STATS_ROWS))
    sources = [Source("raw.a", True, "train"), Source("raw.b", False, "test")]
    row = dict.fromkeys(
        (
            "run_id",
            "stage",
            "status",
            "sql_hashes",
            "model_id",
            "config_hash",
            "git_commit",
            "error",
            "checks",
            "details",
        ),
        "x",
    ) | {
        "started_at": "2026-01-01 00:00:00",
        "ended_at": "2026-01-01 00:00:01",
        "rows_in": 1,
        "rows_out": 2,
    }
    judged = Judged("p.predictions", "p.clean", "m", "holdout", "PassengerId", "Survived", 1, "r")
    metrics = {
        METRIC_TEMPLATES[task]: render_metrics(
            t, task, judged, raw="raw.a", slices=("Pclass", "Sex"), threshold=0.4
        ).sql
        for task in METRIC_TEMPLATES
    }
    return {
        "preprocess/clean.sql": clean_sql(t, spec, sources, True).sql,
        "preprocess/fit_stats.sql": fit_stats_sql(t, spec, '"p"."clean"', "r").sql,
        "preprocess/features.sql": features_sql(t, spec, plans, '"p"."clean"', ["train"], True).sql,
        "preprocess/unseen.sql": unseen_sql(t, spec, plans, sources, ["test"], "r", "m").sql,
        **metrics,
        "ledger/create.sql": t.render("ledger/create.sql", table="p.runs").sql,
        "ledger/record.sql": t.render("ledger/record.sql", table="p.runs", row=row).sql,
        "ledger/latest_model.sql": t.render("ledger/latest_model.sql", table="p.runs").sql,
        "ledger/trained_in_run.sql": t.render(
            "ledger/trained_in_run.sql", table="p.runs", run_id="r"
        ).sql,
        "evaluate/unjudged.sql": t.render(
            "evaluate/unjudged.sql",
            predictions="p.predictions",
            labels="p.clean",
            model_id="m",
            dataset="holdout",
            id="PassengerId",
        ).sql,
        "ledger/evaluated_models.sql": t.render(
            "ledger/evaluated_models.sql", table="p.runs", limit=2
        ).sql,
        "evaluate/curves.sql": render_curves(t, judged, bins=10).sql,
        "evaluate/confusion.sql": render_confusion(t, judged).sql,
        "evaluate/residuals.sql": render_residuals(t, judged, points=100, bins=20).sql,
        "ledger/recent_runs.sql": t.render("ledger/recent_runs.sql", table="p.runs", limit=5).sql,
        "profile/columns.sql": t.render(
            "profile/columns.sql", table="raw.a", columns=["Age", "Sex"]
        ).sql,
        "profile/keyed.sql": t.render(
            "profile/keyed.sql",
            view="raw.a_keyed",
            table="raw.a",
            columns=["Age", "sample.yr", "churn flag"],
            key="row_key",
            hash="row_hash",
            renames={"churn flag": "churn_flag"},
        ).sql,
        "profile/leakage.sql": t.render(
            "profile/leakage.sql",
            table="raw.a",
            label="Survived",
            positive="1",
            auc=["Age"],
            value=["Sex"],
            nulls=["Age"],
            corr=["Fare"],
        ).sql,
        "contracts/check.sql": t.render(
            "contracts/check.sql", table="raw.a", id="PassengerId", rules=RULES
        ).sql,
        "contracts/sample.sql": t.render(
            "contracts/sample.sql", table="raw.a", id="PassengerId", rule=RULES[3], n=5
        ).sql,
        "evaluate/compare.sql": t.render(
            "evaluate/compare.sql", metrics="p.metrics", a="m-1", b="m-2", dataset="holdout"
        ).sql,
        "synthetic/titanic.sql": t.render(
            "synthetic/titanic.sql", rows=10, first_id=1, seed="s", labelled=True
        ).sql,
        "predict/in_warehouse.sql": _in_warehouse(t, wh),
        "predict/unscored.sql": t.render(
            "predict/unscored.sql",
            rows="SELECT 1 AS PassengerId, 'test' AS dataset",
            predictions="p.predictions",
            model_id="m-1",
            id="PassengerId",
        ).sql,
        "aliases/create.sql": t.render("aliases/create.sql", table="p.model_aliases").sql,
        "aliases/promote.sql": t.render(
            "aliases/promote.sql",
            table="p.model_aliases",
            row=dict.fromkeys(("alias", "model_id", "promoted_by", "run_id"), "x")
            | {"previous_model_id": None, "note": "it's", "promoted_at": "2026-01-01 00:00:00"},
        ).sql,
        "aliases/target.sql": t.render(
            "aliases/target.sql", aliases="p.model_aliases", alias="production"
        ).sql,
        "aliases/history.sql": t.render(
            "aliases/history.sql", table="p.model_aliases", alias="production"
        ).sql,
        "aliases/trained.sql": t.render("aliases/trained.sql", table="p.runs", model_id="m-1").sql,
        "aliases/latest_predictions.sql": t.render(
            "aliases/latest_predictions.sql",
            view="p.latest_predictions",
            predictions="p.predictions",
            model_id=None,
            alias="production",
            aliases="p.model_aliases",
            ledger="p.runs",
        ).sql,
        "explain/sample.sql": t.render(
            "explain/sample.sql",
            relation='"p"."clean"',
            id="PassengerId",
            seed=0,
            max_rows=100,
            holdout="holdout",
        ).sql,
        "explain/permuted.sql": t.render(
            "explain/permuted.sql",
            sample="p.sample",
            id="PassengerId",
            label="Survived",
            columns=["Age", "Sex"],
            feature="Sex",
            repeats=2,
            seed=0,
        ).sql,
        "explain/importance.sql": t.render(
            "explain/importance.sql",
            run_id="r",
            model_id="m",
            rows=[
                {"kind": "permutation", "feature": "Age", "metric": "roc_auc", "repeats": 5}
                | {"holdout_rows": 9, "baseline": 0.75, "mean": 0.1, "std": 0.02},
                {"kind": "model", "feature": "Sex__male", "metric": "abs_coef", "repeats": None}
                | {"holdout_rows": None, "baseline": None, "mean": 1.5, "std": None},
            ],
        ).sql,
        "tune/folds.sql": folds_sql(t, "p.clean", "PassengerId", 5, 100, "s").sql,
        "tune/cv_results.sql": t.render(
            "tune/cv_results.sql",
            run_id="r",
            model_id="m",
            metric="roc_auc",
            folds=2,
            rows=[
                {
                    "candidate": c,
                    "params": '{"C": 1}',
                    "mean": m,
                    "std": m,
                    "rank": c + 1,
                    "fold_scores": "[0.5, null]",
                }
                for c, m in ((0, 0.75), (1, None))
            ],
        ).sql,
        **_monitor(t, spec, sources),
    }


def _monitor(t: Templates, spec: Spec, sources: list[Source]) -> dict[str, str]:
    """The drift templates, with bins, thresholds and an O'Brien category."""
    from pipeline.features.bins import bin_counts_sql, bin_edges_sql, bins_from_rows
    from pipeline.features.drift import drift_sql

    edges = {"Age": [20.0, 30.5], "Fare": [], "Pclass": [1.0, 2.0]}
    counts = [{"feature": "Age", "bin": i, "n": 2} for i in range(3)]
    bins = bins_from_rows(10, edges, [*counts, {"feature": "Pclass", "bin": 0, "n": 1}])
    stats = stats_from_rows(STATS_ROWS)
    stats = Stats({**stats.features, "Fare": replace(stats["Fare"], std=0.0)})
    return {
        "monitor/bin_edges.sql": bin_edges_sql(t, ["Age", "Fare"], '"p"."clean"', 10).sql,
        "monitor/bin_counts.sql": bin_counts_sql(t, edges, '"p"."clean"').sql,
        "monitor/drift.sql": drift_sql(t, t, spec, stats, bins, sources, ["test"], "r", "m").sql,
        "monitor/latest.sql": t.render("monitor/latest.sql", table="p.drift", model_id="m").sql,
        "monitor/rows.sql": t.render(
            "monitor/rows.sql",
            rows=[
                {"run_id": "r", "model_id": "m", "dataset": "test", "feature": "Age"}
                | {"metric": "psi", "value": 0.1, "baseline": 0.0, "row_count": 9}
                | {"warn_threshold": 0.1, "fail_threshold": None, "status": "few_rows"},
                {"run_id": "r", "model_id": "m", "dataset": "test", "feature": "Sex"}
                | {"metric": "null_rate", "value": None, "baseline": 1e-300, "row_count": 0}
                | {"warn_threshold": None, "fail_threshold": 0.5, "status": "unmeasured"},
            ],
        ).sql,
    }


def _in_warehouse(t: Templates, wh: DuckDBWarehouse) -> str:
    """A small multiclass boosting model compiled to SQL: trees, sums, softmax and argmax."""
    import numpy as np
    from sklearn.ensemble import HistGradientBoostingClassifier

    from pipeline.render.compile import compile_estimator, scoring_query

    rng = np.random.default_rng(0)
    X = rng.normal(size=(90, 2))  # X: (n_rows, n_features)
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5)  # three classes
    model = HistGradientBoostingClassifier(max_iter=3, random_state=0).fit(X, y)
    compiled = compile_estimator(model, ["Age", "Fare"], wh.dialect)
    return scoring_query(t, compiled, "SELECT * FROM raw.a", "PassengerId", "BIGINT", "r", "m").sql


TEMPLATE_FILES = sorted(
    p.relative_to(REPO / "sql").as_posix()
    for p in (REPO / "sql").rglob("*.sql")
    if not p.relative_to(REPO / "sql").as_posix().startswith("macros/")
    and not p.name.startswith("_")  # partials, included by the templates that use them
)


def test_every_template_file_is_rendered_here() -> None:
    with DuckDBWarehouse.in_memory() as wh:
        assert sorted(rendered_templates(wh)) == TEMPLATE_FILES, (
            "a new template needs a case in rendered_templates()"
        )


@pytest.mark.parametrize("name", TEMPLATE_FILES)
def test_rendered_sql_parses_as_duckdb(name: str) -> None:
    with DuckDBWarehouse.in_memory() as wh:
        sql = rendered_templates(wh)[name]
    assert sqlglot.parse_one(sql, read="duckdb") is not None


def test_string_literals_are_escaped() -> None:
    with DuckDBWarehouse.in_memory() as wh:
        sql = rendered_templates(wh)["preprocess/features.sql"]
        assert "'O''Brien'" in sql
        assert '"Embarked__O_Brien"' in sql


def test_same_render_same_hash() -> None:
    with DuckDBWarehouse.in_memory() as wh:
        assert rendered_templates(wh) == rendered_templates(wh)
        t = Templates(REPO / "sql", wh.dialect)
        a = t.render("ledger/create.sql", table="p.runs")
        b = t.render("ledger/create.sql", table="p.other")
        assert a.hash != b.hash and len(a.hash) == 64


def test_undefined_variable_names_the_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "macros").mkdir()
    (tmp_path / "broken.sql").write_text("SELECT 1\nFROM {{ no_such_table }}\n")
    with DuckDBWarehouse.in_memory() as wh, pytest.raises(TemplateError) as err:
        Templates(tmp_path, wh.dialect).render("broken.sql")
    assert "broken.sql, line 2" in str(err.value) and "no_such_table" in str(err.value)


def test_syntax_error_names_the_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "bad.sql").write_text("SELECT 1\n\n{% if %}\n")
    with DuckDBWarehouse.in_memory() as wh, pytest.raises(TemplateError, match=r"bad\.sql, line 3"):
        Templates(tmp_path, wh.dialect).render("bad.sql")


def test_dispatch_prefers_the_dialect_macro(tmp_path: Path) -> None:
    (tmp_path / "macros").mkdir()
    (tmp_path / "macros" / "m.sql").write_text(
        "{% macro default__pick() %}default{% endmacro %}"
        "{% macro duckdb__pick() %}duckdb{% endmacro %}"
        "{% macro default__other() %}fallback{% endmacro %}"
    )
    (tmp_path / "q.sql").write_text(
        "{{ adapter.dispatch('pick')() }} {{ adapter.dispatch('other')() }}"
    )
    (tmp_path / "missing.sql").write_text("{{ adapter.dispatch('nope')() }}")
    with DuckDBWarehouse.in_memory() as wh:
        t = Templates(tmp_path, wh.dialect)
        assert t.render("q.sql").sql.strip() == "duckdb fallback"
        with pytest.raises(TemplateError, match="no macro duckdb__nope or default__nope"):
            t.render("missing.sql")


def test_compiled_templates_are_shared_but_each_file_speaks_for_itself(tmp_path: Path) -> None:
    """Two directories with the same template share one compilation; a differing copy renders
    its own text, and an error names the file that failed, not the one compiled first."""
    from pipeline.render.dialect import DUCKDB

    dirs = []
    for name, text in (("a", "SELECT {{ n.x }}"), ("b", "SELECT {{ n.x }}"), ("c", "X")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "q.sql").write_text(text)
        dirs.append(Templates(tmp_path / name, DUCKDB))
    one = {"x": 1}
    assert dirs[0].render("q.sql", n=one).sql == dirs[1].render("q.sql", n=one).sql == "SELECT 1\n"
    assert dirs[2].render("q.sql").sql == "X\n"
    for t in dirs[:2]:
        with pytest.raises(TemplateError) as failed:
            t.render("q.sql", n=0)  # 0 has no attribute x: an error inside the template
        assert str(t.root / "q.sql") in str(failed.value)
