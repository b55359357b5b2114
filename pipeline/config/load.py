"""Reading pipeline.toml (or the [warehouse] of any TOML file): parse, validate, and turn a
mistake into one line."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from pipeline.config.connections import WarehouseConfig
from pipeline.config.messages import one_line
from pipeline.config.schema import Config
from pipeline.config.sections import Section
from pipeline.core.errors import ConfigError

M = TypeVar("M", bound=BaseModel)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc


class _WarehouseOnly(Section):
    """The [warehouse] section of a file that may hold anything else."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    warehouse: WarehouseConfig


def _validated(model: type[M], path: Path, what: str) -> tuple[M, dict[str, Any]]:
    """`model` checked from the TOML file at `path` (relative paths resolved against its
    directory), and the file's raw content; any mistake is one line naming the file."""
    if not path.is_file():
        raise ConfigError(f"{what} {path} not found")
    raw = _read_toml(path)
    try:
        return model.model_validate(raw, context={"base": path.resolve().parent}), raw
    except ValidationError as exc:
        raise one_line(exc, path, raw) from None


def load_warehouse_section(path: Path | str) -> WarehouseConfig:
    """[warehouse] of any TOML file (`pipeline init --warehouse-config`), checked as in a
    project config, paths resolved against that file."""
    found, _ = _validated(_WarehouseOnly, Path(path), "--warehouse-config")
    return found.warehouse


def load_config(path: Path | str) -> Config:
    """Read and validate a project config; every name is checked before any SQL is rendered."""
    path = Path(path)
    config, raw = _validated(Config, path, "config file")
    config._path = path.resolve()
    config._raw = raw
    if config.model.signing_key is not None:
        from pipeline.core.keys import read_key

        read_key(config.model.signing_key)  # a missing or bad key fails before the first write
    return config
