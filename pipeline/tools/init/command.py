"""`pipeline init` as the command line gives it: which warehouse to read the table from, and
which [warehouse] section the new config gets."""

from __future__ import annotations

import os
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

from pipeline.config import WarehouseConfig, load_warehouse_section, toml_value
from pipeline.core.errors import ConfigError, WarehouseError
from pipeline.tools.init.project import init_project
from pipeline.warehouse import Warehouse, open_warehouse
from pipeline.warehouse.duckdb import DuckDBWarehouse


def warehouse_section(path: Path, directory: Path) -> tuple[WarehouseConfig, list[str]]:
    """The [warehouse] of a TOML file: as a WarehouseConfig to open, and as the lines the new
    project's config gets (a DuckDB path made relative to the new project)."""
    config = load_warehouse_section(path)
    lines = [f"type = {toml_value(config.type, escape=True)}"]
    for key in ("path", "seed_from"):
        p = getattr(config, key)
        if p is not None:
            relative = os.path.relpath(p, directory.resolve())
            lines.append(f"{key} = {toml_value(relative, escape=True)}")
    lines += [f"{k} = {toml_value(v, escape=True)}" for k, v in config.options.items()]
    return config, lines


def create_project(
    directory: Path,
    *,
    from_table: str | None = None,
    label: str = "label",
    id_column: str | None = None,
    unlabelled: str | None = None,
    warehouse: Path | None = None,
    warehouse_config: Path | None = None,
    sql: Path | None = None,
) -> tuple[Path, list[str]]:
    """The project `pipeline init` makes: its config path, and what init found that the user
    should know, one line each. The table is read from the DuckDB file `warehouse` (default
    DIRECTORY/warehouse.duckdb), or from the warehouse a TOML file's [warehouse] names, whose
    section the new config then copies."""
    if warehouse is not None and warehouse_config is not None:
        raise ConfigError("give --warehouse or --warehouse-config, not both")
    section: str | list[str]
    opened: AbstractContextManager[Warehouse] | None = None
    if warehouse_config is not None:
        wh_config, section = warehouse_section(warehouse_config, directory)
        if from_table:
            opened = open_warehouse(wh_config)
    else:
        db = warehouse or directory / "warehouse.duckdb"
        section = os.path.relpath(db.resolve(), directory.resolve())
        if from_table:
            if not db.exists():
                raise WarehouseError(
                    f"warehouse file {db} does not exist; `pipeline ingest` creates it"
                )
            opened = DuckDBWarehouse(db)
    notes: list[str] = []
    with opened if opened is not None else nullcontext() as wh:
        made = init_project(
            directory,
            sql,
            warehouse=wh,
            notes=notes if wh is not None else None,
            warehouse_path=section,
            from_table=from_table,
            unlabelled=unlabelled,
            id_column=id_column,
            label=label,
        )
    return made, notes
