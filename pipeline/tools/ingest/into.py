"""`pipeline ingest` as the command line gives it: which warehouse to load into, made if it is
a DuckDB file that does not exist yet, and removed again if that first load fails."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager, suppress
from pathlib import Path

from pipeline.config import DuckDBConnection, load_config, load_warehouse_section
from pipeline.core.errors import ConfigError
from pipeline.tools.ingest.load import Ingested, ingest
from pipeline.warehouse import Warehouse, open_warehouse
from pipeline.warehouse.duckdb import DuckDBWarehouse
from pipeline.warehouse.lock import exclusive


def ingest_into(
    pattern: str,
    table: str,
    *,
    config: Path,
    replace: bool = False,
    warehouse: Path | None = None,
    warehouse_config: Path | None = None,
    nulls: Sequence[str] | None = None,
    encoding: str = "utf-8",
    decimal: str = ".",
    append: bool = False,
) -> Ingested:
    """Load files into the DuckDB file `warehouse`, or the warehouse a TOML file's [warehouse]
    names, or the config's; never during a run (the run lock is taken). A DuckDB file the load
    made is removed when the load fails, so a failed first ingest leaves nothing behind."""
    if warehouse is not None and warehouse_config is not None:
        raise ConfigError("give --warehouse or --warehouse-config, not both")
    opened: AbstractContextManager[Warehouse]
    db: Path | None = warehouse  # the DuckDB file loaded into, if it is one
    if warehouse is None:
        if warehouse_config is not None:
            wh_config = load_warehouse_section(warehouse_config)
        else:
            wh_config = load_config(config).warehouse
        db = wh_config.path if isinstance(wh_config, DuckDBConnection) else None  # a local file
    made = db if db is not None and not db.exists() else None  # removed if this fails
    made_parent = db is not None and not db.parent.exists()
    if warehouse is not None:
        warehouse.parent.mkdir(parents=True, exist_ok=True)
        opened = DuckDBWarehouse(warehouse, on_demand=True, create=True)
    elif db is not None:
        db.parent.mkdir(parents=True, exist_ok=True)
        opened = DuckDBWarehouse.from_config(wh_config, on_demand=True, create=True)
    else:
        opened = open_warehouse(wh_config, on_demand=True)
    try:
        with opened as wh, exclusive(wh, config, "pipeline ingest"):  # not during a run
            return ingest(wh, pattern, table, replace, nulls, encoding, decimal, append)
    except BaseException:
        if made is not None:  # a failed first ingest leaves no empty warehouse behind
            for leftover in (made, made.with_name(made.name + ".wal")):
                leftover.unlink(missing_ok=True)
            if made_parent:
                with suppress(OSError):
                    made.parent.rmdir()
        raise


def summary(done: Ingested) -> list[str]:
    """What a load did, as the lines `pipeline ingest` prints: the rows, the notes, and each
    column's type with the missing-value tokens it held."""
    head = f"{done.table}: {done.rows:,} rows from {len(done.files)} file(s)"
    if done.total is not None:
        head = (
            f"{done.table}: {done.rows:,} rows appended from {len(done.files)} file(s); "
            f"{done.total:,} rows now"
        )
    lines = [head, *done.notes]
    for name, sql_type in done.columns:
        met = done.nulls.get(name, {})
        read = ", ".join(f"{t or repr('')} x{n:,}" for t, n in met.items())
        lines.append(f"  {name:<24} {sql_type}" + (f"  (missing: {read})" if read else ""))
    return lines
