"""An id column the table already has: without `--id`, init takes a column that is named like
an id (`House ID`, `customer_id`, `OrderNo`), holds whole numbers or text, and is unique and
never missing, rather than hashing a row key. A unique float is a measurement, not an id."""

from __future__ import annotations

import re
from typing import Any

from pipeline.render.templates import Templates
from pipeline.tools.init.profile import is_numeric, require_table
from pipeline.warehouse.base import Warehouse

#: the last word of an id's name, once case, spaces and punctuation are set aside
ID_WORDS = ("id", "key", "no", "nr", "num", "number", "uuid", "guid")


def name_words(column: str) -> list[str]:
    """A column name's words, lower case: `House ID`, `house_id`, `HouseId` -> house, id."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", column)  # camelCase and OrderNo
    spaced = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", spaced)  # HTTPId -> HTTP Id
    return [w for w in re.split(r"[^0-9a-zA-Z]+", spaced.lower()) if w]


def looks_like_id(column: str) -> bool:
    words = name_words(column)
    return bool(words) and words[-1] in ID_WORDS


def _can_be_id(sql_type: str, p: dict[str, Any]) -> bool:
    rows = int(p["row_count"] or 0)
    whole_or_text = not is_numeric(sql_type) or "INT" in sql_type.upper()
    return rows > 1 and int(p["nulls"] or 0) == 0 and p["distinct_values"] == rows and whole_or_text


def find_id(
    warehouse: Warehouse,
    templates: Templates,
    table: str,
    label: str | None,
    also_in: str | None = None,
) -> str | None:
    """The first column of `table` (and of `also_in`, the rows to score, if given) named like an
    id, whole numbers or text, unique and never missing in `table`; None if there is none."""
    columns = dict(require_table(warehouse, table))
    named = [c for c in columns if c != label and looks_like_id(c) and "__" not in c]
    if also_in is not None and named:
        theirs = {c for c, _ in require_table(warehouse, also_in)}
        named = [c for c in named if c in theirs]
    if not named:
        return None
    sql = templates.render("profile/columns.sql", table=table, columns=named).sql
    profile = {r["column_name"]: r for r in warehouse.query_arrow(sql).to_pylist()}
    return next((c for c in named if _can_be_id(columns[c], profile[c])), None)
