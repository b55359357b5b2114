"""The keyed view: a table without a plain id (or label) gets a view over it that adds a row
key and gives those columns plain names."""

from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.core.errors import ConfigError
from pipeline.core.identifiers import is_identifier, plain_name
from pipeline.render.templates import Templates
from pipeline.tools.init.names import AUTO_ID, ROW_HASH, WRITTEN, needs_name, own_name
from pipeline.tools.init.profile import find_row_numbers, require_table
from pipeline.warehouse.base import Warehouse


@dataclass
class Keyed:
    """The table init profiles: the raw table itself, or a view over it (`<table>_keyed`) that
    adds a row key and gives plain names to the id and label."""

    table: str
    id_column: str
    label: str
    auto_id: bool = False
    renames: dict[str, str] = field(default_factory=dict)  # raw name -> plain name
    hash_column: str | None = None  # with auto_id: the row hash, shared by identical rows
    duplicates: int = 0  # rows identical to an earlier row (with auto_id)
    row_numbers: set[str] = field(default_factory=set)  # columns that number the rows


def make_keyed(
    warehouse: Warehouse,
    templates: Templates,
    table: str,
    id_column: str | None,
    label: str | None,
) -> Keyed:
    """The table to build the project on: `table` itself when it has a plain id (and label),
    else a view `<table>_keyed` made here. `id_column` None or "auto": a row key is made."""
    columns = [c for c, _ in require_table(warehouse, table)]
    auto = id_column in (None, "auto")
    wanted = [] if auto else [id_column]
    if label is not None:
        wanted.append(label)
    for needed in wanted:
        if needed not in columns:
            raise ConfigError(f"table {table} has no column {needed!r}; it has {columns}")
    taken = {c for c in columns if is_identifier(c)}
    taken |= WRITTEN
    renames = {c: own_name(c, taken) for c in wanted if c and needs_name(c)}
    key = plain_name(AUTO_ID, taken) if auto else None
    row_hash = plain_name(ROW_HASH, taken) if auto else None
    profile_sql = templates.render("profile/columns.sql", table=table, columns=columns).sql
    profile = {r["column_name"]: r for r in warehouse.query_arrow(profile_sql).to_pylist()}
    numbers = find_row_numbers(warehouse, table, dict(require_table(warehouse, table)), profile)
    if not auto and not renames:
        return Keyed(table, str(id_column), str(label), row_numbers=numbers)
    view = f"{table}_keyed"
    # R's and pandas' row numbers differ between copies of a row: not part of its hash
    hashed = [c for c in columns if c not in numbers] or columns
    sql = templates.render(
        "profile/keyed.sql",
        hashed=hashed,
        view=view,
        table=table,
        columns=columns,
        key=key,
        hash=row_hash,
        renames=renames,
    ).sql
    warehouse.execute(sql)
    duplicates = 0
    if row_hash:
        h = warehouse.dialect.quote(row_hash, dotted=False)
        found = warehouse.query_arrow(
            f"SELECT count(*) - count(DISTINCT {h}) AS n FROM {warehouse.dialect.quote(view)}"
        ).to_pylist()
        duplicates = int(found[0]["n"] or 0)
    return Keyed(
        table=view,
        id_column=key or renames.get(str(id_column), str(id_column)),
        label=renames.get(str(label), str(label)),
        auto_id=auto,
        renames=renames,
        hash_column=row_hash,
        duplicates=duplicates,
        row_numbers={renames.get(c, c) for c in numbers},
    )
