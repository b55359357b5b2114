"""Typed project configuration, loaded from TOML and validated before any SQL runs.

The file's shape is one pydantic model (`Config`): every section refuses keys it does not know,
values keep the types TOML gave them (no "4" for 4), and any mistake becomes one line naming the
file, the section and the key. The same model publishes the JSON Schema editors validate with
(`pipeline config-schema`).

Relative paths inside the file are resolved against the file's own directory, so a project
directory moves as one piece and the working directory never changes what a run reads.

Modules: `values` (each key's type and check), `sections`, `connections` ([warehouse]) and
`feature` ([[features]]) (the section models), `schema` (the whole file), `messages` (a
mistake as one line), `load` (reading a file), `toml` (values written as TOML).

May import: `pipeline.core`.
"""

from pipeline.config.connections import BigQueryConnection, DuckDBConnection, WarehouseConfig
from pipeline.config.feature import FeatureConfig
from pipeline.config.load import load_config, load_warehouse_section
from pipeline.config.schema import Config, config_schema
from pipeline.config.sections import (
    ColumnsConfig,
    ContractRules,
    EvaluateConfig,
    ModelConfig,
    MonitorConfig,
    ScoringConfig,
    SplitConfig,
    TablesConfig,
    TrainConfig,
)
from pipeline.config.toml import toml_value
from pipeline.config.values import PACKAGED_SQL
from pipeline.core.identifiers import check_column_name, check_identifier, check_table_name

__all__ = [
    "PACKAGED_SQL",
    "BigQueryConnection",
    "ColumnsConfig",
    "Config",
    "ContractRules",
    "DuckDBConnection",
    "EvaluateConfig",
    "FeatureConfig",
    "ModelConfig",
    "MonitorConfig",
    "ScoringConfig",
    "SplitConfig",
    "TablesConfig",
    "TrainConfig",
    "WarehouseConfig",
    "check_column_name",
    "check_identifier",
    "check_table_name",
    "config_schema",
    "load_config",
    "load_warehouse_section",
    "toml_value",
]
