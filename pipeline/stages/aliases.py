"""Model aliases: a name (production, staging) that points at a model id, so a nightly job
scores "production" and a promotion, not a config edit, decides what that is. Every promotion
is a row appended to `model_aliases` (who, when, from which model to which); an alias points
at its newest row, so rolling back is promoting the previous model again.

`latest` is reserved: the newest model trained, as when no model is named. Model ids are
`<estimator>-<hash>` (they hold a `-`), aliases are plain identifiers, so a name is never both.
Shared by the stages (the model to score, the `latest_predictions` view) and the CLI."""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.core.errors import ConfigError, MissingInputError
from pipeline.core.identifiers import is_identifier
from pipeline.stages.ledger import LEDGER_TABLE, latest_model_id, new_run_id
from pipeline.stages.project import Project
from pipeline.stages.spec import Table, model_made_by, run_first

if TYPE_CHECKING:
    import pyarrow as pa

#: the name that always means the newest model trained (the view: the newest scored)
LATEST = "latest"


@dataclass(frozen=True)
class Promotion:
    """One row of `model_aliases`."""

    alias: str
    model_id: str
    previous_model_id: str | None
    promoted_at: str
    promoted_by: str
    run_id: str
    note: str | None


def is_model_id(name: str) -> bool:
    """Model ids are `<estimator>-<hash>`; an alias is an identifier, so it has no `-`."""
    return "-" in name


def check_alias(name: str) -> str:
    """An alias is a plain identifier and not the reserved `latest`."""
    if not is_identifier(name):
        raise ConfigError(
            f"alias {name!r} is not a valid name (letters, digits and _; not starting with a digit)"
        )
    if name.lower() == LATEST:
        raise ConfigError(
            f"alias {name!r} is reserved: it always means the newest model trained; choose "
            "another name, e.g. production"
        )
    return name


def alias_target(project: Project, alias: str) -> str | None:
    """The model id `alias` points at now; None when it was never promoted."""
    wh = project.warehouse
    table = project.table(Table.model_aliases)
    with wh.reading():
        if not wh.table_exists(table):
            return None
        sql = project.templates.render("aliases/target.sql", aliases=table, alias=alias).sql
        rows = wh.query_arrow(sql).to_pylist()
    return str(rows[0]["model_id"]) if rows else None


def model_id_named(project: Project, name: str) -> str:
    """The model id `name` means: `latest` (the newest trained), a model id (as it is), or an
    alias (its newest promotion); MissingInputError when there is none."""
    if name == LATEST:
        model_id = latest_model_id(project)
        if model_id is None:
            raise MissingInputError(f"no trained model found: {run_first(model_made_by())}")
        return model_id
    if is_model_id(name):
        return name
    target = alias_target(project, check_alias(name))
    if target is None:
        raise MissingInputError(
            f"alias {name!r} points at no model in {project.table(Table.model_aliases)}: "
            f"promote one first with `pipeline promote MODEL --alias {name}`"
        )
    return target


def check_trained(project: Project, models_dir: Path, model_id: str) -> None:
    """A model to promote was trained into this warehouse and its directory is there."""
    if not (models_dir / model_id).is_dir():
        raise MissingInputError(
            f"model directory {models_dir / model_id} not found: nothing to promote"
        )
    wh = project.warehouse
    ledger = project.table(LEDGER_TABLE)
    with wh.reading():
        found = (
            wh.table_exists(ledger)
            and wh.query_arrow(
                project.templates.render("aliases/trained.sql", table=ledger, model_id=model_id).sql
            ).to_pylist()[0]["n"]
        )
    if not found:
        raise MissingInputError(
            f"model {model_id} has no successful train stage in {ledger}: it was not trained "
            "into this warehouse"
        )


def promote(
    project: Project, models_dir: Path, name: str, alias: str, note: str | None = None
) -> Promotion | None:
    """Point `alias` at the model `name` means (an id, another alias or `latest`) by appending
    one row to `model_aliases`, and refresh `latest_predictions`. Refused, with nothing
    written, for a bad alias or a model not trained here. None: the alias already points
    there (nothing written)."""
    check_alias(alias)
    model_id = model_id_named(project, name)
    check_trained(project, models_dir, model_id)
    previous = alias_target(project, alias)
    if previous == model_id:
        return None
    row = Promotion(
        alias=alias,
        model_id=model_id,
        previous_model_id=previous,
        promoted_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f"),
        promoted_by=getpass.getuser(),
        run_id=new_run_id(),
        note=note,
    )
    wh, t = project.warehouse, project.templates
    table = project.table(Table.model_aliases)
    with wh.writing(), wh.transaction():
        wh.ensure_schema(project.config.output_schema)
        wh.execute(t.render("aliases/create.sql", table=table).sql)
        wh.execute(t.render("aliases/promote.sql", table=table, row=vars(row)).sql)
        if wh.table_exists(project.table(Table.predictions)):
            refresh_latest_predictions(project)
    return row


def alias_history(project: Project, alias: str | None = None) -> pa.Table:
    """Every promotion (of one alias), oldest first: none yet is an empty history. A named
    alias never promoted is refused (MissingInputError), as `--model` refuses it, so a
    misspelt name is not mistaken for an alias with no history."""
    if alias is not None:
        check_alias(alias)
    wh, t = project.warehouse, project.templates
    table = project.table(Table.model_aliases)
    with wh.reading():
        # no table yet: the history's columns and no rows
        source = table if wh.table_exists(table) else None
        history = wh.query_arrow(t.render("aliases/history.sql", table=source, alias=alias).sql)
    if alias is not None and history.num_rows == 0:
        raise MissingInputError(
            f"alias {alias!r} was never promoted in {table}: "
            f"`pipeline promote MODEL --alias {alias}` first"
        )
    return history


def refresh_latest_predictions(project: Project) -> None:
    """(Re)create the `latest_predictions` view for [scoring] model: a model id is fixed, an
    alias and `latest` are looked up whenever the view is read. Call it holding the warehouse
    for writing; the tables the view reads are made first when missing, so it always binds."""
    wh, t = project.warehouse, project.templates
    name = project.config.scoring.model
    aliases, ledger = project.table(Table.model_aliases), project.table(LEDGER_TABLE)
    model_id = name if is_model_id(name) else None
    alias = None if model_id or name == LATEST else check_alias(name)
    if alias:
        wh.execute(t.render("aliases/create.sql", table=aliases).sql)
    elif model_id is None:
        wh.execute(t.render("ledger/create.sql", table=ledger).sql)
    sql = t.render(
        "aliases/latest_predictions.sql",
        view=project.table(Table.latest_predictions),
        predictions=project.table(Table.predictions),
        model_id=model_id,
        alias=alias,
        aliases=aliases,
        ledger=ledger,
    ).sql
    wh.execute(sql)


def promote_from_path(
    config_path: Path, models_dir: Path | None, name: str, alias: str, note: str | None = None
) -> Promotion | None:
    """`pipeline promote`: under the run lock, so it never interleaves with a run."""
    with Project.open(config_path, on_demand=True) as project:
        directory = models_dir or project.config.path.resolve().parent / "models"
        with project.exclusive_run(f"promote {alias}"):
            return promote(project, directory, name, alias, note)


def history_from_path(config_path: Path, alias: str | None = None) -> pa.Table:
    with Project.open(config_path, read_only=True) as project:
        return alias_history(project, alias)
