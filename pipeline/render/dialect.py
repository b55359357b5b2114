"""A SQL dialect as a value: how identifiers are quoted, how values become literals, what the
neutral column types are called and how long a query may be. Templates and the model compiler
render SQL from a `Dialect` alone, with no connection; a warehouse names the one it speaks.

What differs in SQL *text* between engines lives in `sql/macros/` (`adapter.dispatch`); what
differs in *rendering values* lives here; what differs in *engine behaviour* (transactions,
locks) is a capability flag on the warehouse class."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pipeline.core.vocabulary import ColumnType


@dataclass(frozen=True)
class Dialect:
    #: selects `<name>__<macro>` implementations in templates, and sqlglot's parser
    name: str
    #: neutral column types -> this dialect's names
    type_names: dict[ColumnType, str] = field(hash=False)
    #: the character that quotes identifiers
    quote_char: str = '"'
    #: whether string literals treat backslash as an escape character
    backslash_escapes: bool = False
    #: the longest query text the engine accepts, in bytes (None: no documented limit)
    max_query_bytes: int | None = None

    def __str__(self) -> str:
        return self.name

    def quote(self, name: str, dotted: bool = True) -> str:
        """Quote a plain or `schema.table` identifier; the one place identifiers become SQL.
        `dotted=False` quotes a column name that itself holds dots (`sample.yr`) as one part."""
        q = self.quote_char
        parts = name.split(".") if dotted else [name]
        if not all(parts):
            raise ValueError(f"empty part in identifier {name!r}")
        return ".".join(q + p.replace(q, q + q) + q for p in parts)

    def column(self, name: str) -> str:
        """A raw table's column, whose name may hold dots, quoted as one identifier."""
        return self.quote(name, dotted=False)

    def literal(self, value: Any) -> str:
        """Render a Python value as a SQL literal; the one place values are inlined."""
        if value is None:
            return "NULL"
        if isinstance(value, bool):
            return "TRUE" if value else "FALSE"
        if isinstance(value, int):
            return str(value)
        if isinstance(value, float):
            if value != value or value in (float("inf"), float("-inf")):
                raise ValueError(f"cannot inline non-finite number {value!r} into SQL")
            return repr(value)
        text = str(value).replace("\\", "\\\\") if self.backslash_escapes else str(value)
        return "'" + text.replace("'", "''") + "'"

    def type_name(self, neutral: ColumnType | str) -> str:
        return self.type_names[ColumnType(neutral)]


DUCKDB = Dialect(
    name="duckdb",
    type_names={
        ColumnType.string: "VARCHAR",
        ColumnType.int: "BIGINT",
        ColumnType.float: "DOUBLE",
        ColumnType.bool: "BOOLEAN",
        ColumnType.timestamp: "TIMESTAMP",
    },
)

BIGQUERY = Dialect(
    name="bigquery",
    type_names={
        ColumnType.string: "STRING",
        ColumnType.int: "INT64",
        ColumnType.float: "FLOAT64",
        ColumnType.bool: "BOOL",
        ColumnType.timestamp: "TIMESTAMP",
    },
    quote_char="`",
    backslash_escapes=True,
    # BigQuery's quotas page: an unresolved GoogleSQL query is at most 1,024 KB
    max_query_bytes=1024 * 1024,
)
