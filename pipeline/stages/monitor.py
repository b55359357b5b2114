"""Drift: the training quantile bins frozen at train time, and on every scoring run the scored
rows measured against the model's frozen training statistics (sql/monitor/drift.sql), checked
against [monitor] thresholds and appended to the `drift` table. Shared by train, predict and
evaluate (stage modules never import each other)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pipeline.core.errors import DataError
from pipeline.core.vocabulary import DriftMetric, DriftStatus
from pipeline.features.bins import (
    Bins,
    bin_counts_sql,
    bin_edges_sql,
    bins_from_rows,
    edges_from_rows,
    numeric_columns,
)
from pipeline.features.drift import drift_sql
from pipeline.features.sql import Source
from pipeline.stages.project import Project
from pipeline.stages.raw_types import Casts, with_casts
from pipeline.stages.spec import Table, staging_table

if TYPE_CHECKING:
    from pipeline.model.trained import TrainedModel

DRIFT_TEMPLATE = "monitor/drift.sql"
#: the fail breaches a refusal names in its one line; the rest are counted
MAX_NAMED = 5

log = logging.getLogger("pipeline")


def training_bins(project: Project, bins: int) -> Bins | None:
    """The numeric features' quantile bins over the training split's cleaned values (the
    `clean` table preprocess wrote, before imputation; every row of the split, as the frozen
    statistics, also when [train] sample_rows fits on a sample), edges and shares both in SQL.
    None when the project's templates predate drift (the model is saved without bins)."""
    if not (project.templates.root / "monitor/bin_edges.sql").is_file():
        return None
    wh = project.warehouse
    columns = numeric_columns(project.spec.features)
    relation = wh.dialect.quote(project.require(Table.clean))
    if not columns:
        return Bins(bins, {})
    sql = bin_edges_sql(project.templates, columns, relation, bins).sql
    edges = edges_from_rows(columns, wh.query_arrow(sql).to_pylist())
    sql = bin_counts_sql(project.templates, edges, relation).sql
    return bins_from_rows(bins, edges, wh.query_arrow(sql).to_pylist())


@dataclass
class DriftCheck:
    """One scoring run's drift: the query that makes its rows, the rows, and what the stage
    says about them."""

    sql: str
    hashes: dict[str, str]
    rows: list[dict[str, object]]
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def tell(self, notes: list[str], warnings: list[str] | None) -> None:
        """Add the notes to `notes`, the breaches to `warnings` (without it, to `notes`)."""
        notes += self.notes
        (notes if warnings is None else warnings).extend(self.warnings)


def measure_drift(
    project: Project,
    model: TrainedModel,
    datasets: list[str],
    run_id: str,
    casts: Casts,
    sources: list[Source] | None = None,
    rows_filter: Callable[[str], str] | None = None,
) -> DriftCheck:
    """The drift of the rows `datasets` hold in the raw tables (`sources`, by default the
    project's), cleaned by the model's own SQL, less what `rows_filter` (SQL of cleaned rows
    -> SQL of the rows kept) drops: pass exactly what predict scores. Project
    templates that predate drift (no sql/monitor/) measure nothing, and say so."""
    if not (project.templates.root / DRIFT_TEMPLATE).is_file():
        note = (
            f"predict: {project.templates.root} has no {DRIFT_TEMPLATE} (templates older than "
            "drift): no drift measured; copy sql/monitor/ from the installed package"
        )
        return DriftCheck("", {}, [], notes=[note])
    wh = project.warehouse
    rendered = drift_sql(
        project.templates,
        model.templates(wh.dialect),
        model.spec,
        model.stats,
        model.bins,
        project.raw_sources() if sources is None else sources,
        datasets,
        run_id,
        model.model_id,
        project.config.monitor,
        rows_filter,
    )
    sql = with_casts(rendered.sql, project, casts)
    check = DriftCheck(sql, {rendered.name: rendered.hash}, wh.query_arrow(sql).to_pylist())
    if model.bins is None:
        check.notes.append(
            f"predict: model {model.model_id} has no training bins (saved before drift "
            "existed): drift measures no PSI; retrain to freeze them"
        )
    table = project.table(Table.drift)
    for r in check.rows:
        if r["status"] in (DriftStatus.warn, DriftStatus.fail):
            check.warnings.append(f"predict: drift {_breach(r)} (see {table})")
    few = _few_rows(check.rows)
    if few:
        check.notes.append(
            f"predict: drift: PSI recorded but not judged for {few}: fewer than [monitor] "
            f"min_rows = {project.config.monitor.min_rows} values (status few_rows in {table})"
        )
    return check


def _few_rows(rows: list[dict[str, object]]) -> str:
    """`holdout (180 rows) and test (418 rows)`: the datasets with a PSI not judged."""
    counts = {r["dataset"]: r["row_count"] for r in rows if r["status"] == DriftStatus.few_rows}
    return " and ".join(f"{d} ({n} rows)" for d, n in sorted(counts.items(), key=str))


