"""`pipeline show`: what a config resolves to, and what its warehouse's ledger says of it."""

from __future__ import annotations

import math
from pathlib import Path

from pipeline.config.schema import Config
from pipeline.core.vocabulary import FeatureType, Scaler, Search
from pipeline.stages.aliases import LATEST, alias_history, alias_target, is_model_id
from pipeline.stages.ledger import LEDGER_TABLE, latest_model_id
from pipeline.stages.project import Project
from pipeline.stages.spec import Table
from pipeline.stages.tune import tune_metric
from pipeline.tools.query import format_result

#: [monitor] thresholds in the order show lists them: <name>_warn and <name>_fail
THRESHOLDS = ("psi", "shift", "null_rate", "unseen")


def _settings(c: Config) -> list[str]:
    """[train], [tune] and [monitor] in a line each: what a nightly run does beyond the fit."""
    t = c.train
    rows = f"{t.sample_rows:,}" if t.sample_rows is not None else "all"
    lines = [f"train      sample rows {rows}, threads {t.threads or 'all cores'}"]
    if c.tune is None:
        lines.append("tune       off (no [tune] section)")
    else:
        keys = ", ".join(sorted(c.tune.grid))
        total = math.prod(len(v) for v in c.tune.grid.values())
        if c.tune.search == Search.random:
            tried = f"random search: {min(c.tune.candidates or total, total)} of {total}"
            search = f"{tried} candidates (seed {c.tune.seed})"
        else:
            search = f"grid search: {total} candidates"
        lines.append(
            f"tune       {search} over {keys}; {c.tune.folds} folds, "
            f"metric {tune_metric(c.tune, c.task)}"
        )
    m = c.monitor
    levels = []
    for level in ("warn", "fail"):
        set_ = [(n, getattr(m, f"{n}_{level}")) for n in THRESHOLDS]
        shown = ", ".join(f"{n} {v:g}" for n, v in set_ if v is not None)
        levels.append(f"{level} {shown or 'none'}")
    lines.append(f"monitor    bins {m.bins}; {'; '.join(levels)}")
    return lines


def _scoring_model(project: Project) -> str:
    """[scoring] model and the model id it means now (an alias: its newest promotion)."""
    name = project.config.scoring.model
    if is_model_id(name):
        return f"           model {name} (a model id)"
    if name == LATEST:
        target, why = latest_model_id(project), "the newest trained"
        missing = "no model trained yet"
    else:
        target, why = alias_target(project, name), "alias"
        missing = f"not promoted yet: pipeline promote MODEL --alias {name}"
    if target is None:
        return f"           model {name} ({missing})"
    return f"           model {name} -> {target} ({why})"


def _aliases(project: Project) -> list[str]:
    """Each alias and the model it points at now (table model_aliases, when there is one)."""
    import pyarrow as pa

    if not project.warehouse.table_exists(project.table(Table.model_aliases)):
        return ["", "aliases    none yet: pipeline promote MODEL --alias production"]
    history = alias_history(project).to_pylist()  # oldest first, by alias: a few rows
    current = {r["alias"]: r for r in history}  # the last row of an alias is its newest
    table = pa.Table.from_pylist(
        [
            {
                "alias": a,
                "model_id": r["to_model"],
                "since": r["promoted_at"],
                "by": r["promoted_by"],
            }
            for a, r in current.items()
        ]
    )
    return ["", "aliases", format_result(table)]


def describe_project(project: Project, runs: int = 5) -> str:
    c = project.config
    wh = project.warehouse
    where = c.warehouse.path if c.warehouse.path else c.warehouse.options
    lines = [
        f"config     {c.path}",
        f"warehouse  {c.warehouse.type} {where}",
        f"sql        {c.sql_dir}",
        f"tables     labelled {c.labelled_table}, unlabelled {c.unlabelled_table or '(none)'}, "
        f"output schema {c.output_schema}",
        f"columns    id {c.id_column}, label {c.label_column}, task {c.task}",
        f"split      {c.split.holdout_fraction:g} holdout, salt {c.split.salt!r}, by "
        f"{c.split.by or c.id_column}",
        f"model      {c.model.estimator} {c.model.params}",
        f"scoring    executor {c.scoring.executor}, workers {c.scoring.workers or 'one per core'}, "
        f"batch rows {c.scoring.batch_rows:,}"
        + (f", scheduler {c.scoring.scheduler}" if c.scoring.scheduler else ""),
        _scoring_model(project),
        *_settings(c),
        "",
        "features",
    ]
    for f in c.features:
        how = [f"impute {f.impute}"]
        if f.fill_value is not None:
            how.append(f"fill {f.fill_value!r}")
        if f.missing_indicator:
            how.append("+ missing indicator")
        if f.type == FeatureType.categorical:
            how.append(f"encode {f.encode}")
            if f.min_count:
                how.append(f"rare below {f.min_count}")
        else:
            if f.scale != Scaler.none:
                how.append(f"scale {f.scale}")
            if f.clip:
                how.append(f"clip {f.clip}")
        lines.append(f"  {f.column:<20} {f.type:<12} {', '.join(how)}")

    ledger = project.table(LEDGER_TABLE)
    if not wh.table_exists(ledger):
        lines += ["", "no runs yet: pipeline run --config " + str(c.path)]
        return "\n".join(lines)
    recent = wh.query_arrow(
        project.templates.render("ledger/recent_runs.sql", table=ledger, limit=runs).sql
    )
    lines += ["", "latest runs", format_result(recent), *_aliases(project)]
    metrics = project.table(Table.metrics)
    if wh.table_exists(metrics):
        sql = (
            f"SELECT model_id, metric, value FROM {wh.dialect.quote(metrics)} "
            "WHERE slice = 'all' AND metric <> 'rows' ORDER BY model_id, metric"
        )
        lines += ["", "holdout metrics", format_result(wh.query_arrow(sql))]
    return "\n".join(lines)


def show_from_path(config_path: Path) -> str:
    with Project.open(config_path, read_only=True) as project:
        return describe_project(project)
