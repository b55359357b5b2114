"""The whole of pipeline.toml as one model, and the JSON Schema editors check it with."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from pydantic import ConfigDict, Field, PrivateAttr, ValidationInfo, model_validator

from pipeline.config.connections import WarehouseConfig
from pipeline.config.feature import FeatureConfig
from pipeline.config.sections import (
    ColumnsConfig,
    ContractRules,
    EvaluateConfig,
    ExplainConfig,
    ModelConfig,
    MonitorConfig,
    ScoringConfig,
    Section,
    SplitConfig,
    TablesConfig,
    TrainConfig,
    TuneConfig,
)
from pipeline.config.values import PACKAGED_SQL, ColumnName, ConfigPath
from pipeline.core.identifiers import check_identifier
from pipeline.core.vocabulary import Task


class Config(Section):
    """A project's pipeline.toml."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        title="pipeline.toml",
        json_schema_extra={"$schema": "https://json-schema.org/draft/2020-12/schema"},
    )

    sql_dir: ConfigPath = Field(
        default=Path("sql"),
        validate_default=True,
        description="the SQL templates; default: sql/ beside this file, else the packaged ones",
    )
    warehouse: WarehouseConfig
    tables: TablesConfig
    columns: ColumnsConfig
    split: SplitConfig
    features: tuple[FeatureConfig, ...] = Field(min_length=1)
    model: ModelConfig
    train: TrainConfig = TrainConfig()
    scoring: ScoringConfig = ScoringConfig()
    evaluate: EvaluateConfig = EvaluateConfig()
    explain: ExplainConfig = ExplainConfig()
    tune: TuneConfig | None = None
    monitor: MonitorConfig = MonitorConfig()
    contract_rules: dict[ColumnName, ContractRules] = Field(
        default_factory=dict, alias="contract", description="rules per raw column"
    )

    _path: Path = PrivateAttr(Path("pipeline.toml"))
    _raw: dict[str, Any] = PrivateAttr(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _packaged_templates(cls, data: Any, info: ValidationInfo) -> Any:
        """No sql_dir and no sql/ beside the config: the templates the package carries."""
        base = (info.context or {}).get("base")
        given = not isinstance(data, dict) or "sql_dir" in data or base is None
        if not given and not (Path(str(base)) / "sql").is_dir():
            data = {**data, "sql_dir": str(PACKAGED_SQL)}
        return data

    @model_validator(mode="after")
    def _features_are_distinct(self) -> Config:
        seen: set[str] = set()
        for f in self.features:
            if f.column in seen:
                raise ValueError(f"[[features]] {f.column!r} is listed twice")
            if f.column in (self.columns.id, self.columns.label):
                raise ValueError(f"[[features]] {f.column!r} is also the id or label column")
            seen.add(f.column)
        return self

    # the flat names the rest of the code reads
    @property
    def path(self) -> Path:
        return self._path

    @property
    def raw(self) -> dict[str, Any]:
        return self._raw

    @property
    def labelled_table(self) -> str:
        return self.tables.labelled

    @property
    def unlabelled_table(self) -> str | None:
        return self.tables.unlabelled

    @property
    def output_schema(self) -> str:
        return self.tables.output_schema

    @property
    def id_column(self) -> str:
        return self.columns.id

    @property
    def label_column(self) -> str:
        return self.columns.label

    @property
    def task(self) -> Task:
        return self.columns.task

    @property
    def contract(self) -> dict[str, dict[str, Any]]:
        """[contract.<column>] rules as plain dicts, only the rules given."""
        return {
            column: rules.model_dump(mode="json", exclude_none=True)
            for column, rules in self.contract_rules.items()
        }

    def table(self, name: str) -> str:
        """The fully qualified name of a table this pipeline writes."""
        return f"{self.output_schema}.{check_identifier(name, 'table')}"

    @property
    def hash(self) -> str:
        """Content hash of the whole config; recorded in the ledger and the model directory."""
        text = json.dumps(self.raw, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()


def config_schema() -> dict[str, Any]:
    """The JSON Schema of pipeline.toml, for editors (taplo, Even Better TOML)."""
    return Config.model_json_schema(by_alias=True)
