"""The features init proposes from a profile of the table, and the columns it leaves out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pipeline.core.errors import ConfigError
from pipeline.core.identifiers import is_identifier
from pipeline.core.vocabulary import Encoder, FeatureType, Imputer, Task
from pipeline.render.templates import Templates
from pipeline.tools.init.leakage import find_leakage
from pipeline.tools.init.names import ROW_NUMBERS, WRITTEN, needs_name, own_name
from pipeline.tools.init.profile import (
    MAX_DISTINCT_SHARE,
    find_row_numbers,
    is_numeric,
    require_table,
)
from pipeline.warehouse.base import Warehouse


@dataclass
class Proposal:
    task: Task
    features: list[dict[str, Any]] = field(default_factory=list)
    left_out: list[tuple[str, str]] = field(default_factory=list)  # (column, why)


def propose(
    warehouse: Warehouse,
    templates: Templates,
    table: str,
    id_column: str,
    label: str,
    row_numbers: set[str] | None = None,
    generated: tuple[str, ...] = (),
) -> Proposal:
    """Features from a profile of `table`; `row_numbers`: columns known to number the rows
    (found here when not given); `generated`: columns init's own view adds (the row hash),
    never features."""
    columns = dict(require_table(warehouse, table))
    for needed in (id_column, label):
        if needed not in columns:
            raise ConfigError(f"table {table} has no column {needed!r}; it has {sorted(columns)}")
    sql = templates.render("profile/columns.sql", table=table, columns=list(columns)).sql
    profile = {r["column_name"]: r for r in warehouse.query_arrow(sql).to_pylist()}

    label_distinct = profile[label]["distinct_values"]
    if label_distinct == 2:
        task = Task.binary
    elif not is_numeric(columns[label]) or label_distinct <= 20:
        task = Task.multiclass
    else:
        task = Task.regression

    proposal = Proposal(task=task)
    candidates = []
    if row_numbers is None:
        row_numbers = find_row_numbers(warehouse, table, columns, profile)
    taken = {c for c in columns if is_identifier(c)} | WRITTEN
    for column, sql_type in columns.items():
        if column in (id_column, label, *generated):
            continue
        p = profile[column]
        rows, distinct = p["row_count"] or 1, p["distinct_values"]
        if p["nulls"] == p["row_count"]:
            proposal.left_out.append((column, "all null"))
        elif column in row_numbers:
            proposal.left_out.append(
                (column, f"{ROW_NUMBERS}, one per row; pass --id {column} to use them as the id")
            )
        elif is_numeric(sql_type):
            proposal.features.append(
                {"column": column, "type": FeatureType.numeric, "impute": Imputer.median}
            )
        elif distinct > MAX_DISTINCT_SHARE * rows and distinct > 20:
            proposal.left_out.append((column, f"{distinct} distinct values in {rows} rows"))
        else:
            proposal.features.append(
                {
                    "column": column,
                    "type": FeatureType.categorical,
                    "impute": Imputer.mode,
                    "encode": Encoder.onehot,
                    "min_count": 5,
                }
            )
        if proposal.features and proposal.features[-1]["column"] == column:
            candidates.append(column)
            if needs_name(column):
                # generated tables need plain names, none the pipeline writes itself: the
                # mapping is written into the config
                proposal.features[-1] = {
                    "column": column,
                    "name": own_name(column, taken),
                    **{k: v for k, v in proposal.features[-1].items() if k != "column"},
                }
    leaky = find_leakage(warehouse, templates, table, label, task, columns, profile, candidates)
    if leaky:
        proposal.left_out += [(c, why) for c, why in leaky.items()]
        proposal.features = [f for f in proposal.features if f["column"] not in leaky]
    return proposal
