"""Leakage: a column that predicts the label almost perfectly on its own is left out of the
proposal, with the figure that says so."""

from __future__ import annotations

from typing import Any

from pipeline.core.vocabulary import ColumnType, Task
from pipeline.render.templates import Templates
from pipeline.tools.init.profile import is_numeric
from pipeline.warehouse.base import Warehouse

#: a column that predicts the label alone at least this well is left out as likely leakage
LEAKAGE_THRESHOLD = 0.98
#: a column's values (or its NULLs) are tried as a lookup of the label only if each value (each
#: side) has this many rows on average: fewer, and a perfect lookup can be luck
MIN_ROWS_PER_VALUE = 20


def find_leakage(
    warehouse: Warehouse,
    templates: Templates,
    table: str,
    label: str,
    task: Task,
    columns: dict[str, str],
    profile: dict[str, dict[str, Any]],
    candidates: list[str],
) -> dict[str, str]:
    """Columns that predict the label almost perfectly on their own -> the figure that says so."""
    rows = int(profile[label]["row_count"] or 0)
    numeric = [c for c in candidates if is_numeric(columns[c])]
    context: dict[str, Any] = {
        "table": table,
        "label": label,
        "positive": None,
        "auc": [],
        "value": [],
        "nulls": [],
        "corr": [],
    }
    if task == Task.regression:
        context["corr"] = numeric
    else:
        if task == Task.binary:
            top = warehouse.query_arrow(
                f"SELECT CAST(max({warehouse.dialect.column(label)}) AS "
                f"{warehouse.dialect.type_name(ColumnType.string)}) AS v "
                f"FROM {warehouse.dialect.quote(table)}"
            ).to_pylist()
            context["positive"] = top[0]["v"]
            context["auc"] = numeric
        context["value"] = [
            c for c in candidates if 1 < profile[c]["distinct_values"] * MIN_ROWS_PER_VALUE <= rows
        ]
        # both sides of NULL / not NULL big enough that a perfect split is not luck
        context["nulls"] = [
            c
            for c in candidates
            if MIN_ROWS_PER_VALUE <= profile[c]["nulls"] <= rows - MIN_ROWS_PER_VALUE
        ]
    if not any(context[k] for k in ("auc", "value", "nulls", "corr")):
        return {}
    sql = templates.render("profile/leakage.sql", **context).sql
    flagged: dict[str, str] = {}
    # the plainest evidence first: a NULL pattern, then a ranking, then a lookup of values
    order = {"null": 0, "auc": 1, "corr": 2, "value": 3}
    results = sorted(warehouse.query_arrow(sql).to_pylist(), key=lambda r: order[r["measure"]])
    for r in results:
        value = r["value"]
        if value is None:
            continue
        measure, column = r["measure"], r["column_name"]
        if measure == "auc":
            score, what = max(value, 1 - value), "AUC"
        elif measure == "corr":
            score, what = abs(value), "correlation"
        elif measure == "value":
            score, what = value, "balanced accuracy of its values"
        else:
            score, what = value, "balanced accuracy of its NULLs"
        if score > LEAKAGE_THRESHOLD and column not in flagged:
            flagged[column] = f"predicts the label alone: {what} {score:.3f} \u2014 leakage?"
    return flagged
