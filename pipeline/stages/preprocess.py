"""preprocess: raw tables -> clean -> feature_stats (train split only) -> features_*. SQL only."""

from __future__ import annotations

from pipeline.core.errors import DataError
from pipeline.core.vocabulary import Dataset
from pipeline.features.plan import feature_names, plan
from pipeline.features.sql import clean_sql, features_sql, fit_stats_sql
from pipeline.features.stats import Stats
from pipeline.stages.base import RunOptions
from pipeline.stages.common import read_stats
from pipeline.stages.contracts import enforce
from pipeline.stages.ledger import StageResult
from pipeline.stages.names import check_feature_columns
from pipeline.stages.project import Project
from pipeline.stages.spec import Table, features_table


def preprocess_from_data(project: Project, run_id: str, result: StageResult) -> Stats:
    """Build every preprocess table in the warehouse; returns the frozen statistics."""
    wh, t, spec = project.warehouse, project.templates, project.spec
    project.check_raw_columns()
    result.details["contracts"] = enforce(project, spec, project.raw_sources()).summary()
    wh.ensure_schema(project.config.output_schema)

    clean_table = project.table(Table.clean)
    clean = clean_sql(t, spec, project.raw_sources(), with_label=True)
    result.rows_in = wh.replace_table(clean_table, clean.sql)
    counts = {
        r["dataset"]: r["n"]
        for r in wh.query_arrow(
            f"SELECT dataset, count(*) AS n FROM {wh.dialect.quote(clean_table)} GROUP BY dataset"
        ).to_pylist()
    }
    if not counts.get(Dataset.train):
        held = counts.get(Dataset.holdout, 0)
        raise DataError(
            f"the training split of {project.config.labelled_table} is empty "
            f"({held} {'row' if held == 1 else 'rows'} went to holdout)"
        )

    stats_rendered = fit_stats_sql(t, spec, wh.dialect.quote(clean_table), run_id)
    wh.replace_table(project.table(Table.feature_stats), stats_rendered.sql)
    stats = read_stats(project)
    plans = plan(spec.features, stats)
    check_feature_columns(project.config.path, spec.id, spec.label, feature_names(plans))

    hashes = {clean.name: clean.hash, stats_rendered.name: stats_rendered.hash}
    datasets = project.datasets()
    for dataset in datasets:
        rendered = features_sql(
            t,
            spec,
            plans,
            wh.dialect.quote(clean_table),
            [dataset],
            with_label=dataset != Dataset.test,
        )
        n = wh.replace_table(project.table(features_table(dataset)), rendered.sql)
        hashes[f"{rendered.name}:{dataset}"] = rendered.hash
        result.details[dataset] = n
        result.rows_out += n
    result.sql_hashes = hashes
    result.messages.append(
        "preprocess: "
        + ", ".join(f"{d} {result.details[d]}" for d in datasets)
        + f" rows (from {result.rows_in} raw rows)"
    )
    return stats


def run_preprocess(project: Project, options: RunOptions, result: StageResult) -> None:
    preprocess_from_data(project, options.run_id, result)
