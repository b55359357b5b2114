"""Choose a warehouse from the config. Implementations are imported lazily, so a DuckDB user
never imports a cloud client.

The warehouses: one interface (`base.Warehouse`) with the mechanics every engine shares as
template methods and what an engine can do as class flags (`supports_transactions`,
`reads_files_locally`); `text` for the one-line errors and name checks; DuckDB (`duckdb`, with
`duckdb_file` holding the file and `duckdb_reading` the SQL over data files) and BigQuery
(`bigquery`, with `bigquery_read` for how results come back) implementations; and the run lock
(`lock`).

May import: `pipeline.core`, `pipeline.config`, `pipeline.render` (for the dialects).
"""

from __future__ import annotations

import importlib

from pipeline.config import WarehouseConfig
from pipeline.core.errors import ConfigError
from pipeline.warehouse.base import Warehouse

# type in the config -> "module:Class"; an unknown type fails loudly with the known ones
REGISTRY: dict[str, str] = {
    "duckdb": "pipeline.warehouse.duckdb:DuckDBWarehouse",
    "bigquery": "pipeline.warehouse.bigquery:BigQueryWarehouse",
}


def open_warehouse(
    config: WarehouseConfig, read_only: bool = False, on_demand: bool = False
) -> Warehouse:
    """Open the configured warehouse (for DuckDB, seeding the file from the example if absent,
    unless `read_only`). `on_demand`: hold it only around reads and writes, as a run does."""
    if config.type not in REGISTRY:
        raise ConfigError(
            f"warehouse type {config.type!r} is not known; known types: {', '.join(REGISTRY)}"
        )
    module_name, class_name = REGISTRY[config.type].split(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    warehouse: Warehouse = cls.from_config(config, read_only=read_only, on_demand=on_demand)
    return warehouse


__all__ = ["REGISTRY", "Warehouse", "open_warehouse"]
