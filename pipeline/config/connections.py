"""[warehouse]: one model per engine, chosen by `type`."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, StrictBool, StrictInt, StrictStr

from pipeline.config.sections import Section
from pipeline.config.values import ConfigPath, NonEmpty, number
from pipeline.core.vocabulary import ReadApi


class _Connection(Section):
    @property
    def options(self) -> dict[str, Any]:
        """The engine's own settings, as the warehouse class takes them."""
        skip = {"type", "path", "seed_from"}
        return {k: v for k, v in self.model_dump().items() if k not in skip and v is not None}


class DuckDBConnection(_Connection):
    """The embedded default: one DuckDB file."""

    type: Literal["duckdb"]
    path: ConfigPath
    seed_from: ConfigPath | None = Field(
        default=None, description="copied to `path` by the first run when `path` does not exist yet"
    )
    memory_limit: StrictStr | None = Field(default=None, description='DuckDB setting, e.g. "4GB"')
    threads: StrictInt | None = Field(default=None, ge=1, description="DuckDB setting")


class BigQueryConnection(_Connection):
    """A BigQuery project; schemas in the templates are its datasets."""

    type: Literal["bigquery"]
    project: NonEmpty
    location: StrictStr | None = Field(default=None, description='default "US"')
    endpoint: StrictStr | None = Field(
        default=None, description="another API endpoint (an emulator)"
    )
    anonymous: StrictBool | None = Field(default=None, description="no credentials (an emulator)")
    timeout: Annotated[float, Field(gt=0), BeforeValidator(number)] | None = Field(
        default=None, description="seconds per job; default 300"
    )
    read_api: ReadApi | None = Field(
        default=None,
        description='"auto" (default: the Storage Read API where its package is installed and '
        'its endpoint known, else REST), "storage" or "rest"',
    )
    storage_endpoint: StrictStr | None = Field(
        default=None, description="host:port of the Storage Read API with `endpoint` (an emulator)"
    )

    @property
    def path(self) -> None:
        return None

    @property
    def seed_from(self) -> None:
        return None


WarehouseConfig = Annotated[DuckDBConnection | BigQueryConnection, Field(discriminator="type")]
