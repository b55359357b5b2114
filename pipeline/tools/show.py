"""`pipeline show`: what a config resolves to, and what its warehouse's ledger says of it."""

from __future__ import annotations

from pathlib import Path

from pipeline.core.vocabulary import FeatureType, Scaler
from pipeline.stages.ledger import LEDGER_TABLE
from pipeline.stages.project import Project
from pipeline.stages.spec import Table
from pipeline.tools.query import format_result


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
    lines += ["", "latest runs", format_result(recent)]
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