def _breach(row: dict[str, object]) -> str:
    """`holdout Age psi 0.31 is over the fail threshold 0.25`: one breach, in words."""
    kind = "fail" if row["status"] == DriftStatus.fail else "warn"
    threshold, value, base = row[f"{kind}_threshold"], row["value"], row["baseline"]
    assert isinstance(value, float) and isinstance(base, float), row
    said = f"{row['dataset']} {row['feature']} {row['metric']} {value:.4g}"
    if base:  # the null rate: its change from the training split's is what is judged
        said += f" is {abs(value - base):.4g} from the training split's {base:.4g},"
    else:
        said += " is"
    return f"{said} over the {kind} threshold {threshold}"


def refuse_drift(check: DriftCheck, allow: bool, incremental: bool = False) -> None:
    """A fail threshold exceeded refuses to write predictions, before the first write, unless
    --allow-drift: one line names every breach (the first MAX_NAMED) and the command that
    scores anyway. The warn-level breaches go to the log first: the stage's warnings are
    not printed when it raises."""
    if allow:
        return
    failed = [r for r in check.rows if r["status"] == DriftStatus.fail]
    if not failed:
        return
    for r in check.rows:
        if r["status"] == DriftStatus.warn:
            log.warning("predict: drift %s", _breach(r))
    named = "; ".join(_breach(r) for r in failed[:MAX_NAMED])
    more = f" (and {len(failed) - MAX_NAMED} more)" if len(failed) > MAX_NAMED else ""
    again = "pipeline run --stage predict --allow-drift" + (" --incremental" if incremental else "")
    raise DataError(f"drift: {named}{more}: no predictions written; score anyway with `{again}`")


def write_drift(project: Project, check: DriftCheck, run_id: str) -> None:
    """Append this run's drift rows to `drift` (history is the point: earlier runs stay)."""
    if not check.rows:
        return
    wh = project.warehouse
    # the figures measured before any write, as literals: the scored rows are not read again
    # (with --incremental they are no longer "not yet scored" once appended); past the
    # engine's query size, drift.sql itself, run again
    sql = project.templates.render("monitor/rows.sql", rows=check.rows).sql
    limit = wh.dialect.max_query_bytes
    if limit is not None and len(sql.encode()) > limit:
        sql = check.sql
    staging = project.table(staging_table(Table.drift))
    wh.replace_table(staging, sql)
    wh.replace_rows(project.table(Table.drift), staging, "run_id", run_id)


def latest_drift(project: Project, model_id: str) -> list[dict[str, object]]:
    """The drift rows of `model_id`'s latest scoring run (none when drift was never measured)."""
    table = project.table(Table.drift)
    if not project.warehouse.table_exists(table):
        return []
    if not (project.templates.root / "monitor/latest.sql").is_file():
        return []
    sql = project.templates.render("monitor/latest.sql", table=table, model_id=model_id).sql
    return project.warehouse.query_arrow(sql).to_pylist()


def scored_unseen(
    project: Project, model_id: str, run_id: str, rows: int, incremental: bool
) -> tuple[dict[str, int], list[str]]:
    """Per categorical feature, how many rows of this run had a value the training split never
    had, and the warnings that say so. A run that scored nothing has none. `unseen_categories`
    covers every row the model has in `predictions`: with --incremental that is more than this
    run's, so this run's counts come from its drift rows (unseen_share of the non-NULL values)."""
    if rows == 0:
        return {}, []
    wh, q = project.warehouse, project.warehouse.dialect.quote
    unseen_table = project.table(Table.unseen_categories)
    drift_table = project.table(Table.drift)
    if incremental and wh.table_exists(drift_table):
        measured = wh.query_arrow(
            f"SELECT dataset, feature, metric, value, row_count FROM {q(drift_table)} "
            f"WHERE run_id = {wh.dialect.literal(run_id)} "
            "AND metric IN ('null_rate', 'unseen_share') ORDER BY dataset, feature, metric"
        ).to_pylist()
        got = {(r["dataset"], r["feature"], r["metric"]): r for r in measured}
        counts: dict[str, int] = {}
        for (dataset, feature, metric), r in got.items():  # datasets x features, a few dozen
            if metric != DriftMetric.unseen_share or not r["value"]:
                continue
            nulls = got[(dataset, feature, DriftMetric.null_rate)]["value"] or 0.0
            present = r["row_count"] - nulls * r["row_count"]  # the non-NULL values
            counts[feature] = counts.get(feature, 0) + round(r["value"] * present)
        if measured:
            return counts, [
                f"predict: {n} of this run's {rows} rows had a {f} value the training split "
                f"never had (scored as unknown; {unseen_table} lists the values over every "
                "row the model has scored)"
                for f, n in sorted(counts.items())
                if n
            ]
    unseen = wh.query_arrow(
        f"SELECT feature, sum(row_count) AS n, count(*) AS k FROM {q(unseen_table)} "
        f"WHERE model_id = {wh.dialect.literal(model_id)} GROUP BY feature ORDER BY feature"
    ).to_pylist()
    whose = " this model has scored (this run's and earlier runs')" if incremental else ""
    return {u["feature"]: int(u["n"]) for u in unseen}, [
        f"predict: {u['n']} rows{whose} had {u['k']} {u['feature']} value(s) the training "
        f"split never had (scored as unknown; see {unseen_table})"
        for u in unseen
    ]
