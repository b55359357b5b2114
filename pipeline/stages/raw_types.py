"""Raw column types, which train records in model.json (`raw_types`), and type drift: a raw
column whose type family changed since the model was trained is refused, or, with
`[scoring] on_type_change = "cast"`, read through a cast back to the trained type. Train, the
pre-write checks and predict share it."""

from __future__ import annotations

import re

from pipeline.core.errors import DataError, ScoringError
from pipeline.core.vocabulary import ColumnType, OnTypeChange, TypeFamily
from pipeline.features.sql import Spec
from pipeline.model.meta import RawType, RawTypes
from pipeline.stages.project import Project

#: {table: {column: the neutral type to cast it back to}}
Casts = dict[str, dict[str, ColumnType]]

# the neutral family of a warehouse column type (DuckDB and BigQuery names): int, float and
# decimal are one family, numeric, because clean.sql casts every numeric feature to float
_FAMILIES = (
    (TypeFamily.boolean, re.compile(r"^(BOOL|BOOLEAN|LOGICAL)$")),
    (
        TypeFamily.numeric,
        re.compile(
            r"^(U?(TINY|SMALL|BIG|HUGE)?INT(EGER)?(\d+)?|INT64|FLOAT(64|4|8)?|DOUBLE|REAL|"
            r"(BIG)?(NUMERIC|DECIMAL)(\(.*\))?|BIGDECIMAL)$"
        ),
    ),
    (TypeFamily.string, re.compile(r"^(VARCHAR|STRING|TEXT|CHAR|BPCHAR|NVARCHAR)(\(.*\))?$")),
    (TypeFamily.temporal, re.compile(r"^(DATE|TIME|DATETIME|INTERVAL|TIMESTAMP)\b")),
)


def type_family(type_name: str) -> TypeFamily | str:
    """numeric, boolean, string or temporal; any other type is its own family (its name,
    lowercased). int, float and decimal are the same family: a column moving between them
    scores alike."""
    name = type_name.strip().upper()
    for family, pattern in _FAMILIES:
        if pattern.match(name):
            return family
    return name.lower()


def raw_types(project: Project, table: str) -> dict[str, RawType]:
    """Each column's type as the warehouse describes it, and its family."""
    return {c: RawType(t, type_family(t)) for c, t in project.warehouse.describe(table)}


def type_changes(
    project: Project, spec: Spec, trained: RawTypes
) -> list[tuple[str, str, str, str]]:
    """(table, column, trained type, type now) for each column the model reads whose type
    family differs from the one it was trained on."""
    changes = []
    for source in project.raw_sources():
        now = {c.lower(): t for c, t in project.warehouse.describe(source.table)}
        wanted = [spec.id, *(f.column for f in spec.features)]
        for name in wanted:
            was, is_now = trained.get(name), now.get(name.lower())
            if was is None or is_now is None:
                continue
            if type_family(is_now) != was.family:
                changes.append((source.table, name, was.type, is_now))
    return changes


def check_types(
    project: Project, spec: Spec, trained: RawTypes, trained_on: str
) -> tuple[Casts, list[str]]:
    """Refuse (DataError) a raw column whose type family changed since training, or, with
    `[scoring] on_type_change = "cast"`, cast it back to the trained type. Returns the casts,
    {table: {column: neutral type}}, and one note per cast. `trained_on` ends the message:
    "... is not the type BIGINT <trained_on>"."""
    changes = type_changes(project, spec, trained)
    if not changes:
        return {}, []
    policy = project.config.scoring.on_type_change
    if policy != OnTypeChange.cast:
        table, name, was, now = changes[0]
        raise DataError(
            f"table {table}, column {name}: type {now} is not the type {was} {trained_on}"
            f"{f' (and {len(changes) - 1} more)' if len(changes) > 1 else ''}: fix the table, "
            'or set [scoring] on_type_change = "cast" to cast it back'
        )
    casts: Casts = {}
    notes = []
    for table, name, was, now in changes:
        neutral = _NEUTRAL.get(type_family(was), ColumnType.string)
        if neutral == ColumnType.float and re.match(
            r"^U?(TINY|SMALL|BIG|HUGE)?INT|^INT64$", was.upper()
        ):
            neutral = ColumnType.int
        casts.setdefault(table, {})[name] = neutral
        notes.append(
            f"predict: cast {table}.{name} from {now} to {was}, the type {trained_on} "
            '([scoring] on_type_change = "cast")'
        )
    return casts, notes


_NEUTRAL: dict[TypeFamily | str, ColumnType] = {
    TypeFamily.numeric: ColumnType.float,
    TypeFamily.boolean: ColumnType.bool,
    TypeFamily.string: ColumnType.string,
    TypeFamily.temporal: ColumnType.timestamp,
}


def with_casts(sql: str, project: Project, casts: Casts) -> str:
    """Read each raw table through a SELECT that casts the changed columns back to their
    trained type; the model's own SQL is left as it was saved."""
    wh = project.warehouse
    for table, columns in casts.items():
        quoted = wh.dialect.quote(table)
        if f"FROM {quoted}" not in sql:  # a model saved with other templates reads it otherwise
            raise ScoringError(
                f"cannot cast columns of {table} back to their trained types: the model's SQL "
                f"does not read it as FROM {quoted}; fix the table's types instead"
            )
        replaced = ", ".join(
            f"CAST({wh.dialect.quote(c)} AS {wh.dialect.type_name(t)}) AS {wh.dialect.quote(c)}"
            for c, t in sorted(columns.items())
        )
        alias = wh.dialect.quote(table.split(".")[1])
        wrapped = f"(SELECT * REPLACE ({replaced}) FROM {quoted}) AS {alias}"
        sql = sql.replace(f"FROM {quoted}", f"FROM {wrapped}")
    return sql
