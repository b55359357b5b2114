"""Ad-hoc SQL on the configured warehouse, printed for people or for scripts."""

from __future__ import annotations

import base64
import json
import math
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.config import load_config
from pipeline.core.errors import ConfigError, WarehouseError
from pipeline.core.vocabulary import OutputFormat
from pipeline.warehouse import Warehouse, open_warehouse
from pipeline.warehouse.base import DEFAULT_WAIT
from pipeline.warehouse.lock import exclusive

if TYPE_CHECKING:
    import pyarrow as pa


def open_for_query(
    config_path: Path, warehouse: Path | None, write: bool, wait: float
) -> Warehouse:
    """The warehouse `pipeline sql` runs on: a DuckDB file given by path (no config read, so
    raw tables can be looked at before `pipeline init`), else the config's. Read-only unless
    `write`, so a missing file is an error rather than a new empty warehouse."""
    if warehouse is not None:
        from pipeline.warehouse.duckdb import DuckDBWarehouse

        if not warehouse.is_file():
            # even with --write: a typo must not leave an empty warehouse behind
            raise WarehouseError(f"warehouse file {warehouse} does not exist (check the path)")
        return DuckDBWarehouse(warehouse, read_only=not write, on_demand=True, wait=wait)
    config = load_config(config_path)
    if config.warehouse.path is not None and not config.warehouse.path.exists():
        raise WarehouseError(
            f"warehouse file {config.warehouse.path} (named in {config.path}) does not exist; "
            "`pipeline ingest` creates it (and `pipeline run` from a seed_from file)"
        )
    wh = open_warehouse(config.warehouse, read_only=not write, on_demand=True)
    wh.wait = wait
    return wh


def run_query(
    config_path: Path,
    sql: str,
    warehouse: Path | None = None,
    write: bool = False,
    wait: float = DEFAULT_WAIT,
) -> pa.Table:
    """Run one query; read-only unless `write`. A write takes the run lock, so it cannot land
    in the middle of a `pipeline run`."""
    if not sql.strip():
        raise ConfigError("no SQL statement given")
    with open_for_query(config_path, warehouse, write, wait) as wh:
        if not write:
            wh.check_read_only(sql)
            wh.confine()  # a file on this machine is read with --write only, like one loaded
            return wh.query_arrow(sql)
        with exclusive(wh, config_path, "pipeline sql --write"), wh.writing():
            return _statement_result(sql, wh.query_arrow(sql))


#: the one column of what a statement (CREATE, INSERT...) did, printed as its value alone
DONE_COLUMN = "done"


def _statement_result(sql: str, table: pa.Table) -> pa.Table:
    """DuckDB answers a statement with a `Count` table (0 rows for CREATE VIEW): say `ok`,
    with the rows it changed when it counts them, instead of printing `Count (0 rows)`."""
    import pyarrow as pa

    words = sql.lstrip(" \t\n(").split(None, 1)
    query = not words or words[0].upper() in ("SELECT", "WITH", "FROM", "VALUES", "SHOW")
    if query or table.column_names != ["Count"] or table.num_rows > 1:
        return table
    counted = table.column(0).to_pylist()
    done = f"ok: {counted[0]:,} rows" if counted else "ok"
    return pa.table({DONE_COLUMN: [done]})


def format_result(table: pa.Table, fmt: str = OutputFormat.table, max_rows: int = 100) -> str:
    """A readable table (truncated with a note past max_rows), CSV, or a JSON array."""
    if fmt not in tuple(OutputFormat):
        raise ConfigError(f"unknown format {fmt!r}; formats: {', '.join(OutputFormat)}")
    if fmt == OutputFormat.json:
        rows = [_json_value(row) for row in table.to_pylist()]
        return json.dumps(rows, default=str, indent=2, allow_nan=False)
    if fmt == OutputFormat.jsonl:
        return "\n".join(
            json.dumps(_json_value(row), default=str, allow_nan=False) for row in table.to_pylist()
        )
    if fmt == OutputFormat.table and table.column_names == [DONE_COLUMN]:
        return str(table.column(0)[0])
    df = table.to_pandas()
    if fmt == OutputFormat.csv:
        return str(df.to_csv(index=False)).rstrip("\n")
    if df.empty:
        return " | ".join(table.column_names) + "\n(0 rows)"
    text = str(df.head(max_rows).to_string(index=False, na_rep="NULL"))
    if len(df) > max_rows:
        text += f"\n({len(df):,} rows, first {max_rows} shown; use --format csv for all)"
    return text


def _json_value(value: Any) -> Any:
    """A value as strict JSON takes it: NaN and infinities (which JSON has no word for) as
    null, whole decimals (HUGEINT, DECIMAL(p, 0)) as integers and other decimals as numbers,
    bytes as base64 text; dates and the rest become text through `default=str`."""
    if isinstance(value, dict):
        return {k: _json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Decimal):
        if not value.is_finite():
            return None
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    return value
