"""An opened project: its config, its warehouse and its templates, for the path layer."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

from pipeline.config import Config, load_config
from pipeline.core.errors import ConfigError, DataError, MissingInputError, WarehouseError
from pipeline.core.vocabulary import Dataset, Stage
from pipeline.features.sql import Source, Spec
from pipeline.render.templates import Templates, templates_for
from pipeline.stages.spec import Table, made_by, run_first
from pipeline.warehouse import Warehouse, open_warehouse
from pipeline.warehouse.lock import exclusive


@dataclass
class Project:
    config: Config
    warehouse: Warehouse
    templates: Templates

    @classmethod
    @contextmanager
    def open(
        cls, config_path: Path | str, read_only: bool = False, on_demand: bool = False
    ) -> Iterator[Project]:
        """`read_only`: never writes nor creates the warehouse (show, compare). `on_demand`:
        the warehouse is held only around reads and writes, as a run needs."""
        config = load_config(config_path)
        with open_warehouse(config.warehouse, read_only=read_only, on_demand=on_demand) as wh:
            yield cls(
                config=config, warehouse=wh, templates=templates_for(config.sql_dir, wh.dialect)
            )

    def exclusive_run(self, run_id: str) -> AbstractContextManager[None]:
        """One run at a time: a second one fails at once, naming this one."""
        return exclusive(self.warehouse, self.config.path, f"run {run_id}")

    @property
    def spec(self) -> Spec:
        c = self.config
        return Spec(
            id=c.id_column,
            label=c.label_column,
            features=c.features,
            holdout_fraction=c.split.holdout_fraction,
            salt=c.split.salt,
            split_by=c.split.by,
        )

    def raw_sources(self) -> list[Source]:
        c = self.config
        sources = [Source(c.labelled_table, True, Dataset.train)]
        if c.unlabelled_table is not None:
            sources.append(Source(c.unlabelled_table, False, Dataset.test))
        return sources

    def datasets(self) -> list[Dataset]:
        """The splits this project has: train and holdout, and test when rows are unlabelled."""
        return [Dataset.train, Dataset.holdout] + (
            [Dataset.test] if self.config.unlabelled_table else []
        )

    def table(self, name: str) -> str:
        return self.config.table(name)

    def require(self, table: Table, rows_of: Stage | None = None, flags: str = "") -> str:
        """The table's qualified name, or a MissingInputError that says which stage makes it:
        the one declared to write it, or `rows_of`, the stage whose rows are wanted (every
        stage writes rows of the ledger); `flags`: the options it needs (`--model NAME`)."""
        name = self.table(table)
        if not self.warehouse.table_exists(name):
            stage = rows_of or made_by(table)
            raise MissingInputError(
                f"table {name} not found in the warehouse: {run_first(stage, flags)}"
            )
        return name

    def check_raw_columns(self, spec: Spec | None = None, named_by: str = "") -> None:
        """Every column the spec (by default the config's) reads exists in the raw tables,
        before any SQL runs on them."""
        c = self.config
        spec = spec or self.spec
        named_by = named_by or f"named in {c.path}"
        for source in self.raw_sources():
            try:
                exists = self.warehouse.table_exists(source.table)
                columns = self.warehouse.describe(source.table) if exists else []
            except WarehouseError as exc:  # a view whose query no longer binds, say
                raise DataError(
                    f"table {source.table} (named in {c.path}) cannot be read: {exc}"
                ) from exc
            if not exists:
                raise ConfigError(
                    f"raw table {source.table} (named in {c.path}) not found in the warehouse"
                )
            present = {name for name, _ in columns}
            wanted = [spec.id, *(f.source or f.column for f in spec.features)]
            if source.labelled:
                wanted.append(spec.label)
                if spec.split_by:
                    wanted.append(spec.split_by)
            missing = [w for w in wanted if w not in present]
            if missing:
                raise ConfigError(
                    f"table {source.table} has no column {', '.join(map(repr, missing))} "
                    f"({named_by}); it has {', '.join(sorted(present))}"
                )
