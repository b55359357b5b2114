"""Writing the project: the directory, its templates, README, config and output schema."""

from __future__ import annotations

import shutil
from pathlib import Path

from pipeline.config import PACKAGED_SQL
from pipeline.core.errors import ConfigError, DataError
from pipeline.core.identifiers import underscored
from pipeline.core.vocabulary import FeatureType, Imputer, Task
from pipeline.render.templates import hash_tree, templates_for
from pipeline.tools.init.ids import find_id
from pipeline.tools.init.keyed import make_keyed
from pipeline.tools.init.names import ROW_NUMBERS
from pipeline.tools.init.profile import check_label
from pipeline.tools.init.propose import Proposal, propose
from pipeline.tools.init.text import AUTO_ID_NOTE, README, config_text
from pipeline.warehouse.base import Warehouse


def output_schema_for(warehouse: Warehouse | None, directory: Path, notes: list[str]) -> str:
    """`pipeline`, unless another project has it already: then a schema named after this
    project's directory, so two projects in one warehouse never overwrite each other's
    tables. The schema is made here, so that a second init before either project has run
    sees it taken too."""
    if warehouse is None:
        return "pipeline"
    candidate = "pipeline"
    if warehouse.schema_exists(candidate):
        plain = underscored(directory.name, "project").lower()
        base = candidate = f"pipeline_{plain}"
        i = 2
        while warehouse.schema_exists(candidate):
            candidate, i = f"{base}_{i}", i + 1
        notes.append(
            "the schema pipeline belongs to another project in this warehouse: this project "
            f"writes to {candidate} (output_schema)"
        )
    warehouse.ensure_schema(candidate)
    return candidate


def _same_templates(a: Path, b: Path) -> bool:
    return hash_tree(a) == hash_tree(b)


def init_project(
    directory: Path,
    sql_source: Path | None = None,
    *,
    warehouse: Warehouse | None = None,
    warehouse_path: str | list[str] = "warehouse.duckdb",
    from_table: str | None = None,
    unlabelled: str | None = None,
    id_column: str | None = "id",
    label: str = "label",
    notes: list[str] | None = None,
) -> Path:
    """Create the project; returns its config path. Refuses a directory that has a config.
    `id_column` None: a column named like an id that is unique and never missing, if the
    table has one (see `find_id`), else as "auto": a row key is made (see `make_keyed`).
    Without `sql_source`, the templates that ship with the package are copied. `notes` gets
    what init found that the user should know (NULL labels, duplicate rows, row numbers, the
    id it chose), one line each."""
    unlabelled_made = False
    sql_source = sql_source or PACKAGED_SQL
    config = directory / "pipeline.toml"
    if config.exists():
        raise ConfigError(f"{config} already exists; choose an empty directory")
    if not sql_source.is_dir():
        raise ConfigError(f"SQL templates {sql_source} not found")
    existing_sql = directory / "sql"
    reuse_sql = existing_sql.exists() and _same_templates(existing_sql, sql_source)
    if existing_sql.exists() and not reuse_sql:
        raise ConfigError(
            f"{existing_sql} already exists and differs from the templates in {sql_source}; "
            "move it away or choose an empty directory"
        )
    keyed = None
    said = notes if notes is not None else []
    if from_table and warehouse is not None:
        templates = templates_for(sql_source, warehouse.dialect)
        # refused before the first write: init leaves no view behind for a table it cannot use
        unlabelled_rows = check_label(warehouse, from_table, label)
        if id_column is None:  # no --id: an id the table has beats a hashed row key
            id_column = find_id(warehouse, templates, from_table, label, unlabelled)
            if id_column is not None:
                said.append(
                    f"id: {id_column!r} (named like an id, unique and never missing); "
                    "pass --id auto for a row key instead, or --id COLUMN"
                )
        keyed = make_keyed(warehouse, templates, from_table, id_column, label)
        labelled = keyed.table
        if unlabelled_rows:
            labelled = f"{from_table}_labelled"
            q = warehouse.dialect.quote
            where = f"{q(keyed.label, dotted=False)} IS {{}}NULL"
            warehouse.execute(
                f"CREATE OR REPLACE VIEW {q(labelled)} AS SELECT * FROM {q(keyed.table)} "
                f"WHERE {where.format('NOT ')}"
            )
            said.append(
                f"{unlabelled_rows:,} rows of {from_table} have no {label!r}: "
                f"{labelled} leaves them out"
            )
            if not unlabelled:
                unlabelled = f"{from_table}_unlabelled"
                warehouse.execute(
                    f"CREATE OR REPLACE VIEW {q(unlabelled)} AS SELECT * FROM {q(keyed.table)} "
                    f"WHERE {where.format('')}"
                )
                said.append(f"  and {unlabelled} holds them, to be scored")
                unlabelled_made = True
        proposal = propose(
            warehouse,
            templates,
            labelled,
            keyed.id_column,
            keyed.label,
            keyed.row_numbers,
            (keyed.hash_column,) if keyed.hash_column else (),
        )
        if unlabelled and not unlabelled_made:
            unkeyed = make_keyed(warehouse, templates, unlabelled, id_column, None)
            unlabelled = unkeyed.table
        id_name, label_name = keyed.id_column, keyed.label
        if not proposal.features:
            why = "; ".join(f"{c} ({reason})" for c, reason in proposal.left_out[:6])
            raise DataError(
                f"no column of {labelled} can be a feature, so a run would have nothing to "
                f"learn from: {why}; add columns, or list [[features]] by hand in a project "
                "made without --from-table"
            )
        if keyed.duplicates:
            said.append(
                f"{keyed.duplicates:,} rows of {from_table} are copies of an earlier row: the "
                f'split is by {keyed.hash_column} ([split] by = "{keyed.hash_column}"), so '
                "copies stay on one side"
            )
        for column, why in proposal.left_out:
            if why.startswith(ROW_NUMBERS):
                said.append(f"{column}: {why}")
    else:
        proposal = Proposal(
            task=Task.binary,
            features=[
                {"column": "feature_1", "type": FeatureType.numeric, "impute": Imputer.median}
            ],
        )
        labelled = from_table or "raw.my_table"
        # no table to make a key view over: the placeholder names a column to fill in
        id_name = "id" if id_column in (None, "auto") else str(id_column)
        label_name = label
    schema = output_schema_for(warehouse, directory, said)
    directory.mkdir(parents=True, exist_ok=True)
    if not reuse_sql:
        shutil.copytree(sql_source, existing_sql)
    (directory / "models").mkdir(exist_ok=True)
    (directory / "models" / ".gitkeep").touch()
    (directory / ".gitignore").write_text(
        "warehouse.duckdb\n*.wal\nruns/\nmodels/*\n!models/.gitkeep\n"
    )
    readme_notes = ""
    if keyed is not None and keyed.auto_id:
        readme_notes = AUTO_ID_NOTE.format(raw=from_table, view=keyed.table, key=keyed.id_column)
    (directory / "README.md").write_text(
        README.format(
            name=directory.name,
            schema=schema,
            notes=readme_notes,
            source=labelled,
            keyed=(
                f", which adds {keyed.id_column} to {from_table}: build on it, not on the raw "
                "table, to keep the key"
                if keyed is not None and keyed.auto_id
                else ""
            ),
        )
    )
    config.write_text(
        config_text(
            warehouse=warehouse_path,
            labelled=labelled,
            unlabelled=unlabelled,
            id_column=id_name,
            label=label_name,
            proposal=proposal,
            schema=schema,
            keyed=keyed,
            raw_table=from_table or "",
        )
    )
    return config
